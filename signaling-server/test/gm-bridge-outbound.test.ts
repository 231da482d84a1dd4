/**
 * The outbound GameMaker bridge: an engine network_connect()s to a native GameMaker server on a
 * real host:port through the signaling server, only where --gm-bridge-allow says it may. The native
 * server is support/gm-native.ts: the documented wire format over node:net (not the engine's codec).
 */
import { type AddressInfo, type Server, createServer as createTcpServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EventLog, type TestNetwork, sendPacket, startNetwork } from "../../packages/engine/test/network/support.js";
import { AllowList, canonicalHost, parseAllowEntry } from "../src/bridge/outbound-allow.js";
import { ConfigError, configFromArgs } from "../src/config.js";
import { freePort } from "./support/free-port.js";
import { metricsText } from "./support/gm-bridge-setup.js";
import { NativeStream, Waiters, packet, pattern } from "./support/gm-native.js";

const APP = "outbound-app";

/** A native server on 127.0.0.1 and a free port; `accepted()` gives its connections in order. */
class NativeServer {
  readonly peers: NativeStream[] = [];
  private taken = 0;
  private readonly waiters = new Waiters();
  private constructor(readonly server: Server) {
    server.on("connection", (socket) => {
      socket.setNoDelay(true);
      this.peers.push(new NativeStream(socket));
      this.waiters.wake();
    });
  }

