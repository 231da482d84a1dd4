/**
 * The fault proxy is test infrastructure that other tests will trust to break connections in a
 * specific way, so each fault is checked here against a plain `ws` echo server. No timers: "nothing
 * arrived" is asserted after a later round trip on a fresh connection through the same proxy has
 * completed, which is far longer than the lost message would have needed.
 */
import { type AddressInfo, type Socket, createConnection } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { freePort } from "../../../signaling-server/test/support/free-port.js";
import { type FaultProxy, startFaultProxy } from "./support/fault-proxy.js";

/** An echo server that also records every message it received, so tests can look at the server side. */
interface EchoServer {
  wss: WebSocketServer;
  port: number;
  received: string[];
  /** The TCP socket under each server-side WebSocket, in connection order. */
  tcp: Socket[];
  /** Resolves when the server receives `message`. */
  receives(message: string): Promise<void>;
}

async function startEchoServer(): Promise<EchoServer> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  const received: string[] = [];
  const waiters: { message: string; resolve: () => void }[] = [];
  const tcp: Socket[] = [];
  wss.on("connection", (socket, request) => {
    tcp.push(request.socket);
    socket.on("error", () => {});
    socket.on("message", (data, isBinary) => {
      const message = data.toString();
      received.push(message);
      for (const waiter of waiters.filter((w) => w.message === message)) waiter.resolve();
      socket.send(data, { binary: isBinary });
    });
  });
  return {
    wss,
    port: (wss.address() as AddressInfo).port,
    received,
    tcp,
    receives: (message) =>
      received.includes(message) ? Promise.resolve() : new Promise((resolve) => waiters.push({ message, resolve })),
  };
}

let echo: EchoServer;
let proxy: FaultProxy;
const clients: WebSocket[] = [];

beforeEach(async () => {
  echo = await startEchoServer();
  proxy = await startFaultProxy({ host: "127.0.0.1", port: echo.port });
});

afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await proxy.close();
  for (const socket of echo.wss.clients) socket.terminate();
  await new Promise<void>((resolve) => echo.wss.close(() => resolve()));
});

/** A client WebSocket, not yet open; terminated after the test. */
function connect(url = proxy.wsUrl()): WebSocket {
  const ws = new WebSocket(url);
  ws.on("error", () => {});
  clients.push(ws);
  return ws;
}

async function open(url?: string): Promise<WebSocket> {
  const ws = connect(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("close", (code) => reject(new Error(`closed with ${code} before opening`)));
  });
  return ws;
}

const nextMessage = (ws: WebSocket): Promise<string> => new Promise((resolve) => ws.once("message", (data) => resolve(data.toString())));

const closed = (ws: WebSocket): Promise<number> =>
  ws.readyState === WebSocket.CLOSED ? Promise.reject(new Error("already closed")) : new Promise((resolve) => ws.once("close", (code) => resolve(code)));

async function roundTrip(ws: WebSocket, message: string): Promise<string> {
  const reply = nextMessage(ws);
  ws.send(message);
  return reply;
}

/** The TCP socket under a client WebSocket (public through the 'upgrade' response). */
function tcpOf(ws: WebSocket): Promise<Socket> {
  return new Promise((resolve) => ws.once("upgrade", (response) => resolve(response.socket)));
}

/**
 * How a TCP socket ends: "reset" for an RST (ECONNRESET), "fin" for an orderly end. A WebSocket
 * says 1006 for both, so this is how the reset and drop tests tell them apart.
 */
function tcpEnding(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNRESET" ? "reset" : String(error.code)));
    socket.once("end", () => resolve("fin"));
  });
}

/** Records whatever a client receives from now on. */
function record(ws: WebSocket): string[] {
  const got: string[] = [];
  ws.on("message", (data) => got.push(data.toString()));
  return got;
}

/** The server-side socket of the most recent connection. */
function lastServerSocket(): WebSocket {
  return [...echo.wss.clients].at(-1)!;
}

