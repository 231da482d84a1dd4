/**
 * Engines on different nodes of one network (PROTOCOL.md §15): three signaling servers in this
 * process share a private PostgreSQL (identities) and a private Redis (routes and node streams).
 * A network_create_server on node 1 is reached by network_connect from node 3 by virtual IP,
 * packets go both ways in order, disconnects reach the other end, UDP datagrams cross nodes, and
 * an address whose node was closed fails as an offline one does. Every wait is a condition.
 */
import { describe, expect, it } from "vitest";
import type { GmnetServer } from "@gmnet/signaling-server";
import { parseIpv4 } from "@gmnet/protocol";
import { bufferOf, sendPacket, text } from "./support.js";
import { useEngineCluster } from "../support/engine-cluster.js";

const APP_KEY = "cluster-engines";
const cluster = useEngineCluster({ database: "gmnet_cluster_engines", nodes: [1, 2, 3], appKey: APP_KEY });
const { nodes, engineOn, startNode } = cluster;

/**
 * The engine learns its address from WELCOME; its node writes the route right after. Other nodes
 * find the address once the route is in Redis: wait for that (a condition, checked per round trip).
 */
async function routed(ip: string): Promise<void> {
  const key = `gmnet:route:${APP_KEY}:${parseIpv4(ip)!}`;
  for (let tries = 0; (await cluster.redis.call("EXISTS", key)) === 0; tries++) if (tries > 1000) throw new Error(`no route for ${ip}`);
}

async function host(server: GmnetServer, port = 6510) {
  const { gm, log } = engineOn(server);
  const socket = gm.network_create_server(gm.network_socket_tcp, port, 8);
  expect(socket).toBeGreaterThan(0);
  const up = await log.next({ type: gm.network_type_up });
  await routed(up.ip as string);
  return { gm, log, socket, ip: up.ip as string };
}

async function connect(server: GmnetServer, ip: string, port = 6510) {
  const { gm, log } = engineOn(server);
  const socket = gm.network_create_socket(gm.network_socket_tcp);
  expect(gm.network_connect_async(socket, ip, port)).toBe(0);
  return { gm, log, socket };
}

/** Distinct packets of 1 byte to ~12 KiB, so reordering or truncation shows. */
const packets = (count: number, salt: number): Uint8Array[] =>
  Array.from({ length: count }, (_, i) => Uint8Array.from({ length: 1 + ((i * 613) % 12_000) }, (_, j) => (i * 11 + j + salt) & 255));

