/**
 * `kill -9` of a node (PROTOCOL.md §15): two gmnet-server processes on a private Redis and
 * PostgreSQL, a round-robin TCP balancer in front, and a node killed mid-traffic. What this pins
 * down is today's contract: nothing hangs and nothing ends silently — the killed node's tabs come
 * back through the balancer on the other node with the same virtual IP and a disconnect event for
 * each stream they had, their peers hear PEER_GONE once the node's liveness key expires
 * (--node-ttl-ms), and new streams work at once. With durable sessions (--durable-sessions) the
 * streams themselves are recovered: cluster-durable.test.ts.
 */
import { fileURLToPath } from "node:url";
import wrtc from "@roamhq/wrtc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type NodeProcess, createBalancer, hasExited, spawnNode } from "../../../../signaling-server/test/support/node-processes.js";
import { type PrivatePostgres, startPrivatePostgres } from "../../../../signaling-server/test/support/private-postgres.js";
import { type PrivateRedis, startPrivateRedis } from "../../../../signaling-server/test/support/private-redis.js";
import { type Engine, createEngine, createMemoryStorage } from "../../src/index.js";
import { EventLog, sendPacket as send } from "./support.js";

const APP_KEY = "kill-test";
const NODE_TTL_MS = 1500;
const gmnetServer = fileURLToPath(new URL("../../../../signaling-server/bin/gmnet-server.js", import.meta.url));

let redis: PrivateRedis | undefined;
let postgres: PrivatePostgres | undefined;
const nodes: NodeProcess[] = [];
const engines: Engine[] = [];
const balancer = createBalancer(() => nodes.filter((node) => !hasExited(node)));
let entryPort = 0;

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
  const databaseUrl = await postgres.createDatabase("gmnet_kill");
  for (const id of [1, 2]) {
    nodes.push(await spawnNode({ id, redisUrl: redis.url, databaseUrl, args: [gmnetServer, "--node-ttl-ms", String(NODE_TTL_MS)], env: { GMNET_LOG_LEVEL: "silent" } }));
  }
  await new Promise<void>((resolve) => balancer.listen(0, "127.0.0.1", resolve));
  entryPort = (balancer.address() as { port: number }).port;
}, 60_000);

afterAll(async () => {
  for (const gm of engines) gm.network_shutdown();
  balancer.close();
  for (const node of nodes) if (!hasExited(node)) node.child.kill("SIGKILL");
  await Promise.all(nodes.map((node) => node.exited));
  await redis?.stop();
  await postgres?.stop();
}, 30_000);

function engineAt(url: string, secret: string): { gm: Engine; log: EventLog } {
  const gm = createEngine({
    storage: createMemoryStorage(),
    network: { WebSocket, wrtc, appKey: APP_KEY, signalingUrl: url, secret, reconnectDelayMs: 20, livenessTimeoutMs: 600, echoIntervalMs: 150 },
  });
  engines.push(gm);
  return { gm, log: new EventLog(gm) };
}

describe("kill -9 of a node", () => {
  it("brings its tabs back on another node with the same address and a disconnect event per stream; their peers hear PEER_GONE; new streams work", async () => {
    const [one, two] = [nodes[0]!, nodes[1]!];
    // The host on node 2 (directly), the client through the balancer: its first connection goes to node 1.
    const host = engineAt(`ws://127.0.0.1:${two.port}/ws`, "kill-host-secret-0000000000001");
    const server = host.gm.network_create_server(host.gm.network_socket_tcp, 6500, 4);
    const hostIp = (await host.log.next({ type: host.gm.network_type_up })).ip as string;
    const client = engineAt(`ws://127.0.0.1:${entryPort}/ws`, "kill-client-secret-00000000001");
    const socket = client.gm.network_create_socket(client.gm.network_socket_tcp);
    client.gm.network_connect_async(socket, hostIp, 6500);
    await client.log.next({ type: client.gm.network_type_non_blocking_connect, succeeded: 1 }, 10_000);
    const clientIp = client.gm.network_get_config(client.gm.network_config_virtual_ip) as string;
    const accepted = await host.log.next({ type: host.gm.network_type_connect, id: server });

    // Traffic both ways at about 100 packets/s, then the client's node is killed mid-stream.
    let sent = 0;
    const pump = setInterval(() => {
      send(client.gm, socket, Uint8Array.of(sent & 255));
      send(host.gm, accepted.socket as number, Uint8Array.of(sent & 255));
      sent++;
    }, 10);
    try {
      await host.log.next({ type: host.gm.network_type_data }, 10_000);
      await client.log.next({ type: client.gm.network_type_data }, 10_000);
      one.child.kill("SIGKILL");
      expect(await one.exited).toBe("SIGKILL");

      const atClient = await client.log.next({ type: client.gm.network_type_disconnect, id: socket }, 15_000);
      expect(atClient.error).toBe("E_NETWORK_NOT_RECOVERED");
      const atHost = await host.log.next({ type: host.gm.network_type_disconnect, socket: accepted.socket }, 15_000);
      expect(atHost.error).toBe("E_NETWORK_PEER_GONE");
    } finally {
      clearInterval(pump);
    }
    // Back through the balancer on node 2, with the address PostgreSQL keeps for its secret.
    const up = await client.log.next({ type: client.gm.network_type_up }, 15_000);
    expect(up.ip).toBe(clientIp);

    const again = client.gm.network_create_socket(client.gm.network_socket_tcp);
    client.gm.network_connect_async(again, hostIp, 6500);
    await client.log.next({ type: client.gm.network_type_non_blocking_connect, id: again, succeeded: 1 }, 10_000);
    const second = await host.log.next({ type: host.gm.network_type_connect, id: server });
    expect(send(client.gm, again, Uint8Array.of(7, 7, 7))).toBe(3);
    const data = await host.log.next({ type: host.gm.network_type_data, id: second.socket });
    expect([...data.bytes!]).toEqual([7, 7, 7]);
  }, 60_000);
});
