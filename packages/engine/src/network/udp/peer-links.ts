/**
 * Peer links: the P2P half of UDP. A datagram for another engine goes over a WebRTC DataChannel
 * between the two engines when one is open; otherwise the caller sends it through the server
 * relay. Links open on demand (the first trySend to a peer starts one) and fall back to the relay
 * for a while when they cannot be opened.
 *
 * Links. One link per (peer virtual IP, reliable flag): reliable links use an ordered, reliable
 * DataChannel, unreliable ones `{ ordered: false, maxRetransmits: 0 }`. Each link is one
 * simple-peer instance (see peer-adapter.ts) named by a `pairId` chosen by the initiator.
 *
 * Signals. Each piece of simple-peer signal data travels as one SIGNAL RELAY; link-signals.ts
 * has their format and the pairId's bits. A side sends CLOSE whenever it drops a link itself
 * (timeout, error, closePeer, close, setEnabled(false)), and answers CLOSE to an OFFER it will
 * not take (P2P disabled, no WebRTC, too many peers), so the other side falls back at once
 * instead of waiting for its timeout. Everything received is validated; anything malformed,
 * unknown or stale is ignored.
 *
 * Glare (both engines start a link of the same reliability to each other at once): the engine
 * with the LOWER virtual IP keeps its own offer and ignores the incoming one; the higher one drops
 * its own pending link (silently) and answers the incoming offer. An OFFER for a (peer,
 * reliability) that already has an open link, or an answering link, replaces it: the other side
 * has evidently dropped its end.
 *
 * Failures. A link not open within connectTimeoutMs (injected clock), or one that errors or closes
 * (also by a CLOSE from the other side), is dropped and its (peer, reliability) is "failed" for
 * retryAfterMs: trySend returns false without starting a new link until then. Incoming offers are
 * still accepted while failed. The only timers are the per-link connect timeouts; every one is
 * cleared when its link opens or is dropped, so close() leaves none.
 *
 * Every rule above reads and changes the one table of links (#peers), so they stay in one class;
 * what does not touch it is beside it: the options and their defaults in peer-links-options.ts,
 * the signals' format and pairIds in link-signals.ts, everything simple-peer in peer-adapter.ts.
 */
import { SignalKind } from "@gmnet/protocol";
import type { Clock } from "../../runtime/clock.js";
import { decodeP2pDatagram, encodeP2pDatagram } from "./datagram-codec.js";
import { KIND_OF_SIGNAL, type PeerSignal, encodeEnvelope, firstPairCounter, isU32, makePairId, nextPairCounter, pairIdChosenBySender, parseEnvelope } from "./link-signals.js";
import { type DataChannelInfo, type PeerHandle, createPeer, webRtcAvailable } from "./peer-adapter.js";
import { type PeerLinkState, type PeerLinksOptions, peerLinkLimits } from "./peer-links-options.js";
import type { IceServer, SignalPort, WebRtcImplementation } from "./signal-port.js";

/** What describe() tells about a link. */
export interface PeerLinkInfo {
  pairId: number;
  initiator: boolean;
  state: "connecting" | "open";
  /** The RTCDataChannel's configuration, once it exists. */
  channel: DataChannelInfo | undefined;
}

const BROADCAST_IP = 0xffffffff;

interface Link {
  readonly peerIp: number;
  readonly reliable: boolean;
  readonly pairId: number;
  readonly initiator: boolean;
  readonly handle: PeerHandle;
  open: boolean;
  /** The connect timeout, until the link opens. */
  timer: unknown;
}

interface PeerEntry {
  /** [unreliable, reliable] */
  readonly links: [Link | undefined, Link | undefined];
  /** [unreliable, reliable]: clock time until which no link is started; 0 for none. */
  readonly failedUntil: [number, number];
}

type DropOutcome = "failed" | "none" | "replaced";

const slot = (reliable: boolean): 0 | 1 => (reliable ? 1 : 0);
const isPort = (value: unknown): boolean => typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 0xffff;

export class PeerLinks {
  readonly #signal: SignalPort;
  readonly #wrtc: WebRtcImplementation | undefined;
  readonly #clock: Clock;
  readonly #connectTimeoutMs: number;
  readonly #retryAfterMs: number;
  readonly #maxDatagramSize: number;
  readonly #maxPeers: number;
  readonly #webRtc: boolean;
  readonly #onDatagram: PeerLinksOptions["onDatagram"];
  readonly #onLinkState: PeerLinksOptions["onLinkState"];
  readonly #peers = new Map<number, PeerEntry>();
  #enabled: boolean;
  #pairCounter = firstPairCounter();

