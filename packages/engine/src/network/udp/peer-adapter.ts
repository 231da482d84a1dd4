/**
 * The one module that touches simple-peer (`@thaunknown/simple-peer/lite.js`: data channels
 * only). Everything else talks to a WebRTC link through the small {@link PeerHandle} interface,
 * so the library could be swapped without touching the link logic.
 *
 * What the adapter guarantees on top of simple-peer:
 * - Nothing throws: construction, signal(), send(), destroy() and getRtt() never throw or reject,
 *   and simple-peer's 'error' events always have a listener (for the peer's whole life, also
 *   after destroy()).
 * - Callbacks never run synchronously inside createPeer(), and none runs after destroy() or after
 *   the terminal callback: a handle ends with exactly one of onError(code) / onClose(), unless it
 *   is destroyed locally first (then it ends silently).
 * - onClose() also fires when the remote side closes the DataChannel (simple-peer only ends the
 *   stream then, without a 'close' event); it comes one macrotask after the stream ends, so an
 *   error that simple-peer reports right after ending the stream is reported as onError instead.
 * - onData always gets a plain Uint8Array (simple-peer may hand Buffers, ArrayBuffers or text).
 * - Signal data in both directions is checked and rebuilt as a {@link PeerSignal}, so malformed
 *   remote input never reaches simple-peer (which destroys the peer, or throws, on bad input).
 *
 * simple-peer is loaded with a dynamic import() the first time a peer is created: the rest of the
 * engine does not pay for it until P2P is used, and an environment where it fails to load (e.g. a
 * browser bundle without an `events` polyfill, which simple-peer's streamx needs) ends the link
 * with onError("ERR_WEBRTC_LOAD") instead of breaking the engine's module graph.
 *
 * One private field, read only, and why (gmnet issue 19): channelInfo() reads simple-peer's
 * `_channel`, the RTCDataChannel itself. It reports the channel as WebRTC negotiated it, on both
 * sides: on the answering side the channel comes from the remote offer (ondatachannel), so
 * simple-peer's `channelConfig` there is only the options we passed in (unused: the answerer
 * creates no channel), never what the link actually does; and label, readyState and
 * maxPacketLifeTime have no counterpart outside the channel at all. It is what the P2P tests
 * check (unreliable links really are `{ ordered: false, maxRetransmits: 0 }` on both ends), and
 * it is diagnostics only: no link decision depends on it, and without the field channelInfo()
 * answers undefined. simple-peer's API (its README: the constructor's options, signal, send,
 * destroy and the events) has no way to reach the channel, so the version that has
 * `_channel` is pinned exactly in packages/engine/package.json (@thaunknown/simple-peer 9.12.1):
 * check this field before moving the pin. The send buffer check needs no private field: it reads
 * `bufferSize`, simple-peer's own getter of the channel's bufferedAmount (not underscored, though
 * the README does not list it).
 */
import type SimplePeer from "@thaunknown/simple-peer/lite.js";
import { type PeerSignal, isRecord, parsePeerSignal } from "./link-signals.js";
import type { IceServer, WebRtcImplementation } from "./signal-port.js";

// What travels between the engines is defined with the rest of the link signals.
export { type PeerIceCandidate, type PeerSignal, parsePeerSignal } from "./link-signals.js";

type SimplePeerConstructor = typeof SimplePeer;

/** A snapshot of the link's RTCDataChannel. */
export interface DataChannelInfo {
  label: string;
  ordered: boolean;
  maxRetransmits: number | null;
  maxPacketLifeTime: number | null;
  readyState: string;
  bufferedAmount: number;
}

