/**
 * WebRTC signaling and route takeover across nodes (PROTOCOL.md §15): three servers in this
 * process share a private PostgreSQL (identities) and a private Redis (routes, liveness, node
 * streams). A SIGNAL RELAY reaches a client on another node stamped with the sender's address, in
 * the order it was sent; an address nobody holds, another app key's, or one whose session left
 * after the lookup is refused NOT_A_PARTICIPANT as on one node. An identity that connects to
 * another node replaces its old session there with 4003 REPLACED, and the old session's streams
 * end as they do on one node. Every wait is a condition.
 */
import {
  Channel,
  CloseCode,
  CloseReason,
  ArbitraryData,
  Priority,
  ProtocolError,
  SignalKind,
  SignalRelay,
  SignalType,
  SocketClosed,
  VSocketType,
  parseIpv4,
} from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { ProtocolClient } from "./support/protocol-client.js";
import { useCluster } from "./support/test-cluster.js";
import { barrier, connectPair, nextV, sendV } from "./support/virtual-sockets.js";

const APP_KEY = "cluster-signal";
/** Addresses outside the virtual network (10.0.0.0/8), so no client can ever hold them. */
const NOBODY = parseIpv4("192.168.77.1")!;
const GHOST = parseIpv4("192.168.77.2")!;

// A signal rate limit far above the default (200), so no test here meets it.
const cluster = useCluster({ database: "gmnet_cluster_signal", nodes: [1, 2, 3], options: { signalRateLimit: 10_000 }, appKey: APP_KEY });
const { nodes, clientOn, track } = cluster;

function relay(client: ProtocolClient, peerIp: number, pairId: number, kind: number, data: string): void {
  client.send(Channel.SIGNAL, SignalType.RELAY, SignalRelay.encode({ peerIp, pairId, kind, data }));
}

async function nextRelay(client: ProtocolClient) {
  const frame = await client.next(Channel.SIGNAL, SignalType.RELAY);
  return { ...SignalRelay.decode(frame.payload), priority: frame.priority };
}

const routeKey = (ip: number): string => `gmnet:route:${APP_KEY}:${ip >>> 0}`;

/** A resumable session on node 1 with a stream from a client on node 3 (from `peerPort`), then its connection dropped: detached. */
async function detachedWithStream(peerPort: number) {
  const first = await ProtocolClient.resumable(nodes[0]!.address().wsUrl, { appKey: APP_KEY });
  track(first);
  await barrier(first);
  const peer = await clientOn(nodes[2]!);
  const pair = await connectPair(peer, first, peerPort, 6510);
  await first.drop();
  return { first, peer, pair };
}

describe("SIGNAL RELAY across nodes", () => {
  it("relays an offer from node 1 to node 3 and the answer back, stamped with the sender's address", async () => {
    const a = await clientOn(nodes[0]!);
    const b = await clientOn(nodes[2]!);
    const offer = '{"type":"offer","sdp":"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1"}';
    // The sender claims nothing about itself: the server stamps its address.
    relay(a, b.welcome.virtualIp, 7, SignalKind.OFFER, offer);
    expect(await nextRelay(b)).toEqual({ peerIp: a.welcome.virtualIp, pairId: 7, kind: SignalKind.OFFER, data: offer, priority: Priority.HIGH });

    const answer = '{"type":"answer","sdp":"v=0 ünïcödé"}';
    relay(b, a.welcome.virtualIp, 7, SignalKind.ANSWER, answer);
    expect(await nextRelay(a)).toEqual({ peerIp: b.welcome.virtualIp, pairId: 7, kind: SignalKind.ANSWER, data: answer, priority: Priority.HIGH });

    for (const kind of [SignalKind.CANDIDATE, SignalKind.RENEGOTIATE, SignalKind.CLOSE]) {
      relay(a, b.welcome.virtualIp, 8, kind, `{"kind":${kind}}`);
      expect(await nextRelay(b)).toMatchObject({ peerIp: a.welcome.virtualIp, pairId: 8, kind, data: `{"kind":${kind}}` });
    }
  });

  it("keeps the order of a burst, with the refusals of an offline address in their place", async () => {
    const a = await clientOn(nodes[0]!);
    const b = await clientOn(nodes[2]!);
    const count = 300;
    // Every tenth relay goes to an address nobody holds; the others to B on node 3.
    const offline = (i: number): boolean => i % 10 === 9;
    for (let i = 0; i < count; i++) relay(a, offline(i) ? NOBODY : b.welcome.virtualIp, i + 1, SignalKind.CANDIDATE, `candidate ${i}`);
    const expected = Array.from({ length: count }, (_, i) => i).filter((i) => !offline(i));
    const got: Array<{ pairId: number; data: string }> = [];
    for (let i = 0; i < expected.length; i++) {
      const { pairId, data, peerIp } = await nextRelay(b);
      expect(peerIp).toBe(a.welcome.virtualIp);
      got.push({ pairId, data });
    }
    expect(got).toEqual(expected.map((i) => ({ pairId: i + 1, data: `candidate ${i}` })));
    const refused: number[] = [];
    for (let i = 0; i < count / 10; i++) {
      const error = await a.nextError();
      expect(error).toMatchObject({ code: ProtocolError.NOT_A_PARTICIPANT, refChannel: Channel.SIGNAL, refType: SignalType.RELAY });
      refused.push(error.refId);
    }
    expect(refused).toEqual(Array.from({ length: count / 10 }, (_, i) => i * 10 + 10));
  });

  it("refuses an offline address and another app key's address with NOT_A_PARTICIPANT, refId = pairId", async () => {
    const a = await clientOn(nodes[0]!);
    const other = await clientOn(nodes[2]!, { appKey: "cluster-signal-other" });
    relay(a, NOBODY, 31, SignalKind.OFFER, "{}");
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.NOT_A_PARTICIPANT, refChannel: Channel.SIGNAL, refType: SignalType.RELAY, refId: 31 });
    relay(a, other.welcome.virtualIp, 32, SignalKind.OFFER, "{}");
    const error = await a.nextError();
    // Indistinguishable from the offline address: the same code and the same kind of message.
    expect(error).toMatchObject({ code: ProtocolError.NOT_A_PARTICIPANT, refId: 32 });
    expect(error.message).toMatch(/^no client of this app holds /);
    // Anything relayed to `other` would have been queued before A's error; a round trip of its own proves nothing is on the way.
    await barrier(other);
    expect(other.frames.filter((frame) => frame.channel === Channel.SIGNAL)).toEqual([]);
  });

  it("refuses a relay whose target left its node after the lookup, through the target's node", async () => {
    const a = await clientOn(nodes[0]!);
    // A route to live node 3 for an address no session there holds: what the sender's node sees
    // when the target leaves between its lookup and the relay's arrival.
    await cluster.redis.call("SET", routeKey(GHOST), "3/gone-session", "PX", 60_000);
    relay(a, GHOST, 41, SignalKind.OFFER, "{}");
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.NOT_A_PARTICIPANT, refChannel: Channel.SIGNAL, refType: SignalType.RELAY, refId: 41 });
    // The stale route is not node 3's to remove: it never owned it (compare-and-delete).
    expect(await cluster.redis.call("GET", routeKey(GHOST))).toBe("3/gone-session");
  });
});

