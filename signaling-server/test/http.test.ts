/** The HTTP side: /healthz for load balancers, /metrics for Prometheus, 404 for the rest. */
import { connect } from "node:net";
import { Channel, CloseCode, PROTOCOL_VERSION } from "@gmnet/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { GmnetServer } from "../src/index.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { getJson, metricValue, metricsText, registerChannel, startServer } from "./support/harness.js";

// A fresh server per test: counts must not see another test's connections still closing.
let server: GmnetServer;
beforeEach(async () => {
  server = await startServer();
});
afterEach(() => server.close());

describe("/healthz", () => {
  it("reports status and counts as JSON", async () => {
    const { status, body } = await getJson(server, "/healthz");
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "ok", protocolVersion: PROTOCOL_VERSION, connections: 0, sessions: 0 });
    expect((body as { uptimeSeconds: number }).uptimeSeconds).toBeGreaterThanOrEqual(0);

    const url = server.address().wsUrl;
    const [a, b] = await Promise.all([ProtocolClient.connect(url), ProtocolClient.connect(url)]);
    const waiting = new ProtocolClient(url); // connected, no Hello yet
    await waiting.opened();
    expect((await getJson(server, "/healthz")).body).toMatchObject({ status: "ok", connections: 3, sessions: 2 });

    waiting.sendRaw("text");
    await waiting.closed();
    a.close();
    b.close();
    await Promise.all([a.closed(), b.closed()]);
  });
});

describe("/healthz while draining", () => {
  /** Resolves with the error code of a TCP connect to `port` (undefined if it connected). */
  const connectError = (port: number) =>
    new Promise<string | undefined>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code));
    });

  it("answers 503 draining until the last WebSocket client is gone, then stops listening", async () => {
    const { url, wsUrl, port } = server.address();
    const client = await ProtocolClient.connect(wsUrl);
    // A paused client reads neither DRAIN nor the close frame, so the close handshake waits.
    client.ws.pause();
    const closing = server.close();

    const response = await fetch(url + "/healthz");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: "draining", connections: 1 });
    expect(client.closeCode).toBeUndefined();

    client.ws.resume();
    expect(await client.closed()).toBe(CloseCode.SERVER_SHUTDOWN);
    await closing;
    expect(await connectError(port)).toBe("ECONNREFUSED");
  });

  it("stops listening once a client that never answers the close handshake has been cut", async () => {
    const { url, wsUrl, port } = server.address();
    const client = await ProtocolClient.connect(wsUrl);
    client.ws.pause();
    const closing = server.close();
    expect((await fetch(url + "/healthz")).status).toBe(503);

    // close() resolves only because the grace period cut the client: it still has not read a byte.
    await closing;
    expect(await connectError(port)).toBe("ECONNREFUSED");
    expect(client.closeCode).toBeUndefined();
    client.ws.resume();
    // The close frame did reach it before the cut.
    expect(await client.closed()).toBe(CloseCode.SERVER_SHUTDOWN);
  });
});

describe("/metrics", () => {
  it("exposes connections, frames, bytes, messages, drops, disconnects and errors in Prometheus text format", async () => {
    const response = await fetch(server.address().url + "/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);

    const url = server.address().wsUrl;
    const first = await ProtocolClient.connect(url);
    const second = await ProtocolClient.connect(url);
    await registerChannel(first, "m");
    first.send(Channel.FIRST_APP + 500, 1, new Uint8Array(4)); // UNKNOWN_CHANNEL
    await first.nextError();
    const replacement = await ProtocolClient.connect(url, { secret: second.secret });
    expect(await second.closed()).toBe(CloseCode.REPLACED);

    const text = await metricsText(server);
    for (const name of ["gmnet_dropped_frames_total", "gmnet_disconnects_total", "gmnet_protocol_errors_total"]) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
    expect(metricValue(text, "gmnet_connections")).toBe(2);
    expect(metricValue(text, "gmnet_frames_received_total")).toBeGreaterThanOrEqual(5);
    expect(metricValue(text, "gmnet_frames_sent_total")).toBeGreaterThanOrEqual(5);
    expect(metricValue(text, "gmnet_bytes_received_total")).toBeGreaterThan(0);
    expect(metricValue(text, "gmnet_bytes_sent_total")).toBeGreaterThan(0);
    expect(metricValue(text, "gmnet_messages_sent_total")).toBeGreaterThanOrEqual(5);
    expect(metricValue(text, "gmnet_disconnects_total", { cause: "replaced" })).toBe(1);
    expect(metricValue(text, "gmnet_protocol_errors_total", { code: "UNKNOWN_CHANNEL" })).toBe(1);
    // Default process metrics come along (one registry per server).
    expect(text).toContain("process_cpu_user_seconds_total");
    first.close();
    replacement.close();
    await Promise.all([first.closed(), replacement.closed()]);
  });
});

describe("other paths", () => {
  it("answers 404 to unknown paths and refuses WebSocket upgrades outside /ws", async () => {
    expect((await fetch(server.address().url + "/nope")).status).toBe(404);
    const ws = new WebSocket(server.address().url.replace("http", "ws") + "/elsewhere");
    const status = await new Promise<number | undefined>((resolve) => {
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode));
      ws.on("error", () => resolve(undefined));
    });
    expect(status).toBe(404);
  });
});
