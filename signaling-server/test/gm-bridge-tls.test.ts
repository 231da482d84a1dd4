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
import { connect as tlsConnect } from "node:tls";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type TestNetwork, sendPacket } from "../../packages/engine/test/network/support.js";
import { sniffClient } from "../src/bridge/ws-upgrade.js";
import { hostTab, startBridges } from "./support/gm-bridge-setup.js";
import { Html5Client } from "./support/gm-html5-client.js";
import { NativeStream, Waiters, packet, pattern } from "./support/gm-native.js";

const APP = "bridge-tls-app";

/** The engine's signaling WebSocket, accepting the test's self-signed certificate. */
class InsecureWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { rejectUnauthorized: false });
  }
}

const folder = mkdtempSync(join(tmpdir(), "gmnet-bridge-tls-"));
const cert = join(folder, "cert.pem");
const key = join(folder, "key.pem");
execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"], { stdio: "ignore" });
afterAll(() => rmSync(folder, { recursive: true, force: true }));

let network: TestNetwork | undefined;
const webClients: Html5Client[] = [];
const streams: NativeStream[] = [];
afterEach(async () => {
  for (const client of webClients.splice(0)) client.finish();
  for (const stream of streams.splice(0)) stream.socket.destroy();
  await network?.close();
  network = undefined;
});

async function start(tls: boolean, options: Record<string, unknown> = {}) {
  network = await startBridges(APP, [{}], { ...(tls ? { tlsCert: cert, tlsKey: key } : {}), ...options });
  return { net: network, port: network.server.gmBridges()[0]!.port, tls };
}

function tab(tls: boolean, raw = false) {
  return hostTab(network!, { raw, engine: tls ? { WebSocket: InsecureWebSocket } : {} });
}

async function web(url: string): Promise<Html5Client> {
  const client = await Html5Client.open(url);
  webClients.push(client);
  return client;
}

function stream(socket: Socket): NativeStream {
  const client = new NativeStream(socket);
  streams.push(client);
  return client;
}

function tlsStream(port: number): Promise<NativeStream> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false });
    const client = stream(socket);
    socket.once("secureConnect", () => resolve(client));
    socket.once("error", reject);
  });
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
    for (const payload of payloads) expect(sendPacket(t.gm, peer, payload)).toBe(payload.length);
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

    sendPacket(t.gm, securePeer, Buffer.from("to tls"));
    sendPacket(t.gm, plainPeer, Buffer.from("to plain"));
    sendPacket(t.gm, wsPeer, Buffer.from("to ws"));
    expect((await secure.readPacket()).toString()).toBe("to tls");
    expect((await plain.readPacket()).toString()).toBe("to plain");
    expect((await ws.readPacket()).toString()).toBe("to ws");

    secure.socket.write(packet(Buffer.from("from tls")));
    plain.socket.write(packet(Buffer.from("from plain")));
    expect(Buffer.from((await t.log.next({ type: t.gm.network_type_data, id: securePeer })).bytes!).toString()).toBe("from tls");
    expect(Buffer.from((await t.log.next({ type: t.gm.network_type_data, id: plainPeer })).bytes!).toString()).toBe("from plain");

    // The tab closing ends the TLS connection.
    t.gm.network_destroy(securePeer);
    await secure.endedByOtherSide();
    expect(network!.server.gmBridges()[0]!.connections).toBeGreaterThanOrEqual(2);
  });

  it("closes a failed or stalled TLS handshake with a logged reason, counted as refused", async () => {
    const { net, port } = await start(true, { gmBridgeConnectTimeoutMs: 500 });
    // A raw tab: it says nothing, so the connection waits for the client, and its accept shows the stream open (the connect timeout over).
    const t = await tab(true, true);
    const opened = async (): Promise<NativeStream> => {
      const client = stream(connect(port, "127.0.0.1"));
      await t.log.next({ type: t.gm.network_type_connect });
      return client;
    };
    // A handshake record that is not a ClientHello.
    const bogus = await opened();
    bogus.socket.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08]), Buffer.alloc(8, 0xff)]));
    await bogus.endedByOtherSide();
    // The header of a ClientHello, then silence: cut after the handshake timeout.
    const stalled = await opened();
    stalled.socket.write(Buffer.from([0x16, 0x03, 0x01]));
    await stalled.endedByOtherSide();
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
    expect(hello.ended).toBe(false);
  });

  it("gives a TLS client of a GameMaker tab the greeting, which its TLS stack rejects", async () => {
    const { port } = await start(false);
    await tab(false);
    const client = stream(tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false }));
    // The greeting is no ServerHello: the client's TLS stack fails and closes.
    await client.closed;
    expect(client.error?.code ?? "").toMatch(/^ERR_SSL_|^ECONNRESET$/);
  });
});