describe("virtual TCP across nodes", () => {
  it("connects node 3 to a server on node 1, carries packets both ways in order, and reports the disconnect", async () => {
    const h = await host(nodes[0]!);
    const c = await connect(nodes[2]!, h.ip);
    expect(await c.log.next({ type: c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1, ip: h.ip, port: 6510 });
    const accepted = await h.log.next({ type: h.gm.network_type_connect });
    const peer = accepted.socket as number;
    expect(accepted.ip).toBe(c.gm.network_get_config(c.gm.network_config_virtual_ip));

    const up = packets(60, 1);
    const down = packets(60, 2);
    for (let i = 0; i < up.length; i++) {
      expect(sendPacket(c.gm, c.socket, up[i]!)).toBe(up[i]!.length);
      expect(sendPacket(h.gm, peer, down[i]!)).toBe(down[i]!.length);
    }
    for (let i = 0; i < up.length; i++) {
      const atHost = await h.log.next({ type: h.gm.network_type_data });
      expect(Buffer.compare(atHost.bytes!, up[i]!)).toBe(0);
      const atClient = await c.log.next({ type: c.gm.network_type_data });
      expect(Buffer.compare(atClient.bytes!, down[i]!)).toBe(0);
    }

    c.gm.network_destroy(c.socket);
    expect(await h.log.next({ type: h.gm.network_type_disconnect })).toMatchObject({ id: h.socket, socket: peer });
  });

  it("gives the client on node 2 a disconnect when the server on node 1 destroys its socket", async () => {
    const h = await host(nodes[0]!, 6511);
    const c = await connect(nodes[1]!, h.ip, 6511);
    await c.log.next({ type: c.gm.network_type_non_blocking_connect, succeeded: 1 });
    const accepted = await h.log.next({ type: h.gm.network_type_connect });
    expect(sendPacket(c.gm, c.socket, new TextEncoder().encode("ping"))).toBe(4);
    expect(text((await h.log.next({ type: h.gm.network_type_data })).bytes)).toBe("ping");
    h.gm.network_destroy(accepted.socket as number);
    expect(await c.log.next({ type: c.gm.network_type_disconnect })).toMatchObject({ id: c.socket, socket: c.socket });
  });

  it("fails a connection to an address whose node was closed, as to an offline one", async () => {
    const fourth = await startNode(4);
    const h = await host(fourth, 6512);
    await fourth.close();
    const c = await connect(nodes[2]!, h.ip, 6512);
    const failed = await c.log.next({ type: c.gm.network_type_non_blocking_connect });
    expect(failed.succeeded).toBe(0);
    const offline = await connect(nodes[2]!, "10.255.255.1", 6512);
    const alsoFailed = await offline.log.next({ type: offline.gm.network_type_non_blocking_connect });
    expect(alsoFailed.succeeded).toBe(0);
    expect(failed.error).toBe(alsoFailed.error);
  });
});

describe("host names across nodes", () => {
  it("connects node 3 by name to a server on node 1 that claimed it", async () => {
    const h = await host(nodes[0]!, 6513);
    const claim = h.gm.network_set_config(h.gm.network_config_hostname, "arena");
    expect(await h.log.next({ type: h.gm.network_type_hostname, id: claim })).toMatchObject({ succeeded: 1, ip: h.ip });
    // The name is taken on every node now.
    const rival = engineOn(nodes[1]!);
    const refused = rival.gm.network_set_config(rival.gm.network_config_hostname, "ARENA");
    expect(await rival.log.next({ type: rival.gm.network_type_hostname, id: refused })).toMatchObject({ succeeded: 0 });

    const c = await connect(nodes[2]!, "arena", 6513);
    expect(await c.log.next({ type: c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1, ip: h.ip, port: 6513 });
    const accepted = await h.log.next({ type: h.gm.network_type_connect });
    expect(sendPacket(c.gm, c.socket, new TextEncoder().encode("by name"))).toBe(7);
    expect(text((await h.log.next({ type: h.gm.network_type_data })).bytes)).toBe("by name");
    expect(accepted.ip).toBe(c.gm.network_get_config(c.gm.network_config_virtual_ip));
  });
});

describe("app channels across nodes", () => {
  async function member(server: GmnetServer) {
    const { gm, log } = engineOn(server);
    const request = gm.network_channel_register("cluster-lobby");
    const ip = (await log.next({ type: gm.network_type_up })).ip as string;
    const answer = await log.next({ type: gm.network_type_channel, id: request });
    expect(answer).toMatchObject({ name: "cluster-lobby", succeeded: 1 });
    return { gm, log, ip, channel: answer.channel as number };
  }

  function say(from: Awaited<ReturnType<typeof member>>, type: number, content: string): void {
    const buffer = bufferOf(from.gm, content);
    expect(from.gm.network_channel_send(from.channel, type, buffer, content.length, from.gm.network_priority_normal)).toBe(content.length);
    from.gm.buffer_delete(buffer);
  }

  it("gives engines on three nodes the same number, and each gets the others' messages with the sender's ip", async () => {
    const players = await Promise.all(nodes.map(member));
    const channel = players[0]!.channel;
    expect(channel).toBeGreaterThanOrEqual(1000);
    expect(players.map((p) => p.channel)).toEqual([channel, channel, channel]);
    for (const [i, from] of players.entries()) say(from, 20 + i, `from node ${i + 1}`);
    for (const [i, from] of players.entries()) {
      for (const receiver of players) {
        if (receiver === from) continue;
        const got = await receiver.log.next({ type: receiver.gm.network_type_channel_data, packet_type: 20 + i });
        expect(got).toMatchObject({ channel, name: "cluster-lobby", ip: from.ip });
        expect(text(got.bytes)).toBe(`from node ${i + 1}`);
      }
    }
    // Nobody hears their own messages.
    for (const [i, player] of players.entries()) expect(player.log.seen.filter((event) => event.type === player.gm.network_type_channel_data && event.packet_type === 20 + i)).toHaveLength(0);
  });
});

describe("UDP across nodes", () => {
  it("delivers datagrams both ways between engines on different nodes", async () => {
    const [first, second] = [engineOn(nodes[0]!), engineOn(nodes[2]!)];
    const a = { ...first, socket: first.gm.network_create_socket_ext(first.gm.network_socket_udp, 7100) };
    const b = { ...second, socket: second.gm.network_create_socket_ext(second.gm.network_socket_udp, 7200) };
    const aIp = (await a.log.next({ type: a.gm.network_type_up })).ip as string;
    const bIp = (await b.log.next({ type: b.gm.network_type_up })).ip as string;
    await Promise.all([routed(aIp), routed(bIp)]);
    const udp = (from: typeof a, ip: string, port: number, content: string): void => {
      const buffer = bufferOf(from.gm, content);
      expect(from.gm.network_send_udp(from.socket, ip, port, buffer, content.length)).toBe(content.length);
      from.gm.buffer_delete(buffer);
    };
    udp(a, bIp, 7200, "to node 3");
    const atB = await b.log.next({ type: b.gm.network_type_data });
    expect(atB).toMatchObject({ id: b.socket, ip: aIp, port: 7100 });
    expect(text(atB.bytes)).toBe("to node 3");
    udp(b, aIp, 7100, "to node 1");
    const atA = await a.log.next({ type: a.gm.network_type_data });
    expect(atA).toMatchObject({ id: a.socket, ip: bIp, port: 7200 });
    expect(text(atA.bytes)).toBe("to node 1");
  });
});

describe("broadcast across nodes", () => {
  it("reaches UDP sockets bound on nodes 1 and 3 from a sender on node 2, stamped with its address", async () => {
    const bound = await Promise.all(
      [nodes[0]!, nodes[1]!, nodes[2]!].map(async (server) => {
        const { gm, log } = engineOn(server);
        const socket = gm.network_create_socket_ext(gm.network_socket_udp, 7500);
        const ip = (await log.next({ type: gm.network_type_up })).ip as string;
        return { gm, log, socket, ip };
      }),
    );
    // Every node has recorded its binding once its node id is in the port's set.
    const key = `gmnet:udpnodes:${APP_KEY}:7500`;
    for (let tries = 0; ((await cluster.redis.call("SMEMBERS", key)) as string[]).length < 3; tries++) if (tries > 1000) throw new Error("bindings not recorded");
    const [first, sender, third] = bound as [(typeof bound)[0], (typeof bound)[0], (typeof bound)[0]];
    const buffer = bufferOf(sender.gm, "to every node");
    expect(sender.gm.network_send_broadcast(sender.socket, 7500, buffer, 13)).toBe(13);
    sender.gm.buffer_delete(buffer);
    for (const receiver of [first, third]) {
      const got = await receiver.log.next({ type: receiver.gm.network_type_data });
      expect(got).toMatchObject({ id: receiver.socket, ip: sender.ip, port: 7500 });
      expect(text(got.bytes)).toBe("to every node");
    }
  });
});
