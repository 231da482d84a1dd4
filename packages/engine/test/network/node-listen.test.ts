/**
 * Real ports (createEngine({ network: { listen } })): a Node host's server socket takes native
 * GameMaker clients over real TCP and GameMaker HTML5-style clients over real WebSockets, next to
 * browser-style engines that connect virtually through the signaling server, all with one set of
 * events. The native and HTML5 clients are written here from the documented wire format with
 * node:net, ws and Buffers (not the engine's codec), as in test/support/gm-test-server.ts.
 *
 * Every real port is chosen by the system (the `port` option maps servers to 0), and every wait is
 * for a condition.
 */
import { type AddressInfo, type Socket, connect, createServer as createTcpServer } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ListenOptions, createEngine, createMemoryStorage } from "../../src/index.js";
import { freePort } from "../../../../signaling-server/test/support/free-port.js";
import { CLIENT_REPLY_PREFIX, GREETING, PACKET_HEADER_SIZE, PACKET_MAGIC, SERVER_CONFIRM, packet, u32s } from "../../../../signaling-server/test/support/gm-native.js";
import { EventLog, type TestNetwork, bufferOf, sendPacket, startNetwork, text } from "./support.js";

/** The client's step-2 reply, with a game id the server does not check. */
const CLIENT_REPLY = Buffer.concat([CLIENT_REPLY_PREFIX, u32s(1234)]);
const textPacket = (payload: string): Buffer => packet(Buffer.from(payload));

/** Any real listen is on 127.0.0.1 on a free port. */
const LISTEN: ListenOptions = { host: "127.0.0.1", port: () => 0 };