  constructor(options: PeerLinksOptions) {
    this.#signal = options.signal;
    this.#wrtc = options.wrtc;
    this.#clock = options.clock;
    const limits = peerLinkLimits(options);
    this.#connectTimeoutMs = limits.connectTimeoutMs;
    this.#retryAfterMs = limits.retryAfterMs;
    this.#maxDatagramSize = limits.maxDatagramSize;
    this.#maxPeers = limits.maxPeers;
    this.#enabled = options.enabled ?? true;
    this.#onDatagram = options.onDatagram;
    this.#onLinkState = options.onLinkState;
    this.#webRtc = webRtcAvailable(options.wrtc);
    options.signal.onSignal = (peerIp, pairId, kind, data) => {
      try {
        this.#handleSignal(peerIp, pairId, kind, data);
      } catch {
        // Never let network input throw into the signaling client.
      }
    };
  }

  /** Whether P2P is on (and WebRTC usable is a separate matter: see trySend). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Disabling closes every link; trySend then always returns false and offers are answered with CLOSE. */
  setEnabled(enabled: boolean): void {
    if (this.#enabled === enabled) return;
    this.#enabled = enabled;
    if (!enabled) {
      for (const entry of [...this.#peers.values()]) for (const link of entry.links) if (link) this.#drop(link, "none", true);
      this.#prune();
    }
  }

  /**
   * Sends one datagram over the open link of that reliability to `peerIp`: true when it went out,
   * false when the caller must use the relay. Starts a link when there is none (P2P enabled,
   * WebRTC available, the peer not in its retry window). Never throws.
   */
  trySend(peerIp: number, srcPort: number, dstPort: number, data: Uint8Array, reliable: boolean): boolean {
    try {
      if (!this.#enabled || !this.#webRtc || !this.#isRemoteIp(peerIp) || !isPort(srcPort) || !isPort(dstPort)) return false;
      const entry = this.#peers.get(peerIp);
      const link = entry?.links[slot(reliable)];
      if (link) {
        if (!link.open || data.length > this.#maxDatagramSize) return false;
        return link.handle.send(encodeP2pDatagram(srcPort, dstPort, data));
      }
      if (entry && entry.failedUntil[slot(reliable)] > this.#clock.now()) return false;
      if (!this.#hasLinks(entry) && this.#linkedPeers() >= this.#maxPeers) return false;
      this.#startLink(peerIp, reliable, this.#nextPairId(peerIp), true);
      return false;
    } catch {
      return false;
    }
  }

  state(peerIp: number, reliable: boolean): PeerLinkState {
    const entry = this.#peers.get(peerIp);
    if (!entry) return "none";
    const link = entry.links[slot(reliable)];
    if (link) return link.open ? "open" : "connecting";
    return entry.failedUntil[slot(reliable)] > this.#clock.now() ? "failed" : "none";
  }

  /** The current link of that reliability to `peerIp`, if any. */
  describe(peerIp: number, reliable: boolean): PeerLinkInfo | undefined {
    const link = this.#peers.get(peerIp)?.links[slot(reliable)];
    if (!link) return undefined;
    return { pairId: link.pairId, initiator: link.initiator, state: link.open ? "open" : "connecting", channel: link.handle.channelInfo() };
  }

  /** Round-trip time in ms over an open link to `peerIp` (the unreliable one first), or undefined. Never rejects. */
  rtt(peerIp: number): Promise<number | undefined> {
    const entry = this.#peers.get(peerIp);
    const link = entry?.links[0]?.open ? entry.links[0] : entry?.links[1]?.open ? entry.links[1] : undefined;
    if (!link) return Promise.resolve(undefined);
    return link.handle.getRtt().catch(() => undefined);
  }

  /** Drops the links to `peerIp` (telling it with CLOSE) and forgets its retry windows. */
  closePeer(peerIp: number): void {
    const entry = this.#peers.get(peerIp);
    if (!entry) return;
    for (const link of entry.links) if (link) this.#drop(link, "none", true);
    entry.failedUntil[0] = entry.failedUntil[1] = 0;
    // A state callback may have started a new link meanwhile: keep that one.
    if (!this.#hasLinks(entry)) this.#peers.delete(peerIp);
  }

  /** Drops every link (telling each peer with CLOSE when the signaling connection still works) and forgets every retry window. Clears every timer. The links can be used again afterwards. */
  close(): void {
    for (const peerIp of [...this.#peers.keys()]) this.closePeer(peerIp);
  }

  // ---------------------------------------------------------------- links

  /** Creates and registers a link; reports "connecting" unless `announce` is false (it replaces a link that was connecting already). */
  #startLink(peerIp: number, reliable: boolean, pairId: number, initiator: boolean, announce = true): Link {
    let entry = this.#peers.get(peerIp);
    if (!entry) {
      entry = { links: [undefined, undefined], failedUntil: [0, 0] };
      this.#peers.set(peerIp, entry);
    }
    // The adapter never calls back synchronously, so `ref.link` is set before any callback runs.
    const ref: { link?: Link } = {};
    const handle = createPeer({
      initiator,
      reliable,
      wrtc: this.#wrtc,
      iceServers: this.#iceServers(),
      onSignal: (signal) => {
        if (ref.link) this.#sendLinkSignal(ref.link, signal);
      },
      onOpen: () => {
        if (ref.link) this.#onOpen(ref.link);
      },
      onData: (bytes) => {
        if (ref.link) this.#onData(ref.link, bytes);
      },
      onClose: () => {
        if (ref.link) this.#drop(ref.link, "failed", true);
      },
      onError: () => {
        if (ref.link) this.#drop(ref.link, "failed", true);
      },
    });
    const created: Link = { peerIp, reliable, pairId, initiator, handle, open: false, timer: undefined };
    ref.link = created;
    created.timer = this.#clock.setTimeout(() => {
      created.timer = undefined;
      if (!created.open) this.#drop(created, "failed", true);
    }, this.#connectTimeoutMs);
    entry.links[slot(reliable)] = created;
    if (announce) this.#emit(peerIp, reliable, "connecting");
    return created;
  }

  #iceServers(): Promise<IceServer[]> {
    try {
      return this.#signal.iceServers().catch(() => []);
    } catch {
      return Promise.resolve([]);
    }
  }

  #isCurrent(link: Link): boolean {
    return this.#peers.get(link.peerIp)?.links[slot(link.reliable)] === link;
  }

  #onOpen(link: Link): void {
    if (!this.#isCurrent(link) || link.open) return;
    link.open = true;
    if (link.timer !== undefined) this.#clock.clearTimeout(link.timer);
    link.timer = undefined;
    const entry = this.#peers.get(link.peerIp);
    if (entry) entry.failedUntil[slot(link.reliable)] = 0;
    this.#emit(link.peerIp, link.reliable, "open");
  }

  #onData(link: Link, bytes: Uint8Array): void {
    if (!this.#isCurrent(link)) return;
    const datagram = decodeP2pDatagram(bytes);
    if (!datagram || datagram.data.length > this.#maxDatagramSize) return;
    try {
      this.#onDatagram(link.peerIp, datagram.srcPort, datagram.dstPort, datagram.data, "p2p");
    } catch {
      // The receiver's problem; the link keeps working.
    }
  }

  #sendLinkSignal(link: Link, signal: PeerSignal): void {
    if (!this.#isCurrent(link)) return;
    const text = encodeEnvelope(link.reliable, signal);
    if (text === undefined || !this.#send(link.peerIp, link.pairId, KIND_OF_SIGNAL[signal.type], text)) {
      this.#drop(link, "failed", true);
    }
  }

  /** Removes the link, clears its timer, destroys it, optionally tells the other side, then reports the outcome. */
  #drop(link: Link, outcome: DropOutcome, sendClose: boolean): void {
    // Whatever happens below, the link holds no timer and no connection afterwards.
    if (link.timer !== undefined) this.#clock.clearTimeout(link.timer);
    link.timer = undefined;
    link.open = false;
    link.handle.destroy();
    const entry = this.#peers.get(link.peerIp);
    const index = slot(link.reliable);
    if (!entry || entry.links[index] !== link) return;
    entry.links[index] = undefined;
    if (sendClose) this.#send(link.peerIp, link.pairId, SignalKind.CLOSE, "{}");
    if (outcome === "failed") entry.failedUntil[index] = this.#clock.now() + this.#retryAfterMs;
    if (outcome !== "replaced") this.#emit(link.peerIp, link.reliable, outcome);
  }

  #send(peerIp: number, pairId: number, kind: number, data: string): boolean {
    try {
      return this.#signal.sendSignal(peerIp, pairId, kind, data);
    } catch {
      return false;
    }
  }

  #emit(peerIp: number, reliable: boolean, state: PeerLinkState): void {
    try {
      this.#onLinkState?.(peerIp, reliable, state);
    } catch {
      // A stats callback must not break the links.
    }
  }

  #localIp(): number {
    try {
      const ip = this.#signal.localIp();
      return isU32(ip) ? ip : 0;
    } catch {
      return 0;
    }
  }

  /** A unicast virtual IP other than ours (and we have one). */
  #isRemoteIp(peerIp: number): boolean {
    const localIp = this.#localIp();
    return localIp !== 0 && isU32(peerIp) && peerIp !== 0 && peerIp !== BROADCAST_IP && peerIp !== localIp;
  }

  #nextPairId(peerIp: number): number {
    this.#pairCounter = nextPairCounter(this.#pairCounter);
    return makePairId(this.#localIp(), peerIp, this.#pairCounter);
  }

  #hasLinks(entry: PeerEntry | undefined): boolean {
    return entry !== undefined && (entry.links[0] !== undefined || entry.links[1] !== undefined);
  }

  #linkedPeers(): number {
    let count = 0;
    for (const entry of this.#peers.values()) if (this.#hasLinks(entry)) count++;
    // Forget peers with neither a link nor a running retry window, so the map stays small.
    if (this.#peers.size > this.#maxPeers * 4) this.#prune();
    return count;
  }

  #prune(): void {
    const now = this.#clock.now();
    for (const [peerIp, entry] of this.#peers) {
      if (!this.#hasLinks(entry) && entry.failedUntil[0] <= now && entry.failedUntil[1] <= now) this.#peers.delete(peerIp);
    }
  }

  // ---------------------------------------------------------------- signals

  #handleSignal(peerIp: number, pairId: number, kind: number, data: string): void {
    if (!isU32(pairId) || pairId === 0 || typeof data !== "string" || !this.#isRemoteIp(peerIp)) return;
    const entry = this.#peers.get(peerIp);
    const link = entry?.links.find((candidate) => candidate?.pairId === pairId);
    if (kind === SignalKind.CLOSE) {
      if (link) this.#drop(link, "failed", false);
      return;
    }
    const envelope = parseEnvelope(kind, data);
    if (!envelope) return;
    const { reliable, signal } = envelope;
    if (kind === SignalKind.OFFER) {
      this.#onOffer(peerIp, pairId, reliable, signal, entry, link);
      return;
    }
    // Answers, candidates and renegotiation requests only for a link we know, of the same kind.
    if (!link || link.reliable !== reliable) return;
    if ((kind === SignalKind.ANSWER || kind === SignalKind.RENEGOTIATE) && !link.initiator) return;
    link.handle.signal(signal);
  }

  #onOffer(peerIp: number, pairId: number, reliable: boolean, signal: PeerSignal, entry: PeerEntry | undefined, known: Link | undefined): void {
    if (known) {
      // A new offer on a link the peer started (renegotiation); never valid on a link we started.
      if (!known.initiator && known.reliable === reliable) known.handle.signal(signal);
      return;
    }
    const senderIsLower = peerIp < this.#localIp();
    if (!pairIdChosenBySender(pairId, senderIsLower)) return;
    if (!this.#enabled || !this.#webRtc) {
      this.#send(peerIp, pairId, SignalKind.CLOSE, "{}");
      return;
    }
    const current = entry?.links[slot(reliable)];
    let announce = true;
    if (current) {
      // Glare: both started a link at once. The lower virtual IP keeps its own offer.
      if (current.initiator && !current.open && !senderIsLower) return;
      announce = current.open;
      this.#drop(current, "replaced", false);
    } else if (!this.#hasLinks(entry) && this.#linkedPeers() >= this.#maxPeers) {
      this.#send(peerIp, pairId, SignalKind.CLOSE, "{}");
      return;
    }
    this.#startLink(peerIp, reliable, pairId, false, announce).handle.signal(signal);
  }
}
