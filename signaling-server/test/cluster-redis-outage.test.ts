/**
 * A node that loses Redis (PROTOCOL.md §15, "While Redis is unreachable"): its own clients go on
 * talking to each other, cross-node writes wait in the bus's ordered outbound buffer and arrive
 * once and in order after a Redis restart, and past --redis-outbound-max-bytes a stream ends
 * with SOCKET_CLOSED PEER_GONE instead of a silent drop. /healthz and /metrics show the cluster
 * figures throughout. Real servers, a private PostgreSQL and a private Redis that the tests
 * shut down and start again on the same port; every wait is a condition.
 */
import {
  ArbitraryData,
  Broadcast,
  Channel,
  ChannelData,
  CloseReason,
  Datagram,
  ProtocolError,
  SocketClosed,
  UdpBind,
  VSocketType,
} from "@gmnet/protocol";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { getJson, metric, metricUntil, registerChannel } from "./support/harness.js";
import { useCluster } from "./support/test-cluster.js";
import { type Client, barrier, claim, connectPair, nextV, pendingV, resolve, sendData, sendV } from "./support/virtual-sockets.js";

const cluster = useCluster({ database: "gmnet_cluster_outage", nodes: [1, 2], appKey: "outage-app" });
const { nodes, clientOn, startNode } = cluster;

interface ClusterHealth {
  nodeId: number;
  redis: "up" | "down";
  redisRttMs?: number;
  routes: number;
  inboundLagMs?: number;
  outboundBytesWaiting: number;
}

async function health(server: GmnetServer): Promise<{ status: number; body: { status: string; cluster: ClusterHealth } }> {
  return (await getJson(server, "/healthz")) as { status: number; body: { status: string; cluster: ClusterHealth } };
}

/** Polls `check` every 10 ms until it holds; fails naming `what` after `timeoutMs`. */
async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const redisIs = (server: GmnetServer, state: "up" | "down") => async () => (await health(server)).body.cluster.redis === state;

/** Packet `n`: its number in the first 4 bytes, then bytes derived from it, so a mix-up shows. */
function packet(n: number, size = 64): Uint8Array {
  const bytes = Uint8Array.from({ length: size }, (_, j) => (n * 31 + j) & 255);
  new DataView(bytes.buffer).setUint32(0, n);
  return bytes;
}

/** A round trip on a stream between two clients of one node: a packet each way arrives. */
async function localRoundTrip(a: Client, b: Client, connId: number, n: number): Promise<void> {
  sendData(a, connId, n, packet(n));
  expect(ArbitraryData.decode((await b.next(Channel.VSOCKET, VSocketType.ARBITRARY_DATA)).payload)).toMatchObject({ connId, seq: n });
  sendData(b, connId, n, packet(n));
  expect(ArbitraryData.decode((await a.next(Channel.VSOCKET, VSocketType.ARBITRARY_DATA)).payload)).toMatchObject({ connId, seq: n });
}

/**
 * Two streams from clients of `home`: `pair` from `sender` to `receiver` on `away` (to port
 * `port`), and `local` between two more clients of `home` (to port `port` + 1).
 */
async function crossAndLocalStreams(home: GmnetServer, away: GmnetServer, port: number) {
  const sender = await clientOn(home);
  const receiver = await clientOn(away);
  const pair = await connectPair(sender, receiver, 40001, port);
  const localA = await clientOn(home);
  const localB = await clientOn(home);
  const local = await connectPair(localA, localB, 40002, port + 1);
  return { sender, receiver, pair, localA, localB, local };
}

