/**
 * The signaling connection's life as a game sees it: up, down when the server goes away (every
 * virtual stream ends with a disconnect event), reconnection with the same virtual IP, and
 * simulated latency keeping stream order; which close codes it reconnects after.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import wrtc from "@roamhq/wrtc";
import { describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { Channel, CloseCode, ControlType, FrameDecoder, PROTOCOL_VERSION, Priority, Resume, Resumed, Welcome, encodeFrame } from "@gmnet/protocol";
import { type NetworkOptions, createEngine, createMemoryStorage } from "../../src/index.js";
import { EventLog, type TestNetwork, sendPacket, startNetwork, text } from "./support.js";

/** A host engine listening on `port` (with `hostOptions`) and a client engine whose stream to it is connected. */
async function connectedStream(network: TestNetwork, port: number, hostOptions: NetworkOptions = {}) {
  const host = network.engine(hostOptions);
  const hostLog = new EventLog(host);
  const server = host.network_create_server(host.network_socket_tcp, port, 4);
  const ip = (await hostLog.next({ type: host.network_type_up })).ip as string;
  const client = network.engine();
  const clientLog = new EventLog(client);
  const socket = client.network_create_socket(client.network_socket_tcp);
  client.network_connect(socket, ip, port);
  await clientLog.next({ type: client.network_type_non_blocking_connect, succeeded: 1 });
  return { host, hostLog, server, client, clientLog, socket };
}

