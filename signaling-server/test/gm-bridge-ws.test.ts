/**
 * WebSocket clients on a bridge port (GameMaker HTML5 exports, network_socket_ws): the client here
 * is a `ws` WebSocket that, like GameMaker's HTML5 runner, takes each handshake step and each
 * packet whole in one message and fails the test if one is split across messages or two are glued
 * into one. The tab is a real engine hosting network_create_server(_raw).
 */
import { type Socket, connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type TestNetwork, sendPacket } from "../../packages/engine/test/network/support.js";
import type { GmBridgeSpec } from "../src/bridge/spec.js";
import { hostTab, metricsText, startBridges } from "./support/gm-bridge-setup.js";
import { Html5Client } from "./support/gm-html5-client.js";
import { CLIENT_REPLY, GREETING, SERVER_CONFIRM, Waiters, packet, pattern, u32s } from "./support/gm-native.js";

const APP = "bridge-ws-app";

let network: TestNetwork | undefined;
const clients: Html5Client[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.finish();
  for (const socket of sockets.splice(0)) socket.destroy();
  await network?.close();
  network = undefined;
});

/** A network with `bridges`; `port` is the first bridge's. */
async function start(bridges: Array<Partial<GmBridgeSpec>> = [{}], options: Record<string, unknown> = {}) {
  network = await startBridges(APP, bridges, options);
  return { net: network, port: network.server.gmBridges()[0]!.port };
}

function tab(options: { raw?: boolean; maxClients?: number } = {}) {
  return hostTab(network!, options);
}

/** The WebSocket URL of a bridge port. */
const wsUrl = (port: number): string => `ws://127.0.0.1:${port}/`;

async function html5(port: number, gamemaker = true): Promise<Html5Client> {
  const client = await Html5Client.open(wsUrl(port), gamemaker);
  clients.push(client);
  return client;
}

/** An HTML5 client in GameMaker mode that has done GameMaker's handshake. */
async function handshaken(port: number): Promise<Html5Client> {
  const client = await html5(port);
  await client.handshake();
  return client;
}

/** A plain TCP connection that resolves once the server closed it. */
function tcpClosedByServer(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    sockets.push(socket);
    let received = 0;
    socket.on("data", (chunk) => (received += chunk.length));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(received));
    socket.once("connect", () => undefined);
    setTimeout(() => reject(new Error("the server did not close the TCP connection")), 10_000).unref();
  });
}