  static async start(): Promise<NativeServer> {
    const server = createTcpServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const native = new NativeServer(server);
    natives.push(native);
    return native;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async accepted(timeoutMs = 10_000): Promise<NativeStream> {
    await this.waiters.until(() => this.peers.length > this.taken, "a connection to reach the native server", timeoutMs);
    return this.peers[this.taken++]!;
  }

  close(): Promise<void> {
    for (const peer of this.peers) peer.socket.destroy();
    return new Promise((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
  }
}

let network: TestNetwork | undefined;
const natives: NativeServer[] = [];
afterEach(async () => {
  await network?.close();
  network = undefined;
  for (const native of natives.splice(0)) await native.close();
});

async function start(allow: string[], options: Record<string, unknown> = {}): Promise<TestNetwork> {
  network = await startNetwork({ gmBridgeAllow: allow, ...options }, APP);
  return network;
}

/** An engine with its event log, connected to the signaling server. */
async function engine(net: TestNetwork) {
  const gm = net.engine();
  const log = new EventLog(gm);
  return { gm, log };
}

/** A native GameMaker server, a network whose outbound bridge allows just it (127.0.0.1), and an engine there. */
async function engineAndNative() {
  const native = await NativeServer.start();
  const net = await start([`127.0.0.1:${native.port}`]);
  return { native, net, ...(await engine(net)) };
}

describe("outbound GameMaker bridge", () => {
  it("connects an engine (GameMaker mode) to a native GameMaker server on an allowed host:port, packets both ways up to 1 MiB, and disconnects both ways", async () => {
    const { native, net, gm, log } = await engineAndNative();

    const socket = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect(socket, "127.0.0.1", native.port)).toBe(0);
    const peer = await native.accepted();
    await peer.serverHandshake();
    expect(await log.next({ type: gm.network_type_non_blocking_connect, id: socket })).toMatchObject({ succeeded: 1, ip: "127.0.0.1", port: native.port });

    // Engine → native, then native → engine.
    expect(sendPacket(gm, socket, Buffer.from("hello native"))).toBe(12);
    expect((await peer.readPacket()).toString()).toBe("hello native");
    await peer.write(packet(Buffer.from("hello engine")));
    expect(Buffer.from((await log.next({ type: gm.network_type_data, id: socket })).bytes!).toString()).toBe("hello engine");

    // 1 MiB both ways, and small packets glued into one TCP write.
    const big = pattern(1 << 20, 1);
    expect(sendPacket(gm, socket, big)).toBe(big.length);
    expect((await peer.readPacket(20_000)).equals(big)).toBe(true);
    const back = pattern(1 << 20, 2);
    await peer.write(Buffer.concat([packet(back), packet(Buffer.from("a")), packet(Buffer.from("bc"))]));
    const got = await log.next({ type: gm.network_type_data, id: socket }, 20_000);
    expect(got.size).toBe(back.length);
    expect(Buffer.from(got.bytes!).equals(back)).toBe(true);
    for (const expected of ["a", "bc"]) expect(Buffer.from((await log.next({ type: gm.network_type_data, id: socket })).bytes!).toString()).toBe(expected);

    // The native server closes: the engine's socket gets network_type_disconnect.
    peer.socket.end();
    expect(await log.next({ type: gm.network_type_disconnect, id: socket })).toMatchObject({ error: "E_NETWORK_CLOSED" });
    await peer.closed;

    // A second connection, closed by the engine: the native server sees the TCP connection end.
    const second = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect(second, "127.0.0.1", native.port)).toBe(0);
    const secondPeer = await native.accepted();
    await secondPeer.serverHandshake();
    await log.next({ type: gm.network_type_non_blocking_connect, id: second, succeeded: 1 });
    gm.network_destroy(second);
    await secondPeer.endedByOtherSide();

    const text = await metricsText(net);
    expect(text).toContain(`gmnet_gm_bridge_outbound_connections_total{destination="127.0.0.1:${native.port}"} 2`);
    expect(text).toMatch(/gmnet_gm_bridge_outbound_bytes_in_total\{destination="127\.0\.0\.1:\d+"\} \d+/);
    expect(text).toMatch(/gmnet_gm_bridge_outbound_bytes_out_total\{destination="127\.0\.0\.1:\d+"\} \d+/);
  });

  it("passes bytes through unchanged with network_connect_raw", async () => {
    const { native, gm, log } = await engineAndNative();
    const socket = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect_raw(socket, "127.0.0.1", native.port)).toBe(0);
    expect(await log.next({ type: gm.network_type_non_blocking_connect, id: socket })).toMatchObject({ succeeded: 1 });
    const peer = await native.accepted();

    const out = pattern(300_000, 3);
    expect(sendPacket(gm, socket, out, true)).toBe(out.length);
    expect((await peer.read(out.length, 20_000)).equals(out)).toBe(true);
    const back = pattern(500_000, 4);
    await peer.write(back);
    let got = Buffer.alloc(0);
    while (got.length < back.length) got = Buffer.concat([got, Buffer.from((await log.next({ type: gm.network_type_data, id: socket })).bytes!)]);
    expect(got.equals(back)).toBe(true);

    gm.network_destroy(socket);
    await peer.endedByOtherSide();
  });

  it("refuses destinations that are not on the allow list, with a documented error, and never dials them", async () => {
    const listed = await NativeServer.start();
    const unlisted = await NativeServer.start();
    // localhost is listed by name only: it resolves to loopback, which is not listed for that port.
    // ("localhost." with its trailing dot: the engine serves plain "localhost" itself, as 127.0.0.1.)
    const net = await start([`127.0.0.1:${listed.port}`, `localhost:${unlisted.port}`]);
    const { gm, log } = await engine(net);

    const attempt = async (host: string, port: number) => {
      const socket = gm.network_create_socket(gm.network_socket_tcp);
      expect(gm.network_connect(socket, host, port)).toBe(0);
      return log.next({ type: gm.network_type_non_blocking_connect, id: socket });
    };

    // An address outside the virtual network, not listed.
    const refused = await attempt("192.0.2.1", 6510);
    expect(refused).toMatchObject({ succeeded: 0, error: "E_NETWORK_REFUSED" });
    expect(refused.message).toContain("allowed bridge destination");
    // 127.0.0.1 is this engine first: on a port nothing listens on here, and not listed, it stays NOT_LISTENING.
    expect(await attempt("127.0.0.1", unlisted.port)).toMatchObject({ succeeded: 0, error: "E_NETWORK_NOT_LISTENING" });
    // A name that is neither a virtual host nor listed.
    const unknown = await attempt("game.invalid", listed.port);
    expect(unknown).toMatchObject({ succeeded: 0, error: "E_NETWORK_UNKNOWN_HOST" });
    expect(unknown.message).toContain("not an allowed bridge destination");
    // A listed name that resolves only to a non-public address that is not listed itself.
    expect(await attempt("localhost.", unlisted.port)).toMatchObject({ succeeded: 0, error: "E_NETWORK_UNKNOWN_HOST" });
    // An address of the virtual network stays a virtual address: OFFLINE, as before.
    expect(await attempt("10.123.45.67", listed.port)).toMatchObject({ succeeded: 0, error: "E_NETWORK_OFFLINE" });
    expect(unlisted.peers).toHaveLength(0);
    expect(listed.peers).toHaveLength(0);

    const text = await metricsText(net);
    expect(text).toMatch(/gmnet_gm_bridge_outbound_refused_total\{reason="not-allowed"\} 4/);
    expect(text).toMatch(/gmnet_gm_bridge_outbound_refused_total\{reason="offline"\} 1/);
  });

  it("dials a listed name when its loopback address is listed too", async () => {
    const native = await NativeServer.start();
    const net = await start([`localhost:${native.port}`, `127.0.0.1:${native.port}`]);
    const { gm, log } = await engine(net);
    const socket = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect_raw(socket, "LOCALHOST.", native.port)).toBe(0);
    expect(await log.next({ type: gm.network_type_non_blocking_connect, id: socket })).toMatchObject({ succeeded: 1, ip: "LOCALHOST." });
    const peer = await native.accepted();
    await peer.write(Buffer.from("hi"));
    expect(Buffer.from((await log.next({ type: gm.network_type_data, id: socket })).bytes!).toString()).toBe("hi");
  });

