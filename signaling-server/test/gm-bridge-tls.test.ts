/**
 * TLS on bridge ports: with --tls-cert/--tls-key, a bridge port also takes TLS clients with the
 * server's certificate: `wss://` (an HTML5 export served over https; the client, like GameMaker's
 * HTML5 runner, takes each handshake step and each packet whole in one message) and TLS TCP,
 * beside plain TCP and `ws://` clients on the same port. Without a certificate a ClientHello is
 * plain bytes for the tab. The tab is a real engine hosting network_create_server(_raw).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { Engine } from "@gmnet/engine";
import { EventLog, type TestNetwork, bufferOf, startNetwork } from "../../packages/engine/test/network/support.js";
import { sniffClient } from "../src/bridge/ws-upgrade.js";

const APP = "bridge-tls-app";
const GREETING = Buffer.from("GM:Studio-Connect\0", "latin1");

function u32s(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => out.writeUInt32LE(value >>> 0, i * 4));
  return out;
}

const CLIENT_REPLY = u32s(0xcafebabe, 0xdeadb00b, 16, 0);
const SERVER_CONFIRM = u32s(0xdeafbead, 0xf00dbeeb, 12);

function packet(payload: Uint8Array): Buffer {
  return Buffer.concat([u32s(0xdeadc0de, 12, payload.length), payload]);
}

function pattern(size: number, seed: number): Buffer {
  let state = seed >>> 0;
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/** Waits for a condition that events make true (no sleeping), failing after `timeoutMs`. */
class Waiters {
  private list: Array<() => void> = [];
  wake(): void {
    for (const waiter of this.list.splice(0)) waiter();
  }
  async until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.list.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** The engine's signaling WebSocket, accepting the test's self-signed certificate. */
class InsecureWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { rejectUnauthorized: false });
  }
}

/**
 * Like GameMaker's HTML5 runner on network_socket_ws(s): the first message must be exactly the
 * greeting, the next exactly the confirmation, and every later one exactly one packet.
 */
class Html5Client {
  readonly messages: Buffer[] = [];
  readonly violations: string[] = [];
  closeCode: number | undefined;
  private readonly waiters = new Waiters();
  private taken = 0;
  private step: "greeting" | "confirm" | "packets" = "greeting";

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.violations.push("a text message");
      this.check(data);
      this.messages.push(data);
      this.waiters.wake();
    });
    ws.on("close", (code) => {
      this.closeCode = code;
      this.waiters.wake();
    });
    ws.on("error", () => undefined);
  }

  private check(data: Buffer): void {
    if (this.step === "greeting") {
      if (!data.equals(GREETING)) this.violations.push(`greeting expected, got ${data.length} bytes ${data.subarray(0, 32).toString("hex")}`);
      this.step = "confirm";
    } else if (this.step === "confirm") {
      if (!data.equals(SERVER_CONFIRM)) this.violations.push(`confirmation expected, got ${data.length} bytes ${data.subarray(0, 32).toString("hex")}`);
      this.step = "packets";
    } else if (data.length < 12 || data.readUInt32LE(0) !== 0xdeadc0de || data.readUInt32LE(4) !== 12 || data.readUInt32LE(8) !== data.length - 12) {
      this.violations.push(`one whole packet expected, got ${data.length} bytes ${data.subarray(0, 12).toString("hex")}`);
    }
  }

  static open(url: string): Promise<Html5Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, rejectUnauthorized: false });
      const client = new Html5Client(ws);
      ws.once("error", reject);
      ws.once("open", () => {
        ws.off("error", reject);
        resolve(client);
      });
    });
  }

  async next(timeoutMs = 10_000): Promise<Buffer> {
    await this.waiters.until(() => this.messages.length > this.taken || this.closeCode !== undefined, "a message", timeoutMs);
    if (this.messages.length <= this.taken) throw new Error(`closed (${this.closeCode}) instead of a message`);
    return this.messages[this.taken++]!;
  }

  async handshake(): Promise<void> {
    expect(await this.next()).toEqual(GREETING);
    this.ws.send(CLIENT_REPLY, { binary: true });
    expect(await this.next()).toEqual(SERVER_CONFIRM);
  }

  async readPacket(timeoutMs = 10_000): Promise<Buffer> {
    return (await this.next(timeoutMs)).subarray(12);
  }
}

/** A native GameMaker client's byte stream, over plain TCP or TLS. */
class StreamClient {
  got = Buffer.alloc(0);
  closed = false;
  error: (Error & { code?: string }) | undefined;
  private readonly waiters = new Waiters();

  constructor(readonly socket: Socket | TLSSocket) {
    socket.on("data", (chunk: Buffer) => {
      this.got = Buffer.concat([this.got, chunk]);
      this.waiters.wake();
    });
    socket.on("error", (error) => {
      this.error = error;
      this.waiters.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiters.wake();
    });
  }

  async bytes(count: number, what: string): Promise<Buffer> {
    await this.waiters.until(() => this.got.length >= count || this.closed, what);
    if (this.got.length < count) throw new Error(`closed instead of ${what}`);
    const out = this.got.subarray(0, count);
    this.got = this.got.subarray(count);
    return out;
  }

