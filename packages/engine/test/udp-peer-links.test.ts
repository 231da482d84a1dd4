/**
 * PeerLinks with real WebRTC (@roamhq/wrtc, host candidates on loopback, no ICE servers): two
 * engines in one process, their signal ports joined back to back in memory (delivery is
 * asynchronous and ordered, and stamps the sender's virtual IP like the server does).
 *
 * Every wait is on an event (link state change, datagram arrival) with a generous test timeout;
 * nothing sleeps and then asserts. The peer adapter on its own is udp-peer-adapter.test.ts.
 *
 * Over 400 lines on purpose: one suite of one concern, PeerLinks' rules (peer-links.ts), every
 * test on the in-memory signaling harness above it.
 */
import wrtc from "@roamhq/wrtc";
import { afterEach, describe, expect, it } from "vitest";
import { PeerLinks } from "../src/network/udp/peer-links.js";
import { DEFAULT_MAX_PEERS, type PeerLinkState, type PeerLinksOptions } from "../src/network/udp/peer-links-options.js";
import { webRtcAvailable } from "../src/network/udp/peer-adapter.js";
import type { IceServer, SignalPort } from "../src/network/udp/signal-port.js";
import { SignalKind } from "@gmnet/protocol";
import type { Clock } from "../src/runtime/clock.js";
import { EventLog } from "./support/event-log.js";

const IP_A = 0x0a000005; // 10.0.0.5, the lower one
const IP_B = 0x0a000009; // 10.0.0.9
const IP_C = 0x0a00000c; // 10.0.0.12
const WEBRTC_TIMEOUT = 20_000;

// ------------------------------------------------------------------ helpers

interface SentSignal {
  peerIp: number;
  pairId: number;
  kind: number;
  data: string;
}

/** One end of an in-memory signaling connection. */
class MemorySignalPort implements SignalPort {
  onSignal: SignalPort["onSignal"];
  /** The other end; undefined: signals vanish (a peer that never answers). */
  other: MemorySignalPort | undefined;
  /** While set, outgoing signals wait here (in order) instead of being delivered. */
  held: (() => void)[] | undefined;
  readonly log = new EventLog<SentSignal>();

  constructor(readonly ip: number) {}

  localIp(): number {
    return this.ip;
  }

  sendSignal(peerIp: number, pairId: number, kind: number, data: string): boolean {
    this.log.push({ peerIp, pairId, kind, data });
    const other = this.other;
    if (!other || other.ip !== peerIp) return true;
    const deliver = () => setImmediate(() => other.onSignal?.(this.ip, pairId, kind, data));
    if (this.held) this.held.push(deliver);
    else deliver();
    return true;
  }

  hold(): void {
    this.held ??= [];
  }

  /** Delivers the held signals, in order, and stops holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const deliver of held) deliver();
  }

  iceServers(): Promise<IceServer[]> {
    return Promise.resolve([]);
  }

  /** Delivers a RELAY as if the server had stamped it with `peerIp`. */
  inject(peerIp: number, pairId: number, kind: number, data: unknown): void {
    this.onSignal?.(peerIp, pairId, kind, data as string);
  }

  get sent(): SentSignal[] {
    return this.log.items;
  }

  sentOf(kind: number): SentSignal[] {
    return this.sent.filter((signal) => signal.kind === kind);
  }
}

/** Real timers, a movable now(), and a count of the timers that are still pending. */
class CountingClock implements Clock {
  offset = 0;
  readonly pending = new Set<ReturnType<typeof setTimeout>>();

  now(): number {
    return performance.now() + this.offset;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = setTimeout(() => {
      this.pending.delete(handle);
      callback();
    }, ms);
    this.pending.add(handle);
    return handle;
  }

  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
    this.pending.delete(handle as ReturnType<typeof setTimeout>);
  }
}

interface Received {
  peerIp: number;
  srcPort: number;
  dstPort: number;
  data: number[];
  via: string;
}

interface StateChange {
  peerIp: number;
  reliable: boolean;
  state: PeerLinkState;
}

interface TestEngine {
  ip: number;
  port: MemorySignalPort;
  clock: CountingClock;
  links: PeerLinks;
  states: EventLog<StateChange>;
  inbox: EventLog<Received>;
  /** Resolves when the link to `peerIp` of that reliability reaches `state` (from state change number `from` on). */
  reaches(peerIp: number, reliable: boolean, state: PeerLinkState, from?: number): Promise<StateChange>;
}

