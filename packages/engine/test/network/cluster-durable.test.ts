/**
 * Durable sessions (--durable-sessions, PROTOCOL.md §15 "Durable sessions"): two gmnet-server
 * processes on a private Redis and PostgreSQL behind a round-robin TCP balancer, streams at about
 * 100 packets/s both ways, and then the node of one end (or of both) killed with `kill -9`, drained
 * with SIGTERM, or the tab's connection cut while its node lives on. The tab resumes on the other
 * node and every packet sent — those its node had acknowledged, and those the engine sends again
 * because it had not — arrives exactly once and in order, with no disconnect event anywhere. A
 * session holding what cannot move (a host name) is not carried, and one whose tab never comes back
 * ends when its record expires: either way its stream ends with a clear event.
 */
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import wrtc from "@roamhq/wrtc";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type NodeProcess, createBalancer, hasExited, spawnNode } from "../../../../signaling-server/test/support/node-processes.js";
import { type PrivatePostgres, startPrivatePostgres } from "../../../../signaling-server/test/support/private-postgres.js";
import { type PrivateRedis, startPrivateRedis } from "../../../../signaling-server/test/support/private-redis.js";
import { type Engine, createEngine, createMemoryStorage } from "../../src/index.js";
import { EventLog, sendPacket as send } from "./support.js";

const NODE_TTL_MS = 1500;
/** Short, so a tab that never comes back is given up within the test (its record lives this long plus NODE_TTL_MS). */
const RESUME_WINDOW_MS = 3000;
const gmnetServer = fileURLToPath(new URL("../../../../signaling-server/bin/gmnet-server.js", import.meta.url));

let redis: PrivateRedis | undefined;
let postgres: PrivatePostgres | undefined;
let nodes: NodeProcess[] = [];
let engines: Engine[] = [];
let balancer: ReturnType<typeof createBalancer> | undefined;
/** The balancer's client connections, to cut one as a network blip would. */
let entered: Socket[] = [];
let entryPort = 0;
/** Each test has its own nodes (ids), database and app key, on one Redis and one PostgreSQL. */
let round = 0;
let appKey = "";

beforeEach(async () => {
  redis ??= await startPrivateRedis();
  postgres ??= await startPrivatePostgres();
  round++;
  appKey = `durable-kill-${round}`;
  const databaseUrl = await postgres.createDatabase(`gmnet_durable_${round}`);
  nodes = [];
  engines = [];
  for (const id of [2 * round - 1, 2 * round]) {
    const args = [gmnetServer, "--node-ttl-ms", String(NODE_TTL_MS), "--durable-sessions", "true", "--resume-window", String(RESUME_WINDOW_MS)];
    nodes.push(await spawnNode({ id, redisUrl: redis.url, databaseUrl, args, env: { GMNET_LOG_LEVEL: "silent" } }));
  }
  balancer = createBalancer(() => nodes.filter((node) => !hasExited(node)));
  entered = [];
  balancer.on("connection", (socket: Socket) => entered.push(socket));
  await new Promise<void>((resolve) => balancer!.listen(0, "127.0.0.1", resolve));
  entryPort = (balancer.address() as { port: number }).port;
}, 60_000);

afterEach(async () => {
  for (const gm of engines) gm.network_shutdown();
  balancer?.close();
  for (const node of nodes) if (!hasExited(node)) node.child.kill("SIGKILL");
  await Promise.all(nodes.map((node) => node.exited));
}, 30_000);

afterAll(async () => {
  await redis?.stop();
  await postgres?.stop();
}, 30_000);

type Tab = { gm: Engine; log: EventLog };

function engineAt(url: string, secret: string): Tab {
  const gm = createEngine({
    storage: createMemoryStorage(),
    network: { WebSocket, wrtc, appKey, signalingUrl: url, secret, reconnectDelayMs: 20, livenessTimeoutMs: 600, echoIntervalMs: 150 },
  });
  engines.push(gm);
  return { gm, log: new EventLog(gm) };
}

/** A packet's number as the pump wrote it (u16 little-endian). */
const numberOf = (bytes: Uint8Array | undefined): number => bytes![0]! | (bytes![1]! << 8);
const packet = (n: number): Uint8Array => Uint8Array.of(n & 255, n >>> 8);
const MARKER = 0xffff;

/** A connected stream: the client's socket and the host's accepted one. */
async function connect(client: Tab, host: Tab, hostIp: string, server: number): Promise<{ clientSocket: number; hostSocket: number }> {
  const clientSocket = client.gm.network_create_socket(client.gm.network_socket_tcp);
  client.gm.network_connect_async(clientSocket, hostIp, 6500);
  await client.log.next({ type: client.gm.network_type_non_blocking_connect, succeeded: 1 }, 10_000);
  const accepted = await host.log.next({ type: host.gm.network_type_connect, id: server });
  return { clientSocket, hostSocket: accepted.socket as number };
}