  async handshake(): Promise<void> {
    expect(await this.bytes(GREETING.length, "the greeting")).toEqual(GREETING);
    this.socket.write(CLIENT_REPLY);
    expect(await this.bytes(12, "the confirmation")).toEqual(SERVER_CONFIRM);
  }

  async readPacket(): Promise<Buffer> {
    const header = await this.bytes(12, "a packet header");
    expect(header.readUInt32LE(0)).toBe(0xdeadc0de);
    return this.bytes(header.readUInt32LE(8), "a packet's payload");
  }

  async closedByServer(): Promise<void> {
    await this.waiters.until(() => this.closed, "the server to close the connection");
  }
}

const folder = mkdtempSync(join(tmpdir(), "gmnet-bridge-tls-"));
const cert = join(folder, "cert.pem");
const key = join(folder, "key.pem");
execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"], { stdio: "ignore" });
afterAll(() => rmSync(folder, { recursive: true, force: true }));

let network: TestNetwork | undefined;
const webClients: Html5Client[] = [];
const streams: StreamClient[] = [];
afterEach(async () => {
  for (const client of webClients.splice(0)) {
    expect(client.violations, "messages the HTML5 runner would have choked on").toEqual([]);
    client.ws.terminate();
  }
  for (const stream of streams.splice(0)) stream.socket.destroy();
  await network?.close();
  network = undefined;
});

async function start(tls: boolean, options: Record<string, unknown> = {}) {
  const bridge = { port: 0, target: "arena", targetPort: 6510, appKey: APP };
  network = await startNetwork({ gmBridges: [bridge], ...(tls ? { tlsCert: cert, tlsKey: key } : {}), ...options }, APP);
  return { net: network, port: network.server.gmBridges()[0]!.port, tls };
}

async function tab(tls: boolean, raw = false) {
  const gm = network!.engine(tls ? { WebSocket: InsecureWebSocket } : {});
  const log = new EventLog(gm);
  const server = raw ? gm.network_create_server_raw(gm.network_socket_tcp, 6510, 8) : gm.network_create_server(gm.network_socket_tcp, 6510, 8);
  expect(server).toBeGreaterThan(0);
  await log.next({ type: gm.network_type_up });
  const claim = gm.network_set_config(gm.network_config_hostname, "arena");
  expect(await log.next({ type: gm.network_type_hostname, id: claim })).toMatchObject({ succeeded: 1 });
  return { gm, log, server };
}

async function web(url: string): Promise<Html5Client> {
  const client = await Html5Client.open(url);
  webClients.push(client);
  return client;
}

function stream(socket: Socket | TLSSocket): StreamClient {
  const client = new StreamClient(socket);
  streams.push(client);
  return client;
}

function tlsStream(port: number): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false });
    const client = stream(socket);
    socket.once("secureConnect", () => resolve(client));
    socket.once("error", reject);
  });
}

function send(gm: Engine, socket: number, bytes: Uint8Array, raw = false): number {
  const buffer = bufferOf(gm, bytes);
  const sent = raw ? gm.network_send_raw(socket, buffer, bytes.length) : gm.network_send_packet(socket, buffer, bytes.length);
  gm.buffer_delete(buffer);
  return sent;
}

function metrics(net: TestNetwork): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = `${net.server.address().url}/metrics`;
    const request = httpsGet(url, { rejectUnauthorized: false }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve(text));
    });
    request.on("error", reject);
  });
}

describe("sniffClient and TLS", () => {
  it("tells a TLS ClientHello record header from other first bytes", () => {
    for (const version of [0x00, 0x01, 0x03, 0x04]) expect(sniffClient(Buffer.from([0x16, 0x03, version, 0x02, 0x00]))).toBe("tls");
    expect(sniffClient(Buffer.from([0x16]))).toBe("more");
    expect(sniffClient(Buffer.from([0x16, 0x03]))).toBe("more");
    expect(sniffClient(Buffer.from([0x16, 0x02, 0x01]))).toBe("tcp");
    expect(sniffClient(Buffer.from([0x16, 0x03, 0x05]))).toBe("tcp");
    expect(sniffClient(Buffer.from([0x17, 0x03, 0x03]))).toBe("tcp");
    // No certificate: a ClientHello is bytes like any others, told at once.
    expect(sniffClient(Buffer.from([0x16, 0x03, 0x01]), false)).toBe("tcp");
    expect(sniffClient(Buffer.from([0x16]), false)).toBe("tcp");
  });
});