const created: PeerLinks[] = [];

function engine(ip: number, options: Partial<PeerLinksOptions> = {}): TestEngine {
  const port = new MemorySignalPort(ip);
  const clock = new CountingClock();
  const states = new EventLog<StateChange>();
  const inbox = new EventLog<Received>();
  const links = new PeerLinks({
    signal: port,
    wrtc,
    clock,
    connectTimeoutMs: 15_000,
    retryAfterMs: 60_000,
    onDatagram: (peerIp, srcPort, dstPort, data, via) => inbox.push({ peerIp, srcPort, dstPort, data: Array.from(data), via }),
    onLinkState: (peerIp, reliable, state) => states.push({ peerIp, reliable, state }),
    ...options,
  });
  created.push(links);
  // Waiting for "open" fails fast (with the reason) if the link fails instead.
  const reaches = async (peerIp: number, reliable: boolean, state: PeerLinkState, from = 0) => {
    const change = await states.waitFor((c) => c.peerIp === peerIp && c.reliable === reliable && (c.state === state || (state === "open" && c.state === "failed")), from);
    if (change.state !== state) throw new Error(`link ${ip.toString(16)} → ${peerIp.toString(16)} (${reliable ? "reliable" : "unreliable"}) failed instead of opening`);
    return change;
  };
  return { ip, port, clock, links, states, inbox, reaches };
}

/** Two engines whose signal ports are joined. */
function pair(options: Partial<PeerLinksOptions> = {}): [TestEngine, TestEngine] {
  const a = engine(IP_A, options);
  const b = engine(IP_B, options);
  a.port.other = b.port;
  b.port.other = a.port;
  return [a, b];
}

/** Opens the link of that reliability from `from` to `to` (on demand, like the engine does) and waits until both ends are open. */
async function openLink(from: TestEngine, to: TestEngine, reliable: boolean): Promise<void> {
  const opened = Promise.all([from.reaches(to.ip, reliable, "open", from.states.items.length), to.reaches(from.ip, reliable, "open", to.states.items.length)]);
  expect(from.links.trySend(to.ip, 1, 1, Uint8Array.of(0), reliable)).toBe(false);
  await opened;
}

/**
 * Sends over an unreliable link until the datagram arrives (loss on loopback is unlikely, but
 * an unreliable channel is allowed to lose one); resends every 100 ms, at most 50 times.
 */
async function sendUntilReceived(from: TestEngine, to: TestEngine, srcPort: number, dstPort: number, data: Uint8Array, reliable: boolean): Promise<Received> {
  const start = to.inbox.items.length;
  const arrived = to.inbox.waitFor((item) => item.peerIp === from.ip && item.srcPort === srcPort && item.dstPort === dstPort, start);
  expect(from.links.trySend(to.ip, srcPort, dstPort, data, reliable)).toBe(true);
  let tries = 0;
  const timer = setInterval(() => {
    if (++tries < 50) from.links.trySend(to.ip, srcPort, dstPort, data, reliable);
  }, 100);
  try {
    return await arrived;
  } finally {
    clearInterval(timer);
  }
}

/**
 * `a` opens no link of either kind (nothing is signalled), and answers `b`'s offer of a `reliable`
 * link with a CLOSE at once, so `b` falls back without waiting for its timeout.
 */
async function refusesLinks(a: TestEngine, b: TestEngine, reliable: boolean): Promise<void> {
  for (const kind of [false, true]) expect(a.links.trySend(b.ip, 1, 2, Uint8Array.of(1), kind)).toBe(false);
  expect(a.links.state(b.ip, false)).toBe("none");
  expect(a.port.sent).toEqual([]);
  const refused = b.reaches(a.ip, reliable, "failed");
  expect(b.links.trySend(a.ip, 2, 1, Uint8Array.of(1), reliable)).toBe(false);
  await refused;
  expect(a.port.sent.map((s) => s.kind)).toEqual([SignalKind.CLOSE]);
}

const envelope = (reliable: unknown, signal: unknown): string => JSON.stringify({ reliable, signal });

afterEach(() => {
  for (const links of created.splice(0)) links.close();
});

// ------------------------------------------------------------------ tests