/**
 * Traffic both ways at ~100 packets/s; `kill` once both ends have data, then 150 more packets each
 * way, then a marker. Each end must get 0, 1, 2, … each exactly once and then the marker, and no
 * disconnect event.
 */
async function pumpThroughKill(client: Tab, clientSocket: number, host: Tab, hostSocket: number, kill: (sent: () => number) => Promise<void>): Promise<void> {
  let sent = 0;
  let stopAt = Number.POSITIVE_INFINITY;
  let stopped: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const pump = setInterval(() => {
    send(client.gm, clientSocket, packet(sent));
    send(host.gm, hostSocket, packet(sent));
    if (++sent >= stopAt) {
      clearInterval(pump);
      stopped();
    }
  }, 10);
  try {
    const first = [await host.log.next({ type: host.gm.network_type_data, id: hostSocket }, 10_000), await client.log.next({ type: client.gm.network_type_data, id: clientSocket }, 10_000)];
    expect(first.map((event) => numberOf(event.bytes))).toEqual([0, 0]);
    await kill(() => sent);
    stopAt = sent + 150;
    await done;
  } finally {
    clearInterval(pump);
  }
  expect(send(client.gm, clientSocket, packet(MARKER))).toBe(2);
  expect(send(host.gm, hostSocket, packet(MARKER))).toBe(2);
  for (const [end, socket] of [
    [host, hostSocket],
    [client, clientSocket],
  ] as const) {
    const numbers: number[] = [];
    for (let n = 1; n <= sent; n++) numbers.push(numberOf((await end.log.next({ type: end.gm.network_type_data, id: socket }, 20_000)).bytes));
    expect(numbers).toEqual(Array.from({ length: sent - 1 }, (_, i) => i + 1).concat(MARKER));
    expect(end.log.seen.filter((event) => event.type === end.gm.network_type_disconnect)).toEqual([]);
  }
}

async function killNode(node: NodeProcess, signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
  node.child.kill(signal);
  expect(await node.exited).toBe(signal === "SIGKILL" ? "SIGKILL" : 0);
}