describe("route takeover across nodes", () => {
  it("closes the node-1 session with 4003 when its identity connects to node 2; its peers see it leave, the new one is reached", async () => {
    const first = await clientOn(nodes[0]!);
    const peer = await clientOn(nodes[2]!);
    const pair = await connectPair(peer, first, 40001, 6510);

    const second = await clientOn(nodes[1]!, { secret: first.secret });
    expect(second.welcome.virtualIp).toBe(first.welcome.virtualIp);
    expect(await first.closed()).toBe(CloseCode.REPLACED);
    // As on one node: the replaced session's streams end with PEER_GONE.
    expect(await nextV(peer, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: pair.connId, reason: CloseReason.PEER_GONE });
    expect(String(await cluster.redis.call("GET", routeKey(second.welcome.virtualIp)))).toBe(`2/${second.sessionId}`);

    // The address now leads to node 2: streams and signaling reach the new session.
    const again = await connectPair(peer, second, 40002, 6510);
    expect(again.connId).not.toBe(pair.connId);
    relay(peer, second.welcome.virtualIp, 51, SignalKind.OFFER, "to node 2");
    expect(await nextRelay(second)).toMatchObject({ peerIp: peer.welcome.virtualIp, pairId: 51, data: "to node 2" });
    expect(second.closeCode).toBeUndefined();
  });

  it("closes a session whose route another node took even when the REPLACED notice was lost, after a round of grace", async () => {
    const first = await clientOn(nodes[0]!);
    // What a takeover by node 2 leaves in Redis, without its notice (lost in a Redis outage).
    await cluster.redis.call("SET", routeKey(first.welcome.virtualIp), "2/a-session-of-node-2");
    // Seen on node 1's next liveness round (every 5 s), closed on the one after it.
    expect(await first.closed()).toBe(CloseCode.REPLACED);
    // Its route stays the new owner's: a compare-and-delete does not remove it.
    expect(String(await cluster.redis.call("GET", routeKey(first.welcome.virtualIp)))).toBe("2/a-session-of-node-2");
  }, 30_000);

  it("replaces a detached session on node 1 when its client resumes on node 2 and gets a new session", async () => {
    const { first, peer, pair } = await detachedWithStream(40003);

    const second = await ProtocolClient.resume(nodes[1]!.address().wsUrl, first);
    track(second);
    // Sessions stay node-local: node 2 opens a new one, which takes the address over.
    expect(second.resumed?.resumed).toBe(false);
    expect(await nextV(peer, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: pair.connId, reason: CloseReason.PEER_GONE });
    await barrier(second);
    relay(peer, second.welcome.virtualIp, 52, SignalKind.OFFER, "resumed elsewhere");
    expect(await nextRelay(second)).toMatchObject({ peerIp: peer.welcome.virtualIp, pairId: 52 });
  });

  it("leaves a session alone when it resumes on its own node", async () => {
    const { first, peer, pair } = await detachedWithStream(40004);

    const back = await ProtocolClient.resume(nodes[0]!.address().wsUrl, first);
    track(back);
    expect(back.resumed?.resumed).toBe(true);
    // The stream survived the resume: data and signaling still reach the same session.
    relay(peer, back.welcome.virtualIp, 53, SignalKind.OFFER, "still here");
    expect(await nextRelay(back)).toMatchObject({ peerIp: peer.welcome.virtualIp, pairId: 53 });
    await barrier(back);
    expect(back.closeCode).toBeUndefined();
    expect(peer.frames.filter((frame) => frame.channel === Channel.VSOCKET && frame.type === VSocketType.SOCKET_CLOSED)).toEqual([]);
    expect(String(await cluster.redis.call("GET", routeKey(back.welcome.virtualIp)))).toBe(`1/${back.sessionId}`);
    sendV(peer, VSocketType.ARBITRARY_DATA, ArbitraryData, { connId: pair.connId, seq: 1, data: new Uint8Array([5, 6]) });
    expect(await nextV(back, VSocketType.ARBITRARY_DATA, ArbitraryData)).toEqual({ connId: pair.connId, seq: 1, data: new Uint8Array([5, 6]) });
  });
});
