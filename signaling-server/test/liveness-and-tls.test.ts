/**
 * Two end-to-end promises of the server: a peer that goes silent (its TCP connection still open)
 * is detected by the heartbeat and its stream partners hear SOCKET_CLOSED promptly; and with
 * --tls-cert/--tls-key the same protocol runs over wss.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloseReason, SocketClosed, VSocketType } from "@gmnet/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { createServer } from "../src/index.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { connectPair, nextV, useServer } from "./support/virtual-sockets.js";

describe("a peer that stops answering", () => {
  // Wide enough that the connect handshake always finishes before the silent client is cut.
  const net = useServer({ heartbeatIntervalMs: 500, heartbeatTimeoutMs: 300 });

  it("is cut by the heartbeat and its stream partner gets SOCKET_CLOSED PEER_GONE", async () => {
    const host = await net.client();
    const silent = await net.client("test-app", { answerPings: false });
    const pair = await connectPair(silent, host);
    // The silent client's socket stays open; only the missing pongs can reveal it is gone.
    expect(await nextV(host, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: pair.connId, reason: CloseReason.PEER_GONE });
    expect(await silent.closed()).toBe(1006);
    expect(host.closeCode).toBeUndefined();
  });
});

describe("TLS", () => {
  const folder = mkdtempSync(join(tmpdir(), "gmnet-tls-"));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("serves the protocol over wss when a certificate and key are configured", async () => {
    const cert = join(folder, "cert.pem");
    const key = join(folder, "key.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"], { stdio: "ignore" });
    const server = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent", tlsCert: cert, tlsKey: key });
    await server.ready;
    try {
      expect(server.address().wsUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
      const client = await ProtocolClient.connect(server.address().wsUrl, { tls: { rejectUnauthorized: false } });
      expect(client.welcome.virtualIp).toBeGreaterThan(0);
      client.close();
      await client.closed();
    } finally {
      await server.close();
    }
  });
});