describe("a Redis restart", () => {
  it("carries every packet of a cross-node stream once and in order, and local traffic goes on meanwhile", async () => {
    const [one, two] = [nodes[0]!, nodes[1]!];
    const { sender, receiver, pair, localA, localB, local } = await crossAndLocalStreams(one, two, 6600);

    // About 100 packets a second, as a game would send, for the whole test.
    let sent = 0;
    const pacer = setInterval(() => {
      sent++;
      sendData(sender, pair.connId, sent, packet(sent));
    }, 10);
    try {
      const arrived = (): number => pendingV(receiver, VSocketType.ARBITRARY_DATA).length;
      await receiver.until(() => arrived() >= 20, "packets before the outage");
      let sentDuringOutage = 0;
      await cluster.redis.restart({
        // With persistence: what was appended and not read yet is still there after the restart.
        keepData: true,
        whileDown: async () => {
          await waitFor(redisIs(one, "down"), "node 1 to see Redis down");
          const before = sent;
          // Node 1 still serves its own clients while Redis is down.
          for (let n = 1; n <= 5; n++) await localRoundTrip(localA, localB, local.connId, n);
          await waitFor(() => sent >= before + 50, "50 packets sent during the outage");
          sentDuringOutage = sent - before;
          const down = await health(one);
          expect(down.status).toBe(200);
          expect(down.body.status).toBe("ok");
          expect(down.body.cluster.outboundBytesWaiting).toBeGreaterThan(0);
        },
      });
      await waitFor(redisIs(one, "up"), "node 1 to see Redis up again");
      const afterRestart = sent;
      await waitFor(() => sent >= afterRestart + 50, "50 packets sent after the restart");
      clearInterval(pacer);
      const total = sent;
      // The close follows the data on the same path: once it arrives, everything sent before it has.
      sendV(sender, VSocketType.SOCKET_CLOSED, SocketClosed, { connId: pair.connId, reason: CloseReason.CLOSED });
      expect(await receiver.nextMessage(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, SocketClosed, 20_000)).toEqual({ connId: pair.connId, reason: CloseReason.CLOSED });
      const numbers = pendingV(receiver, VSocketType.ARBITRARY_DATA).map((frame) => {
        const { connId, seq, data } = ArbitraryData.decode(frame.payload);
        expect(connId).toBe(pair.connId);
        expect(Buffer.compare(data, packet(seq))).toBe(0);
        return seq;
      });
      expect(sentDuringOutage).toBeGreaterThanOrEqual(50);
      expect(numbers).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (let n = 6; n <= 8; n++) await localRoundTrip(localA, localB, local.connId, n);
    } finally {
      clearInterval(pacer);
    }
  }, 60_000);
});

