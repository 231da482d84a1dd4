/**
 * The inbound GameMaker bridge: a native GameMaker client (support/gm-native.ts: the documented
 * wire format over node:net, independent of the engine's codec) connects to a real TCP port of the
 * server and reaches a real engine's network_create_server in a "tab".
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type TestNetwork, sendPacket } from "../../packages/engine/test/network/support.js";
import { HostnameClaim, HostnameResult, SocketRequest, VSocketType, formatIpv4 } from "@gmnet/protocol";
import { ConfigError, configFromArgs } from "../src/config.js";
import { type GmnetServer, createServer } from "../src/index.js";
import type { GmBridgeSpec } from "../src/bridge/spec.js";
import { type TabOptions, hostTab, metricsText, startBridges } from "./support/gm-bridge-setup.js";
import { useCleanup } from "./support/cleanup.js";
import { NativeStream, packet, pattern, pseudoRandom, u32s } from "./support/gm-native.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { nextV, sendV } from "./support/virtual-sockets.js";

const APP = "bridge-app";

const afterTest = useCleanup();
/** The network the running test started. */
let network: TestNetwork | undefined;

async function start(bridges: Array<Partial<GmBridgeSpec>>, options: Record<string, unknown> = {}) {
  const started = await startBridges(APP, bridges, options);
  afterTest(() => started.close());
  network = started;
  return started;
}

/** A tab: an engine hosting network_create_server on `port`, claiming `name`. */
function tab(options: TabOptions = {}) {
  return hostTab(network!, options);
}

async function native(port: number): Promise<NativeStream> {
  const client = await NativeStream.connect(port);
  afterTest(() => client.destroy());
  return client;
}