describe("fault proxy", () => {
  it("forwards both ways and counts pairs and chunks", async () => {
    const counted = { "to-server": 0, "to-client": 0 };
    proxy.onChunk = (direction, bytes) => (counted[direction] += bytes);
    expect(proxy.wsUrl("/socket")).toBe(`ws://127.0.0.1:${proxy.port}/socket`);
    const ws = await open();
    expect(await roundTrip(ws, "hello")).toBe("hello");
    expect(proxy.connections).toBe(1);
    expect(proxy.accepted).toBe(1);
    expect(counted["to-server"]).toBeGreaterThan(0);
    expect(counted["to-client"]).toBeGreaterThan(0);

    // An orderly close goes through, and the pair goes away with it.
    const code = closed(ws);
    ws.close(1000);
    expect(await code).toBe(1000);
    expect(proxy.connections).toBe(0);
  });

  // reset() and drop() both end the pair at once with 1006 on both sides; only the TCP ending differs.
  it.each([
    ["reset", "sends an RST both ways: 1006 and ECONNRESET on both sides", "reset"],
    ["drop", "closes both sides with a FIN but no close frame (1006)", "fin"],
  ] as const)("%s() %s", async (fault, _does, ending) => {
    const ws = connect();
    const clientTcp = tcpOf(ws);
    await new Promise((resolve) => ws.once("open", resolve));
    expect(await roundTrip(ws, "before")).toBe("before");
    const clientEnding = tcpEnding(await clientTcp);
    const serverEnding = tcpEnding(echo.tcp.at(-1)!);
    const clientCode = closed(ws);
    const serverCode = closed(lastServerSocket());
    proxy[fault]();
    expect(proxy.connections).toBe(0);
    expect(await clientCode).toBe(1006);
    expect(await serverCode).toBe(1006);
    expect(await clientEnding).toBe(ending);
    expect(await serverEnding).toBe(ending);
  });

  it("stall() keeps the client open but nothing goes through, while a new connection works", async () => {
    const stalled = await open();
    expect(await roundTrip(stalled, "before")).toBe("before");
    proxy.stall();
    const got = record(stalled);
    stalled.send("lost");

    const fresh = await open();
    expect(await roundTrip(fresh, "fresh")).toBe("fresh");

    expect(echo.received).not.toContain("lost");
    expect(got).toEqual([]);
    expect(stalled.readyState).toBe(WebSocket.OPEN);
    expect(proxy.connections).toBe(2);
  });

  it("a stalled pair is still destroyed by close()", async () => {
    const stalled = await open();
    proxy.stall();
    const code = closed(stalled);
    await proxy.close();
    expect(await code).toBe(1006);
  });

  it("a stalled pair is torn down when one end goes", async () => {
    const stalled = await open();
    const serverCode = closed(lastServerSocket());
    proxy.stall();
    stalled.terminate();
    expect(await serverCode).toBe(1006);
    expect(proxy.connections).toBe(0);
  });

  it('halfOpen("to-client"): the server gets the message, the client gets nothing back', async () => {
    const ws = await open();
    proxy.halfOpen("to-client");
    const got = record(ws);
    ws.send("one-way");
    await echo.receives("one-way");

    // The echo of "one-way" was sent before this round trip started; it was discarded, not late.
    const fresh = await open();
    expect(await roundTrip(fresh, "fresh")).toBe("fresh");
    expect(got).toEqual([]);
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('halfOpen("to-server"): the client still hears the server, the server hears nothing', async () => {
    const ws = await open();
    const serverSide = lastServerSocket();
    proxy.halfOpen("to-server");
    ws.send("unheard");
    const push = nextMessage(ws);
    serverSide.send("push");
    expect(await push).toBe("push");

    const fresh = await open();
    expect(await roundTrip(fresh, "fresh")).toBe("fresh");
    expect(echo.received).not.toContain("unheard");
  });

  it("block() refuses new connections but leaves existing ones; unblock() restores", async () => {
    const existing = await open();
    proxy.block();
    const refused = connect();
    const failed = new Promise<boolean>((resolve) => refused.once("error", () => resolve(true)));
    expect(await closed(refused)).toBe(1006);
    expect(await failed).toBe(true);
    // Refused with an RST, not a FIN: what a client sees from a port nothing answers on.
    const raw = createConnection({ host: "127.0.0.1", port: proxy.port });
    expect(await tcpEnding(raw)).toBe("reset");
    raw.destroy();
    expect(await roundTrip(existing, "still here")).toBe("still here");
    expect(proxy.accepted).toBe(1);

    proxy.unblock();
    const again = await open();
    expect(await roundTrip(again, "back")).toBe("back");
    expect(proxy.accepted).toBe(2);
  });

  it("an upstream that refuses the connection closes the client side", async () => {
    // A port that was just free: nothing listens there any more.
    const deadPort = await freePort();

    const dead = await startFaultProxy({ host: "127.0.0.1", port: deadPort });
    try {
      const ws = connect(dead.wsUrl());
      expect(await closed(ws)).toBe(1006);
      expect(dead.accepted).toBe(1);
      expect(dead.connections).toBe(0);
    } finally {
      await dead.close();
    }
  });
});