describe("the outbound bound (--redis-outbound-max-bytes)", () => {
  it("closes a cross-node stream past it with PEER_GONE, counted, keeps serving local clients, and crosses again once Redis is back", async () => {
    // Node 3 may hold 4 KiB for other nodes: four 1000-byte packets, not ten.
    const three = await startNode(3, { redisOutboundMaxBytes: 4096 });
    const four = await startNode(4);
    try {
      const { sender, receiver, pair, localA, localB, local } = await crossAndLocalStreams(three, four, 6602);
      const refusedBefore = await metric(three, "gmnet_cluster_streams_refused_total");

      await cluster.redis.restart({
        // Without persistence: every key is lost, and the nodes must announce themselves again.
        keepData: false,
        whileDown: async () => {
          await waitFor(redisIs(three, "down"), "node 3 to see Redis down");
          for (let n = 1; n <= 10; n++) sendData(sender, pair.connId, n, packet(n, 1000));
          // The sender hears at once, while Redis is still down.
          expect(await nextV(sender, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: pair.connId, reason: CloseReason.PEER_GONE });
          expect(await metric(three, "gmnet_cluster_streams_refused_total")).toBe(refusedBefore + 1);
          expect(await metric(three, "gmnet_cluster_bus_write_failures_total", { type: "data" })).toBeGreaterThanOrEqual(1);
          // Data after the close is for a stream that no longer exists.
          sendData(sender, pair.connId, 11, packet(11, 1000));
          expect((await sender.nextError()).code).toBe(ProtocolError.UNKNOWN_SOCKET);
          for (let n = 1; n <= 3; n++) await localRoundTrip(localA, localB, local.connId, n);
        },
      });

      // The receiver gets what was held before the bound, in order, then the close.
      expect(await receiver.nextMessage(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, SocketClosed, 20_000)).toEqual({ connId: pair.connId, reason: CloseReason.PEER_GONE });
      const held: number[] = [];
      while (pendingV(receiver, VSocketType.ARBITRARY_DATA).length > 0) {
        held.push(ArbitraryData.decode((await receiver.next(Channel.VSOCKET, VSocketType.ARBITRARY_DATA)).payload).seq);
      }
      expect(held.length).toBeGreaterThanOrEqual(1);
      expect(held.length).toBeLessThan(10);
      expect(held).toEqual(Array.from({ length: held.length }, (_, i) => i + 1));

      // Redis lost every key: both nodes write their liveness and routes again when it is back.
      await waitFor(async () => (await cluster.redis.call("EXISTS", "gmnet:node:3", "gmnet:node:4")) === 2, "both nodes' liveness keys written again");
      const route = `gmnet:route:outage-app:${receiver.welcome.virtualIp >>> 0}`;
      await waitFor(async () => String(await cluster.redis.call("GET", route)).startsWith("4/"), "the receiver's route written again");
      const again = await connectPair(sender, receiver, 40005, 6604);
      sendData(sender, again.connId, 1, packet(1, 1000));
      expect(ArbitraryData.decode((await receiver.next(Channel.VSOCKET, VSocketType.ARBITRARY_DATA)).payload)).toMatchObject({ connId: again.connId, seq: 1 });
      sendData(receiver, again.connId, 1, packet(1, 1000));
      expect(ArbitraryData.decode((await sender.next(Channel.VSOCKET, VSocketType.ARBITRARY_DATA)).payload)).toMatchObject({ connId: again.connId, seq: 1 });
    } finally {
      cluster.closeClients();
      await Promise.all([three.close(), four.close()]);
    }
  }, 60_000);
});

describe("/healthz and /metrics", () => {
  it("show the node id, Redis up then down then up, and one route per connected client", async () => {
    const [one, two] = [nodes[0]!, nodes[1]!];
    const mine = await Promise.all([clientOn(two), clientOn(two), clientOn(two)]);
    // One stream from node 1 to node 2, so node 2 reads from its stream.
    const sender = await clientOn(one);
    const pair = await connectPair(sender, mine[0]!, 40006, 6605);
    sendData(sender, pair.connId, 1, packet(1));
    await mine[0]!.next(Channel.VSOCKET, VSocketType.ARBITRARY_DATA);
    // Clients of earlier tests may still be leaving: the count settles on this test's three.
    await metricUntil(two, "gmnet_cluster_routes", {}, (value) => value === mine.length);
    const up = await health(two);
    expect(up.status).toBe(200);
    expect(up.body.cluster).toMatchObject({ nodeId: 2, redis: "up", routes: 3, outboundBytesWaiting: 0 });
    expect(up.body.cluster.redisRttMs).toBeGreaterThan(0);
    expect(await metric(two, "gmnet_cluster_redis_up")).toBe(1);
    expect(await metric(two, "gmnet_cluster_redis_rtt_seconds")).toBeGreaterThan(0);
    expect(await metric(two, "gmnet_cluster_stream_lag_seconds_count")).toBeGreaterThan(0);
    expect(await metric(two, "gmnet_cluster_bus_received_total", { type: "data" })).toBeGreaterThan(0);
    expect(await metric(one, "gmnet_cluster_bus_sent_total", { type: "data" })).toBeGreaterThan(0);

    await cluster.redis.restart({
      whileDown: async () => {
        await waitFor(redisIs(two, "down"), "node 2 to see Redis down");
        const down = await health(two);
        // Still "ok": the node serves its own clients while Redis is down.
        expect(down.status).toBe(200);
        expect(down.body).toMatchObject({ status: "ok", cluster: { nodeId: 2, redis: "down", routes: 3 } });
        expect(await metric(two, "gmnet_cluster_redis_up")).toBe(0);
      },
    });
    await waitFor(redisIs(two, "up"), "node 2 to see Redis up again");
    expect(await metric(two, "gmnet_cluster_redis_up")).toBe(1);
    expect((await health(two)).body.cluster).toMatchObject({ nodeId: 2, redis: "up", routes: 3 });
  }, 60_000);
});