describe("GameMaker bridge, WebSocket clients", () => {
  it("does GameMaker's handshake and carries packets of 1 byte to 1 MiB both ways, one whole packet per message", async () => {
    const { net } = await start();
    const [bridge] = net.server.gmBridges();
    const t = await tab();
    const client = await handshaken(bridge!.port);
    const accepted = await t.log.next({ type: t.gm.network_type_connect });
    expect(accepted).toMatchObject({ id: t.server, ip: bridge!.virtualIp });
    const peer = accepted.socket as number;

    const sizes = [1, 2, 11, 12, 13, 255, 4096, 65_535, 65_536, 300_000, 1 << 20];
    const payloads = sizes.map((size, i) => pattern(size, i + 1));
    // Tab → client: sent back to back, so the stream glues them and the server's frames split the big ones.
    for (const payload of payloads) expect(sendPacket(t.gm, peer, payload)).toBe(payload.length);
    for (const payload of payloads) expect((await client.readPacket(20_000)).equals(payload)).toBe(true);

    // Client → tab: one packet per message, as the runner sends.
    for (const payload of payloads) client.ws.send(packet(payload), { binary: true });
    for (const payload of payloads) {
      const data = await t.log.next({ type: t.gm.network_type_data, id: peer }, 20_000);
      expect(data.size).toBe(payload.length);
      expect(Buffer.from(data.bytes!).equals(payload)).toBe(true);
    }
    // Messages are a byte stream to the tab: packets glued into one message, or one split over two, arrive whole.
    const glued = Buffer.concat([packet(Buffer.from("a")), packet(Buffer.from("bc")), packet(Buffer.from("def"))]);
    client.ws.send(glued.subarray(0, 20));
    client.ws.send(glued.subarray(20));
    for (const expected of ["a", "bc", "def"]) expect(Buffer.from((await t.log.next({ type: t.gm.network_type_data, id: peer })).bytes!).toString()).toBe(expected);
    expect(client.messages).toHaveLength(2 + payloads.length);
  });

  it("serves a WebSocket client and a native TCP client on the same port at once", async () => {
    const { port } = await start();
    const t = await tab();
    const web = await handshaken(port);
    const webPeer = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;

    const native = connect(port, "127.0.0.1");
    sockets.push(native);
    let got = Buffer.alloc(0);
    const waiters = new Waiters();
    native.on("data", (chunk) => {
      got = Buffer.concat([got, chunk]);
      waiters.wake();
    });
    await waiters.until(() => got.length >= GREETING.length, "the greeting over TCP");
    expect(got.equals(GREETING)).toBe(true);
    native.write(CLIENT_REPLY);
    await waiters.until(() => got.length >= GREETING.length + 12, "the confirmation over TCP");
    const nativePeer = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;
    expect(nativePeer).not.toBe(webPeer);

    sendPacket(t.gm, webPeer, Buffer.from("to web"));
    sendPacket(t.gm, nativePeer, Buffer.from("to native"));
    expect((await web.readPacket()).toString()).toBe("to web");
    await waiters.until(() => got.length >= 30 + 12 + 9, "a packet over TCP");
    expect(got.subarray(30).equals(packet(Buffer.from("to native")))).toBe(true);
  });

  it("passes raw bytes through to a raw server: each chunk the tab sends is one message, text and binary messages arrive as bytes", async () => {
    const { port } = await start();
    const t = await tab({ raw: true });
    const client = await html5(port, false);
    const peer = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;

    client.ws.send("hello ");
    client.ws.send(Buffer.from("world"), { binary: true });
    let got = "";
    while (got.length < 11) got += Buffer.from((await t.log.next({ type: t.gm.network_type_data, id: peer })).bytes!).toString();
    expect(got).toBe("hello world");

    // Starts like the greeting, then differs: raw, nothing held back.
    const chunks = [Buffer.from("GM:Stu"), Buffer.from("dio"), pattern(100_000, 3)];
    for (const chunk of chunks) expect(sendPacket(t.gm, peer, chunk, true)).toBe(chunk.length);
    let back = Buffer.alloc(0);
    while (back.length < 100_009) back = Buffer.concat([back, await client.next()]);
    expect(back.equals(Buffer.concat(chunks))).toBe(true);
    // What the tab sent as it came (its engine may have glued the sends), the first bytes not held back past the mismatch.
    expect(client.messages[0]!.subarray(0, 6).toString()).toBe("GM:Stu");
  });

  it("passes a plain HTTP request (no upgrade) to a raw server as bytes", async () => {
    const { port } = await start();
    const t = await tab({ raw: true });
    const request = "GET /index.html HTTP/1.1\r\nHost: arena\r\n\r\n";
    const socket = connect(port, "127.0.0.1");
    sockets.push(socket);
    socket.write(request);
    const peer = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;
    let got = "";
    while (got.length < request.length) got += Buffer.from((await t.log.next({ type: t.gm.network_type_data, id: peer })).bytes!).toString();
    expect(got).toBe(request);
  });

  it("closes both ways: the client leaving disconnects the tab's socket, the tab closing closes the WebSocket", async () => {
    const { port } = await start();
    const t = await tab();
    const leaving = await handshaken(port);
    const first = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;
    leaving.ws.close(1000);
    expect(await t.log.next({ type: t.gm.network_type_disconnect })).toMatchObject({ id: t.server, socket: first });
    expect(await leaving.closed()).toBe(1000);

    const staying = await handshaken(port);
    const second = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;
    t.gm.network_destroy(second);
    expect(await staying.closed()).toBe(1000);
  });

  it("closes the WebSocket with a logged reason when the tab's GameMaker stream is malformed", async () => {
    const { port } = await start();
    // A raw server that starts like a GameMaker one, then sends a bad packet header.
    const t = await tab({ raw: true });
    const client = await html5(port, false);
    const peer = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;
    sendPacket(t.gm, peer, Buffer.concat([GREETING, SERVER_CONFIRM, packet(Buffer.from("ok")), u32s(0xdeadbeef, 12, 1), Buffer.from("x")]), true);
    expect(await client.closed()).toBe(1011);
    expect(client.closeReason).toMatch(/malformed GameMaker stream/);
    expect(client.messages.map((message) => message.length)).toEqual([GREETING.length, 12, 14]);
    expect(await t.log.next({ type: t.gm.network_type_disconnect })).toMatchObject({ socket: peer });
  });

  it("applies the per-address and per-bridge limits to WebSocket clients too", async () => {
    const { net } = await start([{}, { targetPort: 6511 }], { gmBridgeMaxPerAddress: 2, gmBridgeMaxConnections: 2 });
    const [x, y] = net.server.gmBridges();
    const t = await tab();
    const a = await handshaken(x!.port);
    await handshaken(x!.port);
    // Bridge x is full: refused at accept, WebSocket or TCP.
    await expect(Html5Client.open(wsUrl(x!.port))).rejects.toThrow();
    expect(await tcpClosedByServer(x!.port)).toBe(0);
    // Bridge y has room, but this address has its two connections.
    await expect(Html5Client.open(wsUrl(y!.port))).rejects.toThrow();
    // A slot comes free when a connection ends.
    a.ws.close();
    await t.log.next({ type: t.gm.network_type_disconnect });
    await a.closed();
    await new Waiters().until(() => net.server.gmBridges()[0]!.connections === 1, "the slot to come free");
    await handshaken(x!.port);
    const metrics = await metricsText(net);
    expect(metrics).toMatch(/gmnet_gm_bridge_refused_total\{bridge="0=arena:6510@bridge-ws-app",reason="max-connections"\} 2/);
    expect(metrics).toMatch(/gmnet_gm_bridge_refused_total\{bridge="0=arena:6511@bridge-ws-app",reason="max-per-address"\} 1/);
  });
});
