/**
 * WebRTC between engines on different nodes of one network (PROTOCOL.md §15): two signaling
 * servers in this process share a private PostgreSQL (identities) and a private Redis (routes and
 * node streams). The offer, answer and ICE candidates of a UDP peer link (real @roamhq/wrtc) can
 * only meet through the SIGNAL RELAY across nodes, so a datagram arriving over the DataChannel
 * proves the signaling relays end to end. Every wait is a condition.
 */
import { describe, expect, it } from "vitest";
import type { GmnetServer } from "@gmnet/signaling-server";
import { parseIpv4 } from "@gmnet/protocol";
import { type RecordedEvent, bufferOf, text } from "./support.js";
import { useEngineCluster } from "../support/engine-cluster.js";

const APP_KEY = "cluster-p2p";
/** How long ICE on loopback may take before the link must be open. */
const P2P_DEADLINE_MS = 15_000;
const cluster = useEngineCluster({ database: "gmnet_cluster_p2p", nodes: [1, 3], appKey: APP_KEY });
const { nodes, engineOn } = cluster;

/** An engine on `server` with a UDP socket bound to `port`, once its node has written its route. */
async function peerOn(server: GmnetServer, port: number) {
  const { gm, log } = engineOn(server);
  const socket = gm.network_create_socket_ext(gm.network_socket_udp, port);
  expect(socket).toBeGreaterThan(0);
  const ip = (await log.next({ type: gm.network_type_up })).ip as string;
  const route = async (): Promise<string> => String(await cluster.redis.call("GET", `gmnet:route:${APP_KEY}:${parseIpv4(ip)!}`));
  // The route names the node and session: read from Redis, independent of the engines.
  for (let tries = 0; (await route()) === "null"; tries++) if (tries > 1000) throw new Error(`no route for ${ip}`);
  return { gm, log, socket, ip, node: Number((await route()).split("/")[0]) };
}

type Peer = Awaited<ReturnType<typeof peerOn>>;

function sendUdp(from: Peer, to: Peer, port: number, content: string): void {
  const buffer = bufferOf(from.gm, content);
  expect(from.gm.network_send_udp(from.socket, to.ip, port, buffer, content.length)).toBe(content.length);
  from.gm.buffer_delete(buffer);
}

/**
 * Sends numbered datagrams one at a time, each after the previous one arrived, until one arrives
 * over the WebRTC DataChannel; the first goes through the relay while the link opens.
 */
async function untilP2p(from: Peer, to: Peer, port: number): Promise<RecordedEvent[]> {
  const arrived: RecordedEvent[] = [];
  const deadline = Date.now() + P2P_DEADLINE_MS;
  for (let i = 0; ; i++) {
    if (Date.now() > deadline) throw new Error(`no datagram over WebRTC within ${P2P_DEADLINE_MS} ms (${arrived.length} through the relay)`);
    sendUdp(from, to, port, `datagram ${i}`);
    const event = await to.log.next({ type: to.gm.network_type_data });
    arrived.push(event);
    if (event.via === "p2p") return arrived;
  }
}

describe("WebRTC across nodes", () => {
  it("opens a DataChannel between engines on node 1 and node 3 through the relayed signaling, used both ways", async () => {
    const a = await peerOn(nodes[0]!, 7100);
    const b = await peerOn(nodes[1]!, 7200);
    expect([a.node, b.node]).toEqual([1, 3]);

    const there = await untilP2p(a, b, 7200);
    expect(there[0]).toMatchObject({ via: "relay", ip: a.ip, port: 7100 });
    const direct = there.at(-1)!;
    expect(direct).toMatchObject({ id: b.socket, ip: a.ip, port: 7100, via: "p2p" });
    expect(text(direct.bytes)).toBe(`datagram ${there.length - 1}`);
    expect(a.gm.network_get_stats(a.socket)!.p2p_packets_sent).toBeGreaterThan(0);
    expect(b.gm.network_get_stats(b.socket)!.p2p_packets_received).toBeGreaterThan(0);

    // The link is shared: the answers go back over it too.
    const back = await untilP2p(b, a, 7100);
    expect(back.at(-1)).toMatchObject({ id: a.socket, ip: b.ip, port: 7200, via: "p2p" });
  });
});