/** A counter of the node's /metrics, by its labels as written there (e.g. `cause="moved"`). */
async function metric(node: NodeProcess, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.port}/metrics`)).text();
  const line = text.split("\n").find((row) => row.startsWith(labels === "" ? `${name} ` : `${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** The node's /healthz answer. */
async function health(node: NodeProcess): Promise<{ status: string; cluster: { redis: string } }> {
  return (await (await fetch(`http://127.0.0.1:${node.port}/healthz`)).json()) as { status: string; cluster: { redis: string } };
}

/** The host on node 2 (directly) and the client through the balancer (its first connection: node 1), connected. */
async function hostOnTwoClientOnOne(tag: string): Promise<{ host: Tab; client: Tab; clientSocket: number; hostSocket: number }> {
  const host = engineAt(`ws://127.0.0.1:${nodes[1]!.port}/ws`, `durable-host-secret-${tag}-000000000`);
  const server = host.gm.network_create_server(host.gm.network_socket_tcp, 6500, 4);
  const hostIp = (await host.log.next({ type: host.gm.network_type_up })).ip as string;
  const client = engineAt(`ws://127.0.0.1:${entryPort}/ws`, `durable-client-secret-${tag}-00000000`);
  return { host, client, ...(await connect(client, host, hostIp, server)) };
}

describe("kill -9 of a node with durable sessions", () => {
  it("resumes the killed node's tab on the other node: every packet of its stream arrives once and in order, both ways; its UDP port stays bound", async () => {
    const { host, client, clientSocket, hostSocket } = await hostOnTwoClientOnOne("kill");
    const udp = client.gm.network_create_socket_ext(client.gm.network_socket_udp, 7000);
    expect(udp).toBeGreaterThanOrEqual(0);
    await pumpThroughKill(client, clientSocket, host, hostSocket, () => killNode(nodes[0]!));
    // Bound again on node 2, where the host is: its datagram to the client's port arrives.
    const hostUdp = host.gm.network_create_socket(host.gm.network_socket_udp);
    const buffer = host.gm.buffer_create(3, host.gm.buffer_fixed, 1);
    host.gm.buffer_write(buffer, host.gm.buffer_u8, 42);
    expect(host.gm.network_send_udp(hostUdp, client.gm.network_get_config(client.gm.network_config_virtual_ip) as string, 7000, buffer, 1)).toBe(1);
    expect((await client.log.next({ type: client.gm.network_type_data, id: udp }, 10_000)).bytes).toEqual(Uint8Array.of(42));
  }, 90_000);

  it("hands a drained node's tab over (close 4008): it resumes on the other node with nothing lost or repeated", async () => {
    const { host, client, clientSocket, hostSocket } = await hostOnTwoClientOnOne("drain");
    await pumpThroughKill(client, clientSocket, host, hostSocket, () => killNode(nodes[0]!, "SIGTERM"));
  }, 90_000);

  it("moves a tab whose connection was cut to the other node while its node lives on; that node lets its copy go", async () => {
    const { host, client, clientSocket, hostSocket } = await hostOnTwoClientOnOne("blip");
    // The balancer's next connection goes to node 2: the resume lands there, node 1 still holding the session.
    await pumpThroughKill(client, clientSocket, host, hostSocket, async () => {
      for (const socket of entered) socket.destroy();
    });
    expect(await metric(nodes[0]!, "gmnet_sessions_ended_total", 'cause="moved"')).toBe(1);
    expect(await metric(nodes[1]!, "gmnet_resumes_total", 'result="moved"')).toBe(1);
  }, 90_000);

  it("carries the streams through a Redis restart that keeps its data: every packet once, in order, none lost while it was down", async () => {
    const { host, client, clientSocket, hostSocket } = await hostOnTwoClientOnOne("redis");
    await pumpThroughKill(client, clientSocket, host, hostSocket, (sent) =>
      redis!.restart({
        // With persistence (a snapshot on shutdown): the sessions' records and logs survive it.
        keepData: true,
        whileDown: async () => {
          for (const node of nodes) await expect.poll(async () => (await health(node)).cluster.redis, { timeout: 10_000 }).toBe("down");
          const before = sent();
          await expect.poll(() => sent() - before, { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual(50);
        },
      }),
    );
  }, 90_000);

  it("ends the stream with PEER_GONE when the killed node's tab does not come back within the resume window", async () => {
    const { host, hostSocket } = await hostOnTwoClientOnOne("gone");
    // No way back for the client: the balancer takes no new connection.
    balancer!.close();
    await killNode(nodes[0]!);
    // Its record expires (resume window + liveness TTL) and node 2's next round ends the stream.
    expect(await host.log.next({ type: host.gm.network_type_disconnect, socket: hostSocket }, 15_000)).toMatchObject({ error: "E_NETWORK_PEER_GONE" });
    // Node 2 holds the host's durable session, and no longer the stream to the one that is gone.
    expect(await metric(nodes[1]!, "gmnet_cluster_durable_sessions", "")).toBe(1);
  }, 60_000);

  it("does not carry a session holding a host name: resumed elsewhere as a new session, its stream ends NOT_RECOVERED, the peer's PEER_GONE", async () => {
    const { host, client, clientSocket, hostSocket } = await hostOnTwoClientOnOne("pinned");
    const claim = client.gm.network_set_config(client.gm.network_config_hostname, "pinned-tab");
    expect(await client.log.next({ type: client.gm.network_type_hostname, id: claim })).toMatchObject({ succeeded: 1 });
    expect(send(client.gm, clientSocket, packet(1))).toBe(2);
    expect(numberOf((await host.log.next({ type: host.gm.network_type_data, id: hostSocket })).bytes)).toBe(1);
    for (const socket of entered) socket.destroy();
    expect(await client.log.next({ type: client.gm.network_type_disconnect, id: clientSocket }, 15_000)).toMatchObject({ error: "E_NETWORK_NOT_RECOVERED" });
    expect(await host.log.next({ type: host.gm.network_type_disconnect, socket: hostSocket }, 15_000)).toMatchObject({ error: "E_NETWORK_PEER_GONE" });
    expect(await metric(nodes[1]!, "gmnet_resumes_total", 'result="refused"')).toBe(1);
  }, 90_000);

  it("resumes both ends of a stream whose node dies: they meet again on the other node, nothing lost or repeated", async () => {
    const one = nodes[0]!;
    // Through the balancer, which alternates: the host on node 1, a spacer on node 2, the client on node 1.
    const host = engineAt(`ws://127.0.0.1:${entryPort}/ws`, "durable-host-secret-0000000002");
    const server = host.gm.network_create_server(host.gm.network_socket_tcp, 6500, 4);
    const hostIp = (await host.log.next({ type: host.gm.network_type_up })).ip as string;
    const spacer = engineAt(`ws://127.0.0.1:${entryPort}/ws`, "durable-spacer-secret-00000001");
    spacer.gm.network_create_server(spacer.gm.network_socket_tcp, 6500, 1);
    await spacer.log.next({ type: spacer.gm.network_type_up });
    const client = engineAt(`ws://127.0.0.1:${entryPort}/ws`, "durable-client-secret-000000002");
    const { clientSocket, hostSocket } = await connect(client, host, hostIp, server);
    await pumpThroughKill(client, clientSocket, host, hostSocket, () => killNode(one));
  }, 90_000);
});