describe("logs", () => {
  it("carry the node id on every line once a random id is claimed", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
    // No node id: the node claims a random one, as in the log line below.
    const node = await startNode(undefined, { logger });
    try {
      const { nodeId } = (await health(node)).body.cluster;
      const fromStart = lines.findIndex((line) => line.includes("cluster: node joined through redis"));
      expect(fromStart).toBeGreaterThanOrEqual(0);
      // A session opening and closing logs more lines, after the id is known.
      const count = lines.length;
      (await clientOn(node)).close();
      await waitFor(() => lines.slice(count).some((line) => line.includes("session closed")), "the session's close to be logged");
      const after = lines.slice(fromStart + 1).map((line) => JSON.parse(line) as { node?: number; msg: string });
      expect(after.length).toBeGreaterThan(2);
      for (const line of after) expect({ msg: line.msg, node: line.node }).toEqual({ msg: line.msg, node: nodeId });
    } finally {
      await node.close();
    }
  }, 30_000);
});

describe("a Redis restart that lost every key", () => {
  it("has each node announce its host names, app channels and UDP bindings again, so they cross nodes as before", async () => {
    const [one, two] = [nodes[0]!, nodes[1]!];
    const appKey = "reannounce-app";
    // The tests before restarted Redis too: both nodes must be connected again (a claim is refused while Redis is down).
    for (const node of [one, two]) await waitFor(redisIs(node, "up"), "the nodes to see Redis up");
    const host = await clientOn(one, { appKey });
    const guest = await clientOn(two, { appKey });
    expect(await claim(host, "arena")).toBe(true);
    const channel = await registerChannel(host, "lobby");
    sendV(host, VSocketType.UDP_BIND, UdpBind, { port: 7700 });
    await barrier(host);

    await cluster.redis.restart({ keepData: false });
    // Until a node sees Redis again its lookups answer "nobody" at once (RESOLVE 0): wait for both.
    for (const node of [one, two]) await waitFor(redisIs(node, "up"), "the nodes to see Redis up again");
    // Node 1 writes them again once its connection is back; nothing of them survived the restart.
    await waitFor(async () => (await cluster.redis.call("HGET", `gmnet:names:${appKey}`, "arena")) !== null, "node 1 to claim its host name again");
    await waitFor(async () => ((await cluster.redis.call("SMEMBERS", `gmnet:udpnodes:${appKey}:7700`)) as string[]).includes("1"), "node 1 to announce its UDP binding again");
    await waitFor(async () => ((await cluster.redis.call("SMEMBERS", `gmnet:chnodes:${appKey}:${channel}`)) as string[]).includes("1"), "node 1 to announce its channel again");

    expect(await resolve(guest, "ARENA")).toBe(host.welcome.virtualIp);
    // The name keeps its number: node 2 is given the one node 1 had.
    expect(await registerChannel(guest, "lobby")).toBe(channel);
    guest.send(channel, 3, Uint8Array.of(7));
    expect(ChannelData.decode((await host.next(channel, 3)).payload)).toEqual({ fromIp: guest.welcome.virtualIp, data: Uint8Array.of(7) });
    sendV(guest, VSocketType.BROADCAST, Broadcast, { port: 7700, localPort: 7701, data: Uint8Array.of(5) });
    expect(await nextV(host, VSocketType.DATAGRAM, Datagram)).toEqual({ peerIp: guest.welcome.virtualIp, peerPort: 7701, localPort: 7700, data: Uint8Array.of(5) });
  }, 60_000);
});