/** A native GameMaker client: real TCP, bytes read exactly as they come. */
class NativeClient {
  private received = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => socket.on("close", () => resolve()));
    socket.on("close", () => this.wake?.());
  }

  static open(port: number): Promise<NativeClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(new NativeClient(socket)));
      socket.once("error", reject);
    });
  }

  get localPort(): number {
    return this.socket.localPort!;
  }

  /** The next `count` bytes, once they are all there. */
  async read(count: number): Promise<Buffer> {
    while (this.received.length < count) {
      if (this.socket.destroyed) throw new Error(`closed with ${this.received.length} of ${count} bytes`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const bytes = this.received.subarray(0, count);
    this.received = this.received.subarray(count);
    return bytes;
  }

  /** GameMaker's handshake as a client: greeting, reply (here in two segments), server reply. */
  async handshake(): Promise<void> {
    expect(await this.read(GREETING.length)).toEqual(GREETING);
    this.socket.write(CLIENT_REPLY.subarray(0, 5));
    this.socket.write(CLIENT_REPLY.subarray(5));
    expect(await this.read(SERVER_CONFIRM.length)).toEqual(SERVER_CONFIRM);
  }

  /** The next packet's payload, checking its header. */
  async packet(): Promise<string> {
    const header = await this.read(PACKET_HEADER_SIZE);
    expect(header.readUInt32LE(0)).toBe(PACKET_MAGIC);
    expect(header.readUInt32LE(4)).toBe(PACKET_HEADER_SIZE);
    return (await this.read(header.readUInt32LE(8))).toString();
  }
}

/** A GameMaker HTML5-style client: a WebSocket whose every message is recorded whole. */
class Html5Client {
  readonly messages: Array<{ data: Buffer; text: boolean }> = [];
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      this.messages.push({ data, text: !isBinary });
      this.wake?.();
    });
    this.closed = new Promise((resolve) => socket.on("close", () => resolve()));
  }

  static open(port: number): Promise<Html5Client> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}`);
      const client = new Html5Client(socket);
      socket.once("open", () => resolve(client));
      socket.once("error", reject);
    });
  }

  async next(): Promise<{ data: Buffer; text: boolean }> {
    while (this.messages.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.messages.shift()!;
  }
}

/** How a plain TCP connect to `port` on this machine ends: "connected" or the error code. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

let network: TestNetwork;
beforeEach(async () => {
  network = await startNetwork();
});
afterEach(async () => {
  await network.close();
});

/** A host engine with real ports, a server on virtual port 6510, and its real port and virtual IP. */
async function host(type: "tcp" | "ws", maxClients = 8, raw = false, listen: ListenOptions = LISTEN) {
  const gm = network.engine({ listen });
  const log = new EventLog(gm);
  const socketType = type === "tcp" ? gm.network_socket_tcp : gm.network_socket_ws;
  const server = raw ? gm.network_create_server_raw(socketType, 6510, maxClients) : gm.network_create_server(socketType, 6510, maxClients);
  expect(server).toBeGreaterThan(0);
  const listening = await log.next({ type: gm.network_type_listen });
  expect(listening).toMatchObject({ id: server, server, succeeded: 1, ip: "127.0.0.1" });
  const realPort = listening.port as number;
  expect(realPort).toBeGreaterThan(0);
  const up = await log.next({ type: gm.network_type_up });
  return { gm, log, server, realPort, ip: up.ip as string };
}

describe("real ports (the listen option)", () => {
  it("serves a native GameMaker TCP client and a virtual client with one server socket", async () => {
    const h = await host("tcp");

    const native = await NativeClient.open(h.realPort);
    await native.handshake();
    const nativeJoined = await h.log.next({ type: h.gm.network_type_connect });
    expect(nativeJoined).toMatchObject({ id: h.server, server: h.server, ip: "127.0.0.1", port: native.localPort });
    const nativeSocket = nativeJoined.socket as number;

    const tab = network.engine();
    const tabLog = new EventLog(tab);
    const tabSocket = tab.network_create_socket(tab.network_socket_tcp);
    expect(tab.network_connect_async(tabSocket, h.ip, 6510)).toBe(0);
    expect(await tabLog.next({ type: tab.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1, ip: h.ip, port: 6510 });
    const tabJoined = await h.log.next({ type: h.gm.network_type_connect });
    expect(tabJoined).toMatchObject({ id: h.server, server: h.server, ip: tab.network_get_config(tab.network_config_virtual_ip) });
    const tabAtHost = tabJoined.socket as number;
    expect(tabAtHost).not.toBe(nativeSocket);

    // Native → host: one packet cut in three segments, then two packets glued in one.
    const first = textPacket("split across segments");
    native.socket.write(first.subarray(0, 3));
    native.socket.write(first.subarray(3, 17));
    native.socket.write(first.subarray(17));
    native.socket.write(Buffer.concat([textPacket("glued one"), textPacket("glued two")]));
    for (const expected of ["split across segments", "glued one", "glued two"]) {
      const data = await h.log.next({ type: h.gm.network_type_data, id: nativeSocket });
      expect(data).toMatchObject({ server: h.server, ip: "127.0.0.1", port: native.localPort, message_type: h.gm.network_send_binary });
      expect(text(data.bytes)).toBe(expected);
    }

    // Host → native, and both ways with the virtual client.
    expect(sendPacket(h.gm, nativeSocket, "to native")).toBe(9);
    expect(sendPacket(h.gm, nativeSocket, "and again")).toBe(9);
    expect(await native.packet()).toBe("to native");
    expect(await native.packet()).toBe("and again");
    expect(sendPacket(tab, tabSocket, "from the tab")).toBe(12);
    expect(text((await h.log.next({ type: h.gm.network_type_data, id: tabAtHost })).bytes)).toBe("from the tab");
    expect(sendPacket(h.gm, tabAtHost, "to the tab")).toBe(10);
    expect(text((await tabLog.next({ type: tab.network_type_data })).bytes)).toBe("to the tab");

    const stats = h.gm.network_get_stats(nativeSocket)!;
    expect(stats.bytes_received).toBeGreaterThan(0);
    expect(stats.bytes_sent).toBe(18);

    // Disconnects: the native client leaves; the host drops the virtual one.
    native.socket.end();
    expect(await h.log.next({ type: h.gm.network_type_disconnect })).toMatchObject({ id: h.server, socket: nativeSocket, ip: "127.0.0.1", error: "E_NETWORK_CLOSED" });
    expect(sendPacket(h.gm, nativeSocket, "late")).toBe(-1);
    h.gm.network_destroy(tabAtHost);
    expect(await tabLog.next({ type: tab.network_type_disconnect })).toMatchObject({ id: tabSocket, error: "E_NETWORK_CLOSED" });

    // The host drops a native client; the virtual client leaves by itself.
    const second = await NativeClient.open(h.realPort);
    await second.handshake();
    const secondJoined = await h.log.next({ type: h.gm.network_type_connect });
    h.gm.network_destroy(secondJoined.socket as number);
    await second.closed;
    const again = tab.network_create_socket(tab.network_socket_tcp);
    tab.network_connect_async(again, h.ip, 6510);
    const againAtHost = (await h.log.next({ type: h.gm.network_type_connect })).socket;
    tab.network_destroy(again);
    expect(await h.log.next({ type: h.gm.network_type_disconnect })).toMatchObject({ socket: againAtHost, error: "E_NETWORK_CLOSED" });
  });

  it("raw TCP: counts real and virtual clients against max_client together, and closes the real port with the server", async () => {
    const h = await host("tcp", 1, true);
    const native = await NativeClient.open(h.realPort);
    const joined = await h.log.next({ type: h.gm.network_type_connect });
    expect(joined.port).toBe(native.localPort);

    native.socket.write("raw bytes");
    expect(text((await h.log.next({ type: h.gm.network_type_data })).bytes)).toBe("raw bytes");
    const buffer = bufferOf(h.gm, "no header");
    expect(h.gm.network_send_raw(joined.socket as number, buffer, 9)).toBe(9);
    expect((await native.read(9)).toString()).toBe("no header");

    // The one place is taken: a second native client is closed, a virtual one refused.
    const refused = await NativeClient.open(h.realPort);
    await refused.closed;
    const tab = network.engine();
    const tabLog = new EventLog(tab);
    const tabSocket = tab.network_create_socket(tab.network_socket_tcp);
    tab.network_connect_raw_async(tabSocket, h.ip, 6510);
    expect(await tabLog.next({ type: tab.network_type_non_blocking_connect })).toMatchObject({ succeeded: 0, error: "E_NETWORK_REFUSED" });

    h.gm.network_destroy(h.server);
    await native.closed;
    expect(await tryConnect(h.realPort)).toBe("ECONNREFUSED");
    expect(h.log.seen.filter((event) => event.type === h.gm.network_type_connect)).toHaveLength(1);
  });

  it("WebSocket: each handshake step and each packet is one whole message, as GameMaker's HTML5 runner needs", async () => {
    const h = await host("ws", 8, false, { ...LISTEN, WebSocketServer });
    const html5 = await Html5Client.open(h.realPort);
    expect(await html5.next()).toEqual({ data: GREETING, text: false });
    html5.socket.send(CLIENT_REPLY);
    expect(await html5.next()).toEqual({ data: SERVER_CONFIRM, text: false });
    const joined = await h.log.next({ type: h.gm.network_type_connect });
    expect(joined).toMatchObject({ id: h.server, ip: "127.0.0.1" });
    const peer = joined.socket as number;

    expect(sendPacket(h.gm, peer, "first")).toBe(5);
    expect(sendPacket(h.gm, peer, "second")).toBe(6);
    expect(await html5.next()).toEqual({ data: textPacket("first"), text: false });
    expect(await html5.next()).toEqual({ data: textPacket("second"), text: false });

    html5.socket.send(textPacket("from html5"));
    expect(text((await h.log.next({ type: h.gm.network_type_data, id: peer })).bytes)).toBe("from html5");

    // A virtual client reaches the same ws server through the signaling server.
    const tab = network.engine();
    const tabLog = new EventLog(tab);
    const tabSocket = tab.network_create_socket(tab.network_socket_tcp);
    tab.network_connect_async(tabSocket, h.ip, 6510);
    expect(await tabLog.next({ type: tab.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    expect(await h.log.next({ type: h.gm.network_type_connect })).toMatchObject({ ip: tab.network_get_config(tab.network_config_virtual_ip) });

    html5.socket.close(1000);
    expect(await h.log.next({ type: h.gm.network_type_disconnect })).toMatchObject({ socket: peer, error: "E_NETWORK_CLOSED" });
    h.gm.network_destroy(h.server);
    expect(await tabLog.next({ type: tab.network_type_disconnect })).toMatchObject({ id: tabSocket });
    expect(await tryConnect(h.realPort)).toBe("ECONNREFUSED");
  });

  it("raw WebSocket: text stays text both ways (ws imported by the engine itself)", async () => {
    const h = await host("ws", 8, true);
    const html5 = await Html5Client.open(h.realPort);
    const joined = await h.log.next({ type: h.gm.network_type_connect });
    html5.socket.send("hello as text");
    expect(await h.log.next({ type: h.gm.network_type_data })).toMatchObject({ id: joined.socket, message_type: h.gm.network_send_text, size: 13 });
    const buffer = bufferOf(h.gm, "reply");
    expect(h.gm.network_send_raw(joined.socket as number, buffer, 5, h.gm.network_send_text)).toBe(5);
    expect(await html5.next()).toEqual({ data: Buffer.from("reply"), text: true });
    h.gm.network_destroy(joined.socket as number);
    await html5.closed;
  });

  it("reports a real port in use with network_type_listen E_NETWORK_LISTEN, and needs no signaling server", async () => {
    const taken = createTcpServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    const gm = createEngine({ storage: createMemoryStorage(), network: { listen: { host: "127.0.0.1", port: () => port } } });
    const log = new EventLog(gm);
    try {
      const server = gm.network_create_server(gm.network_socket_tcp, 6510, 4);
      expect(server).toBeGreaterThan(0);
      expect(await log.next({ type: gm.network_type_listen })).toMatchObject({ id: server, succeeded: 0, port, error: "E_NETWORK_LISTEN" });
      // Without a signaling server set, the engine did not try to reach one (no network_type_up_failed).
      expect(log.seen.some((event) => event.type === gm.network_type_up_failed)).toBe(false);
    } finally {
      gm.network_shutdown();
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it("is off by default: servers listen on the virtual IP only", async () => {
    const port = await freePort();
    const gm = network.engine();
    const log = new EventLog(gm);
    expect(gm.network_create_server(gm.network_socket_tcp, port, 4)).toBeGreaterThan(0);
    expect(gm.network_create_server(gm.network_socket_ws, 6511, 4)).toBe(-1);
    await log.next({ type: gm.network_type_up });
    expect(await tryConnect(port)).toBe("ECONNREFUSED");
    expect(log.seen.some((event) => event.type === gm.network_type_listen)).toBe(false);
  });
});