describe("signaling connection lifecycle", () => {
  it("ends streams with disconnect events when the server shuts down, then reconnects by itself while a server socket needs it", async () => {
    const network = await startNetwork();
    const { host, hostLog, server, client, clientLog, socket } = await connectedStream(network, 6000, { secret: "host-secret-host-secret-0001" });
    await hostLog.next({ type: host.network_type_connect, id: server });
    await expect.poll(() => host.network_get_stats(-1)!.rtt).toBeGreaterThanOrEqual(0);

    await network.server.close();
    expect(await clientLog.next({ type: client.network_type_disconnect, id: socket })).toMatchObject({ error: "E_NETWORK_SHUTDOWN" });
    expect(await hostLog.next({ type: host.network_type_down })).toMatchObject({ id: -1, error: "E_NETWORK_SHUTDOWN" });
    // No round trip to show while the server is gone (not the last one measured).
    expect(host.network_get_stats(-1)!.rtt).toBe(-1);
    expect(host.network_get_stats(server)!.rtt).toBe(-1);

    // A new server on another port; the host keeps its listening socket and reconnects by itself.
    const next = await startNetwork();
    host.network_set_config(host.network_config_signaling_url, next.url);
    host.network_set_config(host.network_config_app_key, "test-app");
    const up = await hostLog.next({ type: host.network_type_up }, 20_000);
    expect(up.ip).toMatch(/^10\./);
    expect(host.network_get_config(host.network_config_connected)).toBe(1);
    const again = next.engine();
    const againLog = new EventLog(again);
    const reconnect = again.network_create_socket(again.network_socket_tcp);
    again.network_connect(reconnect, up.ip as string, 6000);
    expect(await againLog.next({ type: again.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    host.network_shutdown();
    client.network_shutdown();
    await next.close();
  });

  it("delays stream data by the simulated latency without reordering it, and measures round trips", async () => {
    const network = await startNetwork();
    try {
      const { host, hostLog, client, socket } = await connectedStream(network, 6100);
      client.network_set_config(client.network_config_simulate_latency, 40);
      client.network_set_config(client.network_config_simulate_jitter, 30);
      const started = Date.now();
      for (let i = 0; i < 20; i++) sendPacket(client, socket, `m${i}`);
      const received: string[] = [];
      for (let i = 0; i < 20; i++) received.push(text((await hostLog.next({ type: host.network_type_data })).bytes));
      expect(received).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(Date.now() - started).toBeGreaterThanOrEqual(40);
      const stats = client.network_get_stats(socket)!;
      expect(stats).toMatchObject({ packets_sent: 20 });
      const totals = client.network_get_stats(-1)!;
      expect(totals.connected).toBe(1);
      expect(totals.rtt).toBeGreaterThanOrEqual(0);
      expect(totals.signaling_bytes_sent).toBeGreaterThan(0);
    } finally {
      await network.close();
    }
  });

  it("resumes its session at once after close 4008 HANDOVER (the server stopped and keeps it for another node)", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await once(wss, "listening");
    /** Each connection's first message: HELLO, then RESUME {sessionId, received} when the engine resumes. */
    const resumes: Array<{ sessionId: string; received: number }> = [];
    wss.on("connection", (ws) => {
      ws.once("message", (data: Buffer) => {
        const frames = new FrameDecoder({ maxPayload: 1 << 20 }).push(data);
        const resume = frames.find((frame) => frame.channel === Channel.CONTROL && frame.type === ControlType.RESUME);
        if (resume !== undefined) resumes.push(Resume.decode(resume.payload));
        const welcome = Welcome.encode({ version: PROTOCOL_VERSION, virtualIp: 0x0a000001, sessionId: "handed-over", heartbeatIntervalMs: 15_000, heartbeatTimeoutMs: 10_000, tickRate: 0, maxFrameSize: 65_536, serverTime: Date.now() });
        ws.send(Buffer.concat([encodeFrame(Channel.CONTROL, ControlType.WELCOME, Priority.CRITICAL, welcome), encodeFrame(Channel.CONTROL, ControlType.RESUMED, Priority.CRITICAL, Resumed.encode({ resumed: resumes.length > 1, received: 0, resumeWindowMs: 30_000 }))]));
        // The first connection is handed over as soon as it is open.
        if (resumes.length === 1) ws.close(CloseCode.HANDOVER, "server stopping; resume this session on another node");
      });
    });
    const gm = createEngine({ storage: createMemoryStorage(), network: { WebSocket, wrtc, signalingUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, appKey: "test-app", reconnectDelayMs: 20 } });
    const log = new EventLog(gm);
    try {
      gm.network_create_server(gm.network_socket_tcp, 6200, 4);
      await log.next({ type: gm.network_type_up });
      await expect.poll(() => resumes.length, { timeout: 5000 }).toBe(2);
      // A new session first, then the same one resumed: nothing was lost, so no down event either.
      expect(resumes).toEqual([
        { sessionId: "", received: 0 },
        { sessionId: "handed-over", received: 0 },
      ]);
      log.drain();
      expect(log.seen.filter((event) => event.type === gm.network_type_down)).toEqual([]);
    } finally {
      gm.network_shutdown();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
  });

  it("reconnects with backoff after close 4007 (the server's storage was unavailable), never after a 45xx", async () => {
    /** A server that closes every connection with `code` when its HELLO arrives; counts the attempts. */
    const refusing = async (code: number) => {
      const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
      await once(wss, "listening");
      const counter = { attempts: 0 };
      wss.on("connection", (ws) => {
        counter.attempts++;
        ws.once("message", () => ws.close(code, "refused"));
      });
      const gm = createEngine({ storage: createMemoryStorage(), network: { WebSocket, wrtc, signalingUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, appKey: "test-app" } });
      const log = new EventLog(gm);
      // A listening server socket: the engine needs the network, so it keeps trying.
      gm.network_create_server(gm.network_socket_tcp, 6200, 4);
      await log.next({ type: gm.network_type_up_failed });
      return { counter, close: () => (gm.network_shutdown(), new Promise<void>((resolve) => wss.close(() => resolve()))) };
    };
    const unavailable = await refusing(CloseCode.STORAGE_UNAVAILABLE);
    const refused = await refusing(CloseCode.BAD_HELLO);
    try {
      await expect.poll(() => unavailable.counter.attempts, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
      expect(refused.counter.attempts).toBe(1);
    } finally {
      await unavailable.close();
      await refused.close();
    }
  });
});