export interface PeerOptions {
  /** The initiator creates the DataChannel and the offer; the other side answers. */
  initiator: boolean;
  /** true: ordered, reliable channel (the default config). false: `{ ordered: false, maxRetransmits: 0 }`. Only the initiator's value matters. */
  reliable: boolean;
  /** `@roamhq/wrtc` in Node; undefined in the browser (simple-peer uses the globals). */
  wrtc: WebRtcImplementation | undefined;
  /** A rejected promise counts as no ICE server (host candidates only). */
  iceServers: readonly IceServer[] | Promise<readonly IceServer[]>;
  /** Signal data for the other side. */
  onSignal?: (signal: PeerSignal) => void;
  /** The DataChannel is open: send() works from now on. */
  onOpen?: () => void;
  /** One DataChannel message. May come a little before onOpen on the answering side. */
  onData?: (bytes: Uint8Array) => void;
  /** The link closed without an error (e.g. the other side closed it). Terminal. */
  onClose?: () => void;
  /** The link failed; `code` is simple-peer's error code (e.g. "ERR_ICE_CONNECTION_FAILURE") or one of {@link PeerErrorCode}. Terminal. */
  onError?: (code: string) => void;
}

/** Error codes of the adapter itself (simple-peer's own codes pass through unchanged). */
export const PeerErrorCode = {
  /** No RTCPeerConnection in this environment. */
  WEBRTC_SUPPORT: "ERR_WEBRTC_SUPPORT",
  /** simple-peer could not be loaded. */
  WEBRTC_LOAD: "ERR_WEBRTC_LOAD",
  /** simple-peer's constructor threw. */
  CONSTRUCTOR: "ERR_PEER_CONSTRUCTOR",
  /** simple-peer threw on signal data. */
  SIGNALING: "ERR_SIGNALING",
  /** An error without a code. */
  UNKNOWN: "ERR_PEER",
} as const;

export interface PeerHandle {
  readonly initiator: boolean;
  readonly reliable: boolean;
  /** onOpen has fired and the link has not ended. */
  readonly open: boolean;
  /** destroy() was called or a terminal callback fired. */
  readonly closed: boolean;
  /** Feeds signal data from the other side (queued until simple-peer is ready; invalid or wrong-direction data is ignored). */
  signal(data: PeerSignal): void;
  /** Sends one message; false when the channel is not open, its send buffer is full, or sending failed. */
  send(bytes: Uint8Array): boolean;
  /** Closes the link; no callback fires afterwards. Idempotent. */
  destroy(): void;
  /** Round-trip time in ms of the selected ICE candidate pair, or undefined when unknown. Never rejects. */
  getRtt(): Promise<number | undefined>;
  /** The RTCDataChannel's configuration and state, once simple-peer has one. */
  channelInfo(): DataChannelInfo | undefined;
}

/** send() refuses while more than this many bytes wait in the channel's send buffer (the caller falls back to the relay). */
export const MAX_BUFFERED_AMOUNT = 1024 * 1024;
/** Signals queued before simple-peer is ready (an offer and its candidates are far fewer). */
const MAX_PENDING_SIGNALS = 64;

/** Whether an RTCPeerConnection exists: in `wrtc` when given, else in the global scope. */
export function webRtcAvailable(wrtc?: WebRtcImplementation): boolean {
  const source = (wrtc ?? globalThis) as Partial<Record<keyof WebRtcImplementation, unknown>>;
  return typeof source.RTCPeerConnection === "function" && typeof source.RTCSessionDescription === "function" && typeof source.RTCIceCandidate === "function";
}

/** Creates a link; it starts connecting at once (the initiator emits its offer through onSignal). Never throws. */
export function createPeer(options: PeerOptions): PeerHandle {
  return new SimplePeerHandle(options);
}

// ------------------------------------------------------------------ stats

/**
 * RTT in ms from a getStats() report list: the transport's selected candidate pair (or a pair
 * marked selected, or nominated and succeeded), its currentRoundTripTime, else its average
 * (totalRoundTripTime / responsesReceived). Undefined when there is no such pair or no value.
 */