  it("fails cleanly when a listed destination is down, and keeps the per-client limit", async () => {
    const down = await freePort();
    const native = await NativeServer.start();
    const net = await start([`127.0.0.1:${down}`, `127.0.0.1:${native.port}`], { gmBridgeOutboundMaxPerClient: 1 });
    const { gm, log } = await engine(net);

    const socket = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect(socket, "127.0.0.1", down)).toBe(0);
    expect(await log.next({ type: gm.network_type_non_blocking_connect, id: socket })).toMatchObject({ succeeded: 0, error: "E_NETWORK_NOT_LISTENING" });

    const first = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect_raw(first, "127.0.0.1", native.port)).toBe(0);
    await log.next({ type: gm.network_type_non_blocking_connect, id: first, succeeded: 1 });
    const second = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect_raw(second, "127.0.0.1", native.port)).toBe(0);
    expect(await log.next({ type: gm.network_type_non_blocking_connect, id: second })).toMatchObject({ succeeded: 0, error: "E_NETWORK_LIMIT" });
    // Once the first is closed, there is room again.
    const peer = await native.accepted();
    gm.network_destroy(first);
    await peer.endedByOtherSide();
    // The server released the slot before it ended the TCP connection the native side saw end.
    const third = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect_raw(third, "127.0.0.1", native.port)).toBe(0);
    expect(await log.next({ type: gm.network_type_non_blocking_connect, id: third })).toMatchObject({ succeeded: 1 });
    const text = await metricsText(net);
    expect(text).toMatch(/gmnet_gm_bridge_outbound_refused_total\{reason="not-listening"\} 1/);
  });

  it("tells the engine SHUTDOWN when the server stops, and closes the native connection", async () => {
    const { native, net, gm, log } = await engineAndNative();
    const socket = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect_raw(socket, "127.0.0.1", native.port)).toBe(0);
    await log.next({ type: gm.network_type_non_blocking_connect, id: socket, succeeded: 1 });
    const peer = await native.accepted();
    const stopping = net.server.close();
    await peer.endedByOtherSide();
    await stopping;
    network = undefined;
    gm.network_shutdown();
  });
});

describe("outbound bridge allow list", () => {
  it("reads --gm-bridge-allow (repeatable) over GMNET_GM_BRIDGE_ALLOW (comma-separated), and allows nothing by default", () => {
    expect(configFromArgs([], {}).gmBridgeAllow).toEqual([]);
    expect(configFromArgs([], { GMNET_GM_BRIDGE_ALLOW: "a.example:1, 127.0.0.1:2" }).gmBridgeAllow).toEqual(["a.example:1", "127.0.0.1:2"]);
    expect(configFromArgs(["--gm-bridge-allow", "127.0.0.1:1", "--gm-bridge-allow=[::1]:2"], { GMNET_GM_BRIDGE_ALLOW: "x.example:3" }).gmBridgeAllow).toEqual(["127.0.0.1:1", "[::1]:2"]);
    for (const bad of ["127.0.0.1", "host:0", "host:70000", "*:6510", "a b:1", "::1:6510", "10.1.2.3:6510", "host:*"]) {
      expect(() => configFromArgs(["--gm-bridge-allow", bad], {}), bad).toThrow(ConfigError);
    }
    // Outside a moved virtual network, a 10.x LAN address may be listed.
    expect(configFromArgs(["--virtual-network", "100.64.0.0/10", "--gm-bridge-allow", "10.1.2.3:6510"], {}).gmBridgeAllow).toEqual(["10.1.2.3:6510"]);
  });

  it("matches exactly, and lets names lead only to public or listed addresses", () => {
    const allow = new AllowList(["Game.Example.com.:6510", "127.0.0.1:6510", "[0:0::1]:7000", "lan-box:6510", "192.168.1.20:6510"].map(parseAllowEntry));
    const match = (host: string, port: number) => {
      const canonical = canonicalHost(host);
      return canonical === undefined ? undefined : allow.match(canonical, port);
    };
    expect(match("game.example.com", 6510)).toBeDefined();
    expect(match("GAME.EXAMPLE.COM.", 6510)).toBeDefined();
    expect(match("game.example.com", 6511)).toBeUndefined();
    expect(match("www.game.example.com", 6510)).toBeUndefined();
    expect(match("127.0.0.1", 6510)).toBeDefined();
    expect(match("localhost", 6510)).toBeUndefined();
    expect(match("::1", 7000)).toBeDefined();
    expect(match("[::1]", 7000)).toBeDefined();
    expect(match("127.0.0.01", 6510)).toBeUndefined();
    expect(allow.addressAllowed("93.184.216.34", 4, 6510)).toBe(true);
    expect(allow.addressAllowed("192.168.1.20", 4, 6510)).toBe(true);
    expect(allow.addressAllowed("192.168.1.21", 4, 6510)).toBe(false);
    expect(allow.addressAllowed("192.168.1.20", 4, 6511)).toBe(false);
    expect(allow.addressAllowed("127.0.0.2", 4, 6510)).toBe(false);
    expect(allow.addressAllowed("169.254.169.254", 4, 80)).toBe(false);
    expect(allow.addressAllowed("::1", 6, 6510)).toBe(false);
    expect(allow.addressAllowed("::1", 6, 7000)).toBe(true);
    expect(allow.addressAllowed("fd00::1", 6, 6510)).toBe(false);
    expect(allow.addressAllowed("2606:2800:220:1::1", 6, 6510)).toBe(true);
  });
});