describe("GameMaker bridge", () => {
  it("lets a native GameMaker client connect to a tab's server, with the bridge's stable address, packets both ways and disconnects", async () => {
    const net = await start([{}]);
    const [bridge] = net.server.gmBridges();
    expect(bridge).toMatchObject({ target: "arena", targetPort: 6510, appKey: APP });
    expect(bridge!.port).toBeGreaterThan(0);
    expect(bridge!.virtualIp).toMatch(/^10\.\d+\.\d+\.\d+$/);
    const t = await tab();

    const client = await native(bridge!.port);
    await client.handshake(true);
    const accepted = await t.log.next({ type: t.gm.network_type_connect });
    expect(accepted).toMatchObject({ id: t.server, ip: bridge!.virtualIp });
    expect(accepted.port).toBeGreaterThanOrEqual(49152);
    const peer = accepted.socket as number;

    await client.write(packet(Buffer.from("hello tab")));
    const atTab = await t.log.next({ type: t.gm.network_type_data, id: peer });
    expect(Buffer.from(atTab.bytes!).toString()).toBe("hello tab");
    expect(sendPacket(t.gm, peer, Buffer.from("hello native"))).toBe(12);
    expect((await client.readPacket()).toString()).toBe("hello native");

    // A second client at once: the same virtual IP, another port.
    const second = await native(bridge!.port);
    await second.handshake();
    const other = await t.log.next({ type: t.gm.network_type_connect });
    expect(other.ip).toBe(bridge!.virtualIp);
    expect(other.port).not.toBe(accepted.port);

    // The native client leaves: the tab's socket gets network_type_disconnect.
    client.socket.end();
    expect(await t.log.next({ type: t.gm.network_type_disconnect })).toMatchObject({ id: t.server, socket: peer });
    await client.closed;

    // The tab closes: the native client sees the TCP connection end.
    t.gm.network_destroy(other.socket as number);
    await second.endedByOtherSide();
    await second.closed;

    const text = await metricsText(net);
    expect(text).toMatch(/gmnet_gm_bridge_connections_total\{bridge="0=arena:6510@bridge-app"\} 2/);
    expect(text).toMatch(/gmnet_gm_bridge_connections\{bridge="0=arena:6510@bridge-app"\} 0/);
    expect(text).toMatch(/gmnet_gm_bridge_bytes_in_total\{bridge="0=arena:6510@bridge-app"\} \d+/);
  });

  it("carries packets of 1 byte to 1 MiB both ways, split at random and glued together, in order", async () => {
    const net = await start([{}]);
    const t = await tab();
    const client = await native(net.server.gmBridges()[0]!.port);
    await client.handshake();
    const peer = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;

    const sizes = [1, 2, 11, 12, 13, 255, 4096, 65_535, 65_536, 300_000, 1 << 20];
    const payloads = sizes.map((size, i) => pattern(size, i + 1));
    // Native → tab: all packets in one stream cut at random points (several glued into one write, big ones split).
    const random = pseudoRandom(42);
    await client.writeSplit(Buffer.concat(payloads.map(packet)), () => 1 + Math.floor(random() * 200_000));
    for (const payload of payloads) {
      const data = await t.log.next({ type: t.gm.network_type_data, id: peer }, 20_000);
      expect(data.size).toBe(payload.length);
      expect(Buffer.from(data.bytes!).equals(payload)).toBe(true);
    }
    // Several small packets glued in one write.
    await client.write(Buffer.concat([packet(Buffer.from("a")), packet(Buffer.from("bc")), packet(Buffer.from("def"))]));
    for (const expected of ["a", "bc", "def"]) expect(Buffer.from((await t.log.next({ type: t.gm.network_type_data, id: peer })).bytes!).toString()).toBe(expected);

    // Tab → native, every size.
    for (const payload of payloads) expect(sendPacket(t.gm, peer, payload)).toBe(payload.length);
    for (const payload of payloads) expect((await client.readPacket(20_000)).equals(payload)).toBe(true);
  });

  it("passes raw bytes through unchanged to a raw server", async () => {
    const net = await start([{}]);
    const t = await tab({ raw: true });
    const client = await native(net.server.gmBridges()[0]!.port);
    // A raw client may speak first: its bytes wait for the tab to accept.
    const first = pattern(100_000, 7);
    await client.write(first);
    const peer = (await t.log.next({ type: t.gm.network_type_connect })).socket as number;
    let got = Buffer.alloc(0);
    while (got.length < first.length) got = Buffer.concat([got, Buffer.from((await t.log.next({ type: t.gm.network_type_data, id: peer })).bytes!)]);
    expect(got.equals(first)).toBe(true);
    const back = pattern(500_000, 8);
    expect(sendPacket(t.gm, peer, back, true)).toBe(back.length);
    expect((await client.read(back.length)).equals(back)).toBe(true);
    expect(client.pending).toBe(0);
  });

  it("closes the connection when the tab's server is full (max_client), offline, or not listening", async () => {
    const net = await start([{}, { target: "nobody" }, { targetPort: 7000 }]);
    const [full, offline, notListening] = net.server.gmBridges();
    const t = await tab({ maxClients: 1 });
    const first = await native(full!.port);
    await first.handshake();
    await t.log.next({ type: t.gm.network_type_connect });

    const refused = await native(full!.port);
    expect(await refused.endedByOtherSide()).toBe(0);
    const nobody = await native(offline!.port);
    expect(await nobody.endedByOtherSide()).toBe(0);
    const closedPort = await native(notListening!.port);
    expect(await closedPort.endedByOtherSide()).toBe(0);

    // The first client is unaffected.
    await first.write(packet(Buffer.from("still here")));
    expect(Buffer.from((await t.log.next({ type: t.gm.network_type_data })).bytes!).toString()).toBe("still here");
    const text = await metricsText(net);
    expect(text).toMatch(/gmnet_gm_bridge_refused_total\{bridge="0=arena:6510@bridge-app",reason="refused"\} 1/);
    expect(text).toMatch(/gmnet_gm_bridge_refused_total\{bridge="0=nobody:6510@bridge-app",reason="offline"\} 1/);
    expect(text).toMatch(/gmnet_gm_bridge_refused_total\{bridge="0=arena:7000@bridge-app",reason="not-listening"\} 1/);
  });

  it("closes a native client whose GameMaker handshake reply the tab's server refuses, and counts it as bad-handshake", async () => {
    const net = await start([{}]);
    const [bridge] = net.server.gmBridges();
    const t = await tab();
    const client = await native(bridge!.port);
    expect((await client.read(18)).toString("latin1")).toBe("GM:Studio-Connect\0");
    // A reply that is not 0xCAFEBABE 0xDEADB00B 16 …: the tab's server refuses it.
    await client.write(u32s(0x12345678, 0x9abcdef0, 16, 0));
    expect(await client.endedByOtherSide()).toBe(0);
    await expect.poll(() => metricsText(net)).toMatch(/gmnet_gm_bridge_refused_total\{bridge="0=arena:6510@bridge-app",reason="bad-handshake"\} 1/);
    // The tab never announced the client.
    expect(t.log.seen.filter((event) => event.type === t.gm.network_type_connect)).toHaveLength(0);
  });

  it("limits connections per client address and per bridge", async () => {
    const net = await start([{}], { gmBridgeMaxPerAddress: 2 });
    const t = await tab();
    const port = net.server.gmBridges()[0]!.port;
    const a = await native(port);
    await a.handshake();
    const b = await native(port);
    await b.handshake();
    const c = await native(port);
    expect(await c.endedByOtherSide()).toBe(0);
    // A slot comes free when a connection ends.
    a.socket.end();
    await t.log.next({ type: t.gm.network_type_disconnect });
    await a.closed;
    const d = await native(port);
    await d.handshake();
    expect(await metricsText(net)).toMatch(/gmnet_gm_bridge_refused_total\{bridge="0=arena:6510@bridge-app",reason="max-per-address"\} 1/);
  });

  it("limits open connections per bridge", async () => {
    const net = await start([{}], { gmBridgeMaxConnections: 1 });
    await tab();
    const port = net.server.gmBridges()[0]!.port;
    const a = await native(port);
    await a.handshake();
    const b = await native(port);
    expect(await b.endedByOtherSide()).toBe(0);
    expect(await metricsText(net)).toMatch(/gmnet_gm_bridge_refused_total\{bridge="0=arena:6510@bridge-app",reason="max-connections"\} 1/);
  });

  it("ends bridged connections when the server shuts down", async () => {
    const net = await start([{}]);
    await tab();
    const client = await native(net.server.gmBridges()[0]!.port);
    await client.handshake();
    await net.server.close();
    await client.closed;
  });

  it("closes the connection when the target does not accept in time, after asking with the bridge's stamped address", async () => {
    const net = await start([{}], { gmBridgeConnectTimeoutMs: 200 });
    // A protocol-level target that claims the name and never answers.
    const target = await ProtocolClient.connect(net.server.address().wsUrl, { appKey: APP });
    try {
      sendV(target, VSocketType.HOSTNAME_CLAIM, HostnameClaim, { reqId: 1, name: "arena" });
      expect(await nextV(target, VSocketType.HOSTNAME_RESULT, HostnameResult)).toMatchObject({ ok: true });
      const client = await native(net.server.gmBridges()[0]!.port);
      const asked = await nextV(target, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest);
      expect(formatIpv4(asked.peerIp)).toBe(net.server.gmBridges()[0]!.virtualIp);
      expect(asked.peerPort).toBeGreaterThanOrEqual(49152);
      expect(asked.localPort).toBe(6510);
      expect(await client.endedByOtherSide()).toBe(0);
      expect(await metricsText(net)).toMatch(/gmnet_gm_bridge_refused_total\{bridge="0=arena:6510@bridge-app",reason="timeout"\} 1/);
    } finally {
      target.close();
    }
  });

  it("a bridged connection cannot reach another app key", async () => {
    const net = await start([{ appKey: "other-app" }]);
    await tab(); // "arena" in bridge-app only
    const client = await native(net.server.gmBridges()[0]!.port);
    expect(await client.endedByOtherSide()).toBe(0);
  });

  it("keeps the bridge's virtual IP across restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gmnet-bridge-"));
    const db = join(dir, "ids.sqlite");
    const run = async (): Promise<string> => {
      const server: GmnetServer = createServer({ port: 0, host: "127.0.0.1", db, logLevel: "silent", gmBridges: [{ port: 0, target: "arena", targetPort: 6510, appKey: APP }] });
      await server.ready;
      const ip = server.gmBridges()[0]!.virtualIp;
      await server.close();
      return ip;
    };
    try {
      expect(await run()).toBe(await run());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads --gm-bridge (repeatable) and GMNET_GM_BRIDGES, with the engine's default app key", () => {
    const fromEnv = configFromArgs([], { GMNET_GM_BRIDGES: "7000=lobby:7000, 7001=10.0.0.5:80@my-app" });
    expect(fromEnv.gmBridges).toEqual([
      { port: 7000, target: "lobby", targetPort: 7000, appKey: "gmnet" },
      { port: 7001, target: "10.0.0.5", targetPort: 80, appKey: "my-app" },
    ]);
    const fromArgs = configFromArgs(["--gm-bridge", "6510=arena:6510", "--gm-bridge=6511=arena:6511@my-app"], { GMNET_GM_BRIDGES: "7000=lobby:7000" });
    expect(fromArgs.gmBridges.map((bridge) => bridge.port)).toEqual([6510, 6511]);
    expect(() => configFromArgs(["--gm-bridge", "6510=arena"], {})).toThrow(ConfigError);
    expect(() => configFromArgs(["--gm-bridge", "6510=arena:0"], {})).toThrow(ConfigError);
    expect(() => configFromArgs(["--gm-bridge", "6510=arena:1@bad key"], {})).toThrow(ConfigError);
    expect(() => configFromArgs(["--gm-bridge", "6510=a:1", "--gm-bridge", "6510=b:1"], {})).toThrow(/already used/);
    expect(() => configFromArgs(["--gm-bridge", "8080=a:1"], {})).toThrow(/already used/);
    expect(() => configFromArgs(["--gm-bridge-max-connections", "20000"], {})).toThrow(ConfigError);
  });
});