export function rttFromStats(reports: readonly Record<string, unknown>[]): number | undefined {
  const isPair = (report: Record<string, unknown>): boolean => report.type === "candidate-pair" || report.type === "candidatepair";
  let pair: Record<string, unknown> | undefined;
  for (const report of reports) {
    if (report.type !== "transport" || typeof report.selectedCandidatePairId !== "string") continue;
    pair = reports.find((candidate) => candidate.id === report.selectedCandidatePairId && isPair(candidate));
    if (pair) break;
  }
  pair ??= reports.find((report) => isPair(report) && (report.selected === true || (report.nominated === true && report.state === "succeeded")));
  if (!pair) return undefined;
  const current = pair.currentRoundTripTime;
  if (typeof current === "number" && Number.isFinite(current) && current >= 0) return current * 1000;
  const total = pair.totalRoundTripTime;
  const responses = pair.responsesReceived;
  if (typeof total === "number" && Number.isFinite(total) && total >= 0 && typeof responses === "number" && responses > 0) return (total / responses) * 1000;
  return undefined;
}

// ------------------------------------------------------------------ implementation

let simplePeerModule: Promise<SimplePeerConstructor> | undefined;

function loadSimplePeer(): Promise<SimplePeerConstructor> {
  simplePeerModule ??= import("@thaunknown/simple-peer/lite.js").then((module) => {
    const Peer: unknown = module.default;
    if (typeof Peer !== "function") throw new TypeError("simple-peer has no default export");
    return module.default;
  });
  return simplePeerModule;
}

function errorCode(error: unknown, fallback: string): string {
  if (isRecord(error) || error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.length > 0) return code;
  }
  return fallback;
}