describe("GameMaker bridge with TLS configured", () => {
  it("serves a wss:// client, one whole handshake step or packet per message, chatting with the tab", async () => {
    const { port } = await start(true);
    expect(network!.server.gmBridges()[0]!.tls).toBe(true);
    const t = await tab(true);
    const client = await web(`wss://127.0.0.1:${port}/`);
    await client.handshake();
    const accepted = await t.log.next({ type: t.gm.network_type_connect });
    expect(accepted).toMatchObject({ id: t.server, ip: network!.server.gmBridges()[0]!.virtualIp });
    const peer = accepted.socket as number;

    const payloads = [1, 12, 13, 4096, 65_536, 300_000].map((size, i) => pattern(size, i + 1));
    for (const payload of payloads) expect(send(t.gm, peer, payload)).toBe(payload.length);
    for (const payload of payloads) expect((await client.readPacket(20_000)).equals(payload)).toBe(true);
    for (const payload of payloads) client.ws.send(packet(payload), { binary: true });
    for (const payload of payloads) {
      const data = await t.log.next({ type: t.gm.network_type_data, id: peer }, 20_000);
      expect(Buffer.from(data.bytes!).equals(payload)).toBe(true);
    }
    // The client leaving disconnects the tab's socket.
    client.ws.close(1000);
    expect(await t.log.next({ type: t.gm.network_type_disconnect })).toMatchObject({ id: t.server, socket: peer });
  });

  it("serves TLS TCP, plain TCP and ws:// clients on the same port at once", async () => {
    const { port } = await start(true);
    const t = await tab(true);

    const secure = await tlsStream(port);
    await secure.handshake();
    const securePeer = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;

    const plain = stream(connect(port, "127.0.0.1"));
    await plain.handshake();
    const plainPeer = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;

    const ws = await web(`ws://127.0.0.1:${port}/`);
    await ws.handshake();
    const wsPeer = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;
    expect(new Set([securePeer, plainPeer, wsPeer]).size).toBe(3);

    send(t.gm, securePeer, Buffer.from("to tls"));
    send(t.gm, plainPeer, Buffer.from("to plain"));
    send(t.gm, wsPeer, Buffer.from("to ws"));
    expect((await secure.readPacket()).toString()).toBe("to tls");
    expect((await plain.readPacket()).toString()).toBe("to plain");
    expect((await ws.readPacket()).toString()).toBe("to ws");

    secure.socket.write(packet(Buffer.from("from tls")));
    plain.socket.write(packet(Buffer.from("from plain")));
    expect(Buffer.from((await t.log.next({ type: t.gm.network_type_data, id: securePeer })).bytes!).toString()).toBe("from tls");
    expect(Buffer.from((await t.log.next({ type: t.gm.network_type_data, id: plainPeer })).bytes!).toString()).toBe("from plain");

    // The tab closing ends the TLS connection.
    t.gm.network_destroy(securePeer);
    await secure.closedByServer();
    expect(network!.server.gmBridges()[0]!.connections).toBeGreaterThanOrEqual(2);
  });

  it("closes a failed or stalled TLS handshake with a logged reason, counted as refused", async () => {
    const { net, port } = await start(true, { gmBridgeConnectTimeoutMs: 500 });
    // A raw tab: it says nothing, so the connection waits for the client, and its accept shows the stream open (the connect timeout over).
    const t = await tab(true, true);
    const opened = async (): Promise<StreamClient> => {
      const client = stream(connect(port, "127.0.0.1"));
      await t.log.next({ type: t.gm.network_type_connect });
      return client;
    };
    // A handshake record that is not a ClientHello.
    const bogus = await opened();
    bogus.socket.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08]), Buffer.alloc(8, 0xff)]));
    await bogus.closedByServer();
    // The header of a ClientHello, then silence: cut after the handshake timeout.
    const stalled = await opened();
    stalled.socket.write(Buffer.from([0x16, 0x03, 0x01]));
    await stalled.closedByServer();
    // The tab heard both leave.
    await t.log.next({ type: t.gm.network_type_disconnect });
    await t.log.next({ type: t.gm.network_type_disconnect });
    const text = await metrics(net);
    expect(text).toMatch(/gmnet_gm_bridge_refused_total\{bridge="0=arena:6510@bridge-tls-app",reason="tls-error"\} 1/);
    expect(text).toMatch(/gmnet_gm_bridge_refused_total\{bridge="0=arena:6510@bridge-tls-app",reason="tls-timeout"\} 1/);
    await new Waiters().until(() => net.server.gmBridges()[0]!.connections === 0, "the connections to end");
  });
});

describe("GameMaker bridge without TLS configured", () => {
  it("passes a TLS ClientHello to a raw tab as plain bytes", async () => {
    const { net, port } = await start(false);
    expect(net.server.gmBridges()[0]!.tls).toBe(false);
    const t = await tab(false, true);
    const client = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false });
    const hello = stream(client);
    const peer = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;
    let got = Buffer.alloc(0);
    while (got.length < 6) got = Buffer.concat([got, Buffer.from((await t.log.next({ type: t.gm.network_type_data, id: peer })).bytes!)]);
    expect(got[0]).toBe(0x16);
    expect(got[1]).toBe(0x03);
    expect(got[5]).toBe(0x01); // handshake type: ClientHello
    expect(hello.closed).toBe(false);
  });

  it("gives a TLS client of a GameMaker tab the greeting, which its TLS stack rejects", async () => {
    const { port } = await start(false);
    await tab(false);
    const client = stream(tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false }));
    // The greeting is no ServerHello: the client's TLS stack fails and closes.
    await client.closedByServer();
    expect(client.error?.code ?? "").toMatch(/^ERR_SSL_|^ECONNRESET$/);
  });
});