describe("PeerLinks over real WebRTC", { timeout: WEBRTC_TIMEOUT }, () => {
  it("WebRTC is available through @roamhq/wrtc (and not as Node globals)", () => {
    expect(webRtcAvailable(wrtc)).toBe(true);
    expect(webRtcAvailable(undefined)).toBe(false);
  });

  it("opens a link on demand, then carries datagrams both ways with their ports and bytes", async () => {
    const [a, b] = pair();
    const openA = a.reaches(IP_B, false, "open");
    const openB = b.reaches(IP_A, false, "open");

    expect(a.links.trySend(IP_B, 6510, 6511, Uint8Array.of(1, 2, 3), false)).toBe(false);
    expect(a.links.state(IP_B, false)).toBe("connecting");
    expect(a.links.state(IP_B, true)).toBe("none");
    // A second send while connecting neither succeeds nor starts a second link.
    expect(a.links.trySend(IP_B, 6510, 6511, Uint8Array.of(1, 2, 3), false)).toBe(false);
    const offers = a.port.sentOf(SignalKind.OFFER);
    expect(offers.length).toBeLessThanOrEqual(1); // simple-peer makes its offer asynchronously
    await openA;
    await openB;

    const offer = a.port.sentOf(SignalKind.OFFER);
    expect(offer).toHaveLength(1);
    expect(offer[0]?.peerIp).toBe(IP_B);
    const offerJson = JSON.parse(offer[0]?.data ?? "") as { reliable: boolean; signal: { type: string; sdp: string } };
    expect(offerJson.reliable).toBe(false);
    expect(offerJson.signal.type).toBe("offer");
    expect(offerJson.signal.sdp).toContain("webrtc-datachannel");
    expect(b.port.sentOf(SignalKind.ANSWER)).toHaveLength(1);
    expect(a.port.sentOf(SignalKind.CANDIDATE).length).toBeGreaterThan(0);

    const infoA = a.links.describe(IP_B, false);
    const infoB = b.links.describe(IP_A, false);
    expect(infoA?.initiator).toBe(true);
    expect(infoB?.initiator).toBe(false);
    expect(infoA?.pairId).toBe(offer[0]?.pairId);
    expect(infoB?.pairId).toBe(infoA?.pairId);
    expect(a.links.state(IP_B, false)).toBe("open");
    expect(b.links.state(IP_A, false)).toBe("open");

    const there = await sendUntilReceived(a, b, 6510, 6511, Uint8Array.of(1, 2, 3, 250), false);
    expect(there).toEqual({ peerIp: IP_A, srcPort: 6510, dstPort: 6511, data: [1, 2, 3, 250], via: "p2p" });
    const back = await sendUntilReceived(b, a, 6511, 6510, new TextEncoder().encode("pong"), false);
    expect(back).toEqual({ peerIp: IP_B, srcPort: 6511, dstPort: 6510, data: Array.from(new TextEncoder().encode("pong")), via: "p2p" });
    // An empty datagram is a datagram too.
    const empty = await sendUntilReceived(a, b, 7000, 7001, new Uint8Array(0), false);
    expect(empty.data).toEqual([]);

    const rtt = await a.links.rtt(IP_B);
    expect(typeof rtt).toBe("number");
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(await a.links.rtt(IP_C)).toBeUndefined();
    expect(a.states.items.some((change) => change.state === "failed")).toBe(false);
  });

  it("keeps reliable and unreliable links apart, each with its own channel configuration", async () => {
    const [a, b] = pair();
    await Promise.all([openLink(a, b, true), openLink(a, b, false)]);

    const reliableA = a.links.describe(IP_B, true);
    const unreliableA = a.links.describe(IP_B, false);
    expect(reliableA?.pairId).not.toBe(unreliableA?.pairId);
    expect(b.links.describe(IP_A, true)?.pairId).toBe(reliableA?.pairId);
    expect(b.links.describe(IP_A, false)?.pairId).toBe(unreliableA?.pairId);

    // Both ends of each channel see the configuration the initiator asked for.
    for (const side of [a.links.describe(IP_B, false), b.links.describe(IP_A, false)]) {
      expect(side?.channel?.ordered).toBe(false);
      expect(side?.channel?.maxRetransmits).toBe(0);
      expect(side?.channel?.readyState).toBe("open");
    }
    for (const side of [a.links.describe(IP_B, true), b.links.describe(IP_A, true)]) {
      expect(side?.channel?.ordered).toBe(true);
      // No retransmission limit: null in browsers; @roamhq/wrtc reports 65535 for "not set".
      expect([null, 65535]).toContain(side?.channel?.maxRetransmits);
      expect([null, 65535]).toContain(side?.channel?.maxPacketLifeTime);
    }

    // The reliable link delivers everything, in order.
    const start = b.inbox.items.length;
    const count = 40;
    for (let i = 0; i < count; i++) expect(a.links.trySend(IP_B, 100, 200, Uint8Array.of(i, 0xab), true)).toBe(true);
    await b.inbox.waitFor(() => b.inbox.items.length - start >= count, start);
    expect(b.inbox.items.slice(start).map((item) => item.data[0])).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(b.inbox.items.slice(start).every((item) => item.srcPort === 100 && item.dstPort === 200 && item.data[1] === 0xab)).toBe(true);

    const unreliable = await sendUntilReceived(b, a, 300, 400, Uint8Array.of(7), false);
    expect(unreliable.data).toEqual([7]);
    const reliableBack = await sendUntilReceived(b, a, 301, 401, Uint8Array.of(8), true);
    expect(reliableBack.data).toEqual([8]);

    // Closing one leaves the other open.
    const closedB = b.reaches(IP_A, true, "failed");
    a.links.closePeer(IP_C); // unknown peer: nothing happens
    expect(a.links.state(IP_B, true)).toBe("open");
    b.port.inject(IP_A, reliableA?.pairId ?? 0, SignalKind.CLOSE, "{}");
    await closedB;
    expect(b.links.state(IP_A, true)).toBe("failed");
    expect(b.links.state(IP_A, false)).toBe("open");
    expect(await sendUntilReceived(a, b, 9, 10, Uint8Array.of(1), false)).toMatchObject({ srcPort: 9, dstPort: 10 });
  });

  it("resolves glare: both start at once, the lower IP's offer wins, one link per reliability, data flows", async () => {
    const [a, b] = pair();
    const opened = Promise.all([a.reaches(IP_B, false, "open"), b.reaches(IP_A, false, "open"), a.reaches(IP_B, true, "open"), b.reaches(IP_A, true, "open")]);
    // Hold both directions until both engines have sent both offers: a real crossing of offers.
    a.port.hold();
    b.port.hold();
    const offersOf = (port: MemorySignalPort) => port.log.waitFor(() => port.sentOf(SignalKind.OFFER).length === 2);
    for (const reliable of [false, true]) {
      expect(a.links.trySend(IP_B, 5, 6, Uint8Array.of(1), reliable)).toBe(false);
      expect(b.links.trySend(IP_A, 6, 5, Uint8Array.of(2), reliable)).toBe(false);
    }
    await Promise.all([offersOf(a.port), offersOf(b.port)]);
    a.port.release();
    b.port.release();
    await opened;

    for (const reliable of [false, true]) {
      const infoA = a.links.describe(IP_B, reliable);
      const infoB = b.links.describe(IP_A, reliable);
      expect(infoA?.initiator).toBe(true); // 10.0.0.5 < 10.0.0.9 keeps its offer
      expect(infoB?.initiator).toBe(false);
      expect(infoB?.pairId).toBe(infoA?.pairId);
      expect(infoA?.state).toBe("open");
      expect(infoB?.state).toBe("open");
    }
    // Both offered; only B answered, and nobody had to send CLOSE.
    expect(a.port.sentOf(SignalKind.OFFER)).toHaveLength(2);
    expect(b.port.sentOf(SignalKind.OFFER)).toHaveLength(2);
    expect(a.port.sentOf(SignalKind.ANSWER)).toHaveLength(0);
    expect(b.port.sentOf(SignalKind.ANSWER)).toHaveLength(2);
    expect(b.port.sentOf(SignalKind.ANSWER).map((s) => s.pairId).sort()).toEqual(a.port.sentOf(SignalKind.OFFER).map((s) => s.pairId).sort());
    expect([...a.port.sent, ...b.port.sent].some((s) => s.kind === SignalKind.CLOSE)).toBe(false);
    expect([...a.states.items, ...b.states.items].some((change) => change.state === "failed")).toBe(false);

    for (const reliable of [false, true]) {
      expect((await sendUntilReceived(a, b, 11, 12, Uint8Array.of(reliable ? 1 : 0), reliable)).data).toEqual([reliable ? 1 : 0]);
      expect((await sendUntilReceived(b, a, 12, 11, Uint8Array.of(reliable ? 3 : 2), reliable)).data).toEqual([reliable ? 3 : 2]);
    }
  });

  it("a peer that never answers: failed after connectTimeoutMs, relay-only until retryAfterMs, then a new attempt", async () => {
    const a = engine(IP_A, { connectTimeoutMs: 300, retryAfterMs: 5_000 });
    // a.port.other stays undefined: every signal vanishes.
    const failed = a.reaches(IP_B, false, "failed");
    const started = a.clock.now();
    expect(a.links.trySend(IP_B, 1, 2, Uint8Array.of(1), false)).toBe(false);
    expect(a.links.state(IP_B, false)).toBe("connecting");
    const pairId = a.links.describe(IP_B, false)?.pairId;
    expect(pairId).toBeGreaterThan(0);
    expect(a.clock.pending.size).toBe(1);
    await failed;

    expect(a.clock.now() - started).toBeGreaterThanOrEqual(290);
    expect(a.links.state(IP_B, false)).toBe("failed");
    expect(a.links.describe(IP_B, false)).toBeUndefined();
    expect(a.clock.pending.size).toBe(0);
    // At most the one offer (a loaded machine may not have produced it within 300 ms).
    expect(a.port.sentOf(SignalKind.OFFER).every((s) => s.pairId === pairId && s.peerIp === IP_B)).toBe(true);
    expect(a.port.sentOf(SignalKind.OFFER).length).toBeLessThanOrEqual(1);
    // The other side is told to stop waiting.
    expect(a.port.sentOf(SignalKind.CLOSE)).toEqual([{ peerIp: IP_B, pairId, kind: SignalKind.CLOSE, data: "{}" }]);

    // Inside the retry window: relay only, no new attempt.
    const sentBefore = a.port.sent.length;
    const statesBefore = a.states.items.length;
    for (let i = 0; i < 5; i++) expect(a.links.trySend(IP_B, 1, 2, Uint8Array.of(1), false)).toBe(false);
    expect(a.links.state(IP_B, false)).toBe("failed");
    a.clock.offset += 4_000;
    expect(a.links.trySend(IP_B, 1, 2, Uint8Array.of(1), false)).toBe(false);
    expect(a.links.state(IP_B, false)).toBe("failed");
    expect(a.port.sent.length).toBe(sentBefore);
    expect(a.states.items.length).toBe(statesBefore);
    expect(a.clock.pending.size).toBe(0);
    // The other reliability has its own window.
    expect(a.links.state(IP_B, true)).toBe("none");

    // After the window: a new link, with a new pairId.
    a.clock.offset += 1_500;
    expect(a.links.state(IP_B, false)).toBe("none");
    expect(a.links.trySend(IP_B, 1, 2, Uint8Array.of(1), false)).toBe(false);
    expect(a.links.state(IP_B, false)).toBe("connecting");
    expect(a.states.items.slice(statesBefore)).toEqual([{ peerIp: IP_B, reliable: false, state: "connecting" }]);
    const newPairId = a.links.describe(IP_B, false)?.pairId;
    expect(newPairId).toBeGreaterThan(0);
    expect(newPairId).not.toBe(pairId);
    expect(a.clock.pending.size).toBe(1);

    a.links.close();
    expect(a.links.state(IP_B, false)).toBe("none");
    expect(a.clock.pending.size).toBe(0);
  });

  it("disabled: trySend is false and sends no signal; offers are answered with CLOSE; disabling closes open links", async () => {
    const [a, b] = pair();
    a.links.setEnabled(false);
    expect(a.links.enabled).toBe(false);
    await refusesLinks(a, b, false);
    expect(a.port.sent[0]?.pairId).toBe(b.port.sentOf(SignalKind.OFFER)[0]?.pairId);
    expect(a.links.state(IP_B, false)).toBe("none");

    // Enabled again, A opens a link; disabling closes it and tells B.
    a.links.setEnabled(true);
    await openLink(a, b, true);
    const closedAtB = b.reaches(IP_A, true, "failed");
    const fromIndex = a.states.items.length;
    a.links.setEnabled(false);
    expect(a.links.state(IP_B, true)).toBe("none");
    expect(a.states.items.slice(fromIndex)).toEqual([{ peerIp: IP_B, reliable: true, state: "none" }]);
    expect(a.links.trySend(IP_B, 1, 2, Uint8Array.of(1), true)).toBe(false);
    await closedAtB;
    expect(a.clock.pending.size).toBe(0);
  });

  it("CLOSE from the other side drops the link and starts the retry window", async () => {
    const [a, b] = pair();
    await openLink(a, b, false);
    const pairId = a.links.describe(IP_B, false)?.pairId;
    const failed = a.reaches(IP_B, false, "failed");
    const fromIndex = b.states.items.length;

    b.links.closePeer(IP_A);
    expect(b.links.state(IP_A, false)).toBe("none");
    expect(b.states.items.slice(fromIndex)).toEqual([{ peerIp: IP_A, reliable: false, state: "none" }]);
    expect(b.port.sentOf(SignalKind.CLOSE).map((s) => s.pairId)).toEqual([pairId]);
    await failed;

    expect(a.links.state(IP_B, false)).toBe("failed");
    const sentBefore = a.port.sent.length;
    expect(a.links.trySend(IP_B, 1, 2, Uint8Array.of(1), false)).toBe(false);
    expect(a.port.sent.length).toBe(sentBefore);
    // B may still open a link to A (offers are taken during A's retry window).
    await openLink(b, a, false);
    expect(a.links.state(IP_B, false)).toBe("open");
    expect((await sendUntilReceived(a, b, 3, 4, Uint8Array.of(42), false)).data).toEqual([42]);
  });

  it("no WebRTC in the environment: relay only, and offers are refused with CLOSE", async () => {
    const a = engine(IP_A, { wrtc: undefined });
    const b = engine(IP_B);
    a.port.other = b.port;
    b.port.other = a.port;
    await refusesLinks(a, b, true);
  });

  it("ignores malformed, unknown and stale signals, and an open link survives them", async () => {
    const [a, b] = pair();
    const goodSdp = "v=0\r\n";
    const garbage: [number, number, number, unknown][] = [
      // bad kinds
      [IP_B, 0x00000007, 0, envelope(false, { type: "offer", sdp: goodSdp })],
      [IP_B, 0x00000007, 6, envelope(false, { type: "offer", sdp: goodSdp })],
      [IP_B, 0x00000007, 255, envelope(false, { type: "offer", sdp: goodSdp })],
      [IP_B, 0x00000007, Number.NaN, envelope(false, { type: "offer", sdp: goodSdp })],
      // bad pairIds and addresses
      [IP_B, 0, SignalKind.OFFER, envelope(false, { type: "offer", sdp: goodSdp })],
      [IP_B, -1, SignalKind.OFFER, envelope(false, { type: "offer", sdp: goodSdp })],
      [IP_B, 2 ** 32, SignalKind.OFFER, envelope(false, { type: "offer", sdp: goodSdp })],
      [IP_B, 1.5, SignalKind.OFFER, envelope(false, { type: "offer", sdp: goodSdp })],
      [0, 0x00000007, SignalKind.OFFER, envelope(false, { type: "offer", sdp: goodSdp })],
      [IP_A, 0x00000007, SignalKind.OFFER, envelope(false, { type: "offer", sdp: goodSdp })],
      [0xffffffff, 0x00000007, SignalKind.OFFER, envelope(false, { type: "offer", sdp: goodSdp })],
      // bit 31 says the receiver (the lower IP) picked it: not the sender's to offer
      [IP_B, 0x80000007, SignalKind.OFFER, envelope(false, { type: "offer", sdp: goodSdp })],
      // bad JSON and shapes
      [IP_B, 0x00000007, SignalKind.OFFER, ""],
      [IP_B, 0x00000007, SignalKind.OFFER, "not json {"],
      [IP_B, 0x00000007, SignalKind.OFFER, "null"],
      [IP_B, 0x00000007, SignalKind.OFFER, "[]"],
      [IP_B, 0x00000007, SignalKind.OFFER, "{}"],
      [IP_B, 0x00000007, SignalKind.OFFER, "42"],
      [IP_B, 0x00000007, SignalKind.OFFER, 42],
      [IP_B, 0x00000007, SignalKind.OFFER, null],
      [IP_B, 0x00000007, SignalKind.OFFER, { reliable: false }],
      [IP_B, 0x00000007, SignalKind.OFFER, envelope("yes", { type: "offer", sdp: goodSdp })],
      [IP_B, 0x00000007, SignalKind.OFFER, JSON.stringify({ signal: { type: "offer", sdp: goodSdp } })],
      [IP_B, 0x00000007, SignalKind.OFFER, envelope(false, null)],
      [IP_B, 0x00000007, SignalKind.OFFER, envelope(false, { type: "offer", sdp: 5 })],
      [IP_B, 0x00000007, SignalKind.OFFER, envelope(false, { type: "offer", sdp: "" })],
      [IP_B, 0x00000007, SignalKind.OFFER, envelope(false, { type: "offer", sdp: "x".repeat(17000) })],
      [IP_B, 0x00000007, SignalKind.OFFER, envelope(false, { type: "answer", sdp: goodSdp })], // kind and type disagree
      [IP_B, 0x00000007, SignalKind.OFFER, envelope(false, { sdp: goodSdp })],
      [IP_B, 0x00000007, SignalKind.RENEGOTIATE, envelope(false, { transceiverRequest: { kind: "audio" } })],
      [IP_B, 0x00000007, SignalKind.CANDIDATE, envelope(false, { type: "candidate", candidate: { candidate: "candidate:1", sdpMid: null, sdpMLineIndex: null } })],
      [IP_B, 0x00000007, SignalKind.CANDIDATE, envelope(false, { type: "candidate" })],
      [IP_B, 0x00000007, SignalKind.CANDIDATE, envelope(false, { type: "candidate", candidate: { candidate: 1, sdpMid: "0" } })],
      // well-formed, but for links that do not exist
      [IP_B, 0x00000007, SignalKind.ANSWER, envelope(false, { type: "answer", sdp: goodSdp })],
      [IP_B, 0x00000007, SignalKind.CANDIDATE, envelope(false, { type: "candidate", candidate: { candidate: "candidate:1", sdpMid: "0", sdpMLineIndex: 0 } })],
      [IP_B, 0x00000007, SignalKind.RENEGOTIATE, envelope(false, { type: "renegotiate", renegotiate: true })],
      [IP_B, 0x00000007, SignalKind.CLOSE, "{}"],
      [IP_B, 0x00000007, SignalKind.CLOSE, "garbage"],
      // far too long
      [IP_B, 0x00000007, SignalKind.OFFER, envelope(false, { type: "offer", sdp: goodSdp, pad: "y".repeat(100_000) })],
    ];
    for (const [peerIp, pairId, kind, data] of garbage) expect(() => a.port.inject(peerIp, pairId, kind, data)).not.toThrow();
    expect(a.port.sent).toEqual([]);
    expect(a.states.items).toEqual([]);
    expect(a.links.state(IP_B, false)).toBe("none");
    expect(a.clock.pending.size).toBe(0);

    // Now with an open link: garbage aimed at its pairId changes nothing.
    await openLink(a, b, false);
    const pairId = a.links.describe(IP_B, false)?.pairId ?? 0;
    const aimed: [number, unknown][] = [
      [SignalKind.ANSWER, envelope(true, { type: "answer", sdp: goodSdp })], // wrong reliability
      [SignalKind.CANDIDATE, envelope(false, { type: "candidate", candidate: {} })],
      [SignalKind.CANDIDATE, "{"],
      [SignalKind.OFFER, envelope(false, { type: "offer", sdp: goodSdp })], // an offer on a link A started
      [SignalKind.RENEGOTIATE, envelope(false, { transceiverRequest: { kind: "video", init: {} } })],
      [9, "{}"],
    ];
    for (const [kind, data] of aimed) expect(() => a.port.inject(IP_B, pairId, kind, data)).not.toThrow();
    // And a CLOSE from a third address for A's pairId is not B's CLOSE.
    a.port.inject(IP_C, pairId, SignalKind.CLOSE, "{}");
    expect(a.links.state(IP_B, false)).toBe("open");
    expect(a.links.describe(IP_B, false)?.pairId).toBe(pairId);
    expect((await sendUntilReceived(a, b, 20, 21, Uint8Array.of(5, 6), false)).data).toEqual([5, 6]);
    expect((await sendUntilReceived(b, a, 21, 20, Uint8Array.of(6, 5), false)).data).toEqual([6, 5]);
    expect(a.states.items.some((change) => change.state === "failed")).toBe(false);
  });

  it("refuses sends that cannot go P2P: bad addresses and ports, oversize datagrams", async () => {
    const [a, b] = pair({ maxDatagramSize: 8 });
    for (const peerIp of [0, IP_A, 0xffffffff, -1, 2 ** 32]) expect(a.links.trySend(peerIp, 1, 2, Uint8Array.of(1), false)).toBe(false);
    for (const [src, dst] of [[0, 1], [1, 0], [65536, 1], [1, 1.5]] as const) expect(a.links.trySend(IP_B, src, dst, Uint8Array.of(1), false)).toBe(false);
    expect(a.port.sent).toEqual([]);
    await openLink(a, b, true);
    expect(a.links.trySend(IP_B, 1, 2, new Uint8Array(9), true)).toBe(false); // the caller relays it
    expect((await sendUntilReceived(a, b, 1, 2, new Uint8Array(8).fill(3), true)).data).toEqual([3, 3, 3, 3, 3, 3, 3, 3]);
  });

  it("bounds the number of peers: no link to one more, and its offers are answered with CLOSE", async () => {
    expect(DEFAULT_MAX_PEERS).toBe(256);
    const a = engine(IP_A, { maxPeers: 1 });
    expect(a.links.trySend(IP_B, 1, 2, Uint8Array.of(1), false)).toBe(false); // signals vanish: stays connecting
    expect(a.links.trySend(IP_B, 1, 2, Uint8Array.of(1), true)).toBe(false); // same peer, second link: allowed
    expect(a.links.state(IP_B, true)).toBe("connecting");
    const offersTo = (ip: number) => a.port.sent.filter((s) => s.peerIp === ip).length;
    expect(a.links.trySend(IP_C, 1, 2, Uint8Array.of(1), false)).toBe(false);
    expect(a.links.state(IP_C, false)).toBe("none");
    expect(offersTo(IP_C)).toBe(0);

    // 10.0.0.12 > 10.0.0.5, so its pairIds have bit 31 clear.
    a.port.inject(IP_C, 0x00000042, SignalKind.OFFER, envelope(false, { type: "offer", sdp: "v=0\r\n" }));
    expect(a.port.sent.filter((s) => s.peerIp === IP_C)).toEqual([{ peerIp: IP_C, pairId: 0x42, kind: SignalKind.CLOSE, data: "{}" }]);
    expect(a.links.state(IP_C, false)).toBe("none");

    a.links.close();
    expect(a.clock.pending.size).toBe(0);
    expect(a.links.state(IP_B, false)).toBe("none");
    expect(a.links.state(IP_B, true)).toBe("none");
  });

  it("close() drops every link, tells the peers, clears every timer, and links can open again afterwards", async () => {
    const [a, b] = pair();
    await Promise.all([openLink(a, b, false), openLink(b, a, true)]);
    expect(a.links.trySend(IP_C, 1, 2, Uint8Array.of(1), false)).toBe(false); // one more, never answered
    expect(a.clock.pending.size).toBe(1);
    const told = Promise.all([b.reaches(IP_A, false, "failed"), b.reaches(IP_A, true, "failed")]);
    const fromIndex = a.states.items.length;

    a.links.close();
    expect(a.clock.pending.size).toBe(0);
    for (const [ip, reliable] of [[IP_B, false], [IP_B, true], [IP_C, false]] as const) expect(a.links.state(ip, reliable)).toBe("none");
    expect(a.states.items.slice(fromIndex).every((change) => change.state === "none")).toBe(true);
    expect(a.states.items.slice(fromIndex)).toHaveLength(3);
    await told;
    expect(b.clock.pending.size).toBe(0);

    // After close() the same PeerLinks works again (e.g. a new signaling connection).
    const again = await Promise.all([b.reaches(IP_A, false, "open", b.states.items.length), openLink(a, b, false)]);
    expect(again[0].state).toBe("open");
    expect((await sendUntilReceived(b, a, 1, 2, Uint8Array.of(77), false)).data).toEqual([77]);
    a.links.close();
    b.links.close();
    expect(a.clock.pending.size + b.clock.pending.size).toBe(0);
  });
});