/** A plain Uint8Array over the same bytes (Buffer and other views are re-wrapped, text is UTF-8 encoded). */
function toBytes(chunk: unknown): Uint8Array | undefined {
  if (ArrayBuffer.isView(chunk)) {
    if (chunk instanceof Uint8Array && chunk.constructor === Uint8Array) return chunk;
    return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  if (chunk instanceof ArrayBuffer || Object.prototype.toString.call(chunk) === "[object ArrayBuffer]") return new Uint8Array(chunk as ArrayBuffer);
  if (typeof chunk === "string") return new TextEncoder().encode(chunk);
  return undefined;
}

/** Runs a user callback; its exceptions must not unwind into simple-peer's event emitters. */
function invoke<A extends unknown[]>(callback: ((...args: A) => void) | undefined, ...args: A): void {
  if (!callback) return;
  try {
    callback(...args);
  } catch {
    // The callback's owner handles its own errors; the link keeps working.
  }
}

class SimplePeerHandle implements PeerHandle {
  readonly initiator: boolean;
  readonly reliable: boolean;
  readonly #options: PeerOptions;
  #peer: SimplePeer | undefined;
  #pending: PeerSignal[] = [];
  #open = false;
  #closed = false;

  constructor(options: PeerOptions) {
    this.#options = options;
    this.initiator = options.initiator;
    this.reliable = options.reliable;
    // Handled first, so that a rejected promise never goes unhandled.
    const iceServers = Promise.resolve(options.iceServers).then(
      (servers) => servers,
      () => [],
    );
    if (!webRtcAvailable(options.wrtc)) {
      queueMicrotask(() => this.#finish(PeerErrorCode.WEBRTC_SUPPORT));
      return;
    }
    Promise.all([loadSimplePeer(), iceServers]).then(
      ([Peer, servers]) => this.#start(Peer, servers),
      () => this.#finish(PeerErrorCode.WEBRTC_LOAD),
    );
  }

  get open(): boolean {
    return this.#open;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #start(Peer: SimplePeerConstructor, iceServers: readonly IceServer[]): void {
    if (this.#closed) return;
    let peer: SimplePeer;
    try {
      peer = new Peer({
        initiator: this.initiator,
        ...(this.#options.wrtc ? { wrtc: this.#options.wrtc } : {}),
        trickle: true,
        config: { iceServers: iceServers.map((server) => ({ ...server })) },
        ...(this.reliable ? {} : { channelConfig: { ordered: false, maxRetransmits: 0 } }),
      });
    } catch (error) {
      this.#finish(errorCode(error, PeerErrorCode.CONSTRUCTOR));
      return;
    }
    this.#peer = peer;
    // 'error' keeps its listener for the peer's whole life: an EventEmitter throws on an unheard 'error'.
    peer.on("error", (error) => this.#finish(errorCode(error, PeerErrorCode.UNKNOWN)));
    // The remote side closing the channel only ends the stream (no 'close'). When simple-peer
    // tears itself down because of an error, 'end' comes first and the 'error' one macrotask
    // later: wait that long so the error is what gets reported.
    const closed = (): void => {
      setTimeout(() => this.#finish(undefined), 0);
    };
    peer.on("close", closed);
    peer.on("end", closed);
    peer.on("signal", (data) => {
      if (this.#closed) return;
      const signal = parsePeerSignal(data);
      if (signal) invoke(this.#options.onSignal, signal);
    });
    peer.on("connect", () => {
      if (this.#closed || this.#open) return;
      this.#open = true;
      invoke(this.#options.onOpen);
    });
    peer.on("data", (chunk) => {
      if (this.#closed) return;
      const bytes = toBytes(chunk);
      if (bytes) invoke(this.#options.onData, bytes);
    });
    const pending = this.#pending;
    this.#pending = [];
    for (const signal of pending) this.#deliver(peer, signal);
  }

  signal(data: PeerSignal): void {
    if (this.#closed) return;
    const signal = parsePeerSignal(data);
    if (!signal) return;
    // simple-peer: only the initiator makes offers and takes answers and renegotiation requests.
    if (this.initiator ? signal.type === "offer" : signal.type === "answer" || signal.type === "renegotiate") return;
    const peer = this.#peer;
    if (peer) this.#deliver(peer, signal);
    else if (this.#pending.length < MAX_PENDING_SIGNALS) this.#pending.push(signal);
  }

  #deliver(peer: SimplePeer, signal: PeerSignal): void {
    if (this.#closed) return;
    try {
      peer.signal(signal);
    } catch (error) {
      this.#finish(errorCode(error, PeerErrorCode.SIGNALING));
    }
  }

  send(bytes: Uint8Array): boolean {
    const peer = this.#peer;
    if (this.#closed || !this.#open || !peer) return false;
    try {
      if (!peer.connected) return false;
      if (peer.bufferSize > MAX_BUFFERED_AMOUNT) return false;
      peer.send(bytes);
      return true;
    } catch {
      return false;
    }
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    this.#pending = [];
    this.#destroyPeer();
  }

  getRtt(): Promise<number | undefined> {
    const peer = this.#peer;
    if (this.#closed || !peer) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      try {
        peer.getStats((error, reports) => {
          try {
            resolve(error || !Array.isArray(reports) ? undefined : rttFromStats(reports.filter(isRecord)));
          } catch {
            resolve(undefined);
          }
        });
      } catch {
        resolve(undefined);
      }
    });
  }

  channelInfo(): DataChannelInfo | undefined {
    try {
      const channel = this.#peer?._channel;
      if (!channel) return undefined;
      return {
        label: channel.label,
        ordered: channel.ordered,
        maxRetransmits: channel.maxRetransmits ?? null,
        maxPacketLifeTime: channel.maxPacketLifeTime ?? null,
        readyState: channel.readyState,
        bufferedAmount: channel.bufferedAmount,
      };
    } catch {
      return undefined;
    }
  }

  /** Ends the handle from simple-peer's side: one terminal callback (error when `code` is set), then silence. */
  #finish(code: string | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    this.#pending = [];
    this.#destroyPeer();
    if (code === undefined) invoke(this.#options.onClose);
    else invoke(this.#options.onError, code);
  }

  #destroyPeer(): void {
    const peer = this.#peer;
    if (!peer) return;
    try {
      if (!peer.destroyed) peer.destroy();
    } catch {
      // Already being torn down by simple-peer itself.
    }
  }
}
