/**
 * What PeerLinks (peer-links.ts) is told: the signal port and WebRTC it uses, its clock, the
 * callbacks it reports to, and its timing and bounds, with their defaults in place of values that
 * are missing or not usable.
 */
import type { Clock } from "../../runtime/clock.js";
import type { SignalPort, WebRtcImplementation } from "./signal-port.js";

export type PeerLinkState = "none" | "connecting" | "open" | "failed";

export interface PeerLinksOptions {
  signal: SignalPort;
  /** `@roamhq/wrtc` in Node; undefined in the browser (the globals are used). */
  wrtc: WebRtcImplementation | undefined;
  clock: Clock;
  /** A link not open after this long is dropped and its peer is relay-only for retryAfterMs. Default 10000. */
  connectTimeoutMs?: number;
  /** How long a failed (peer, reliability) stays relay-only. Default 30000. */
  retryAfterMs?: number;
  /** Largest datagram `data` (bytes) sent or accepted over P2P; larger ones go through the relay. Default 16384. */
  maxDatagramSize?: number;
  /** Most peers with links at once; further links are not started and further offers are answered with CLOSE. Default 256. */
  maxPeers?: number;
  /** Initial value of `enabled`. Default true. */
  enabled?: boolean;
  /** A datagram received over a link. Exceptions thrown here are swallowed. */
  onDatagram(peerIp: number, srcPort: number, dstPort: number, data: Uint8Array, via: "p2p"): void;
  /** Every state change of a link (for stats and tests). "failed" → "none" at the end of the retry window is not reported. */
  onLinkState?(peerIp: number, reliable: boolean, state: PeerLinkState): void;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRY_AFTER_MS = 30_000;
export const DEFAULT_MAX_P2P_DATAGRAM_SIZE = 16384;
export const DEFAULT_MAX_PEERS = 256;

/** The timing and bounds of `options`, each its default when missing or not a usable number. */
export function peerLinkLimits(options: PeerLinksOptions): { connectTimeoutMs: number; retryAfterMs: number; maxDatagramSize: number; maxPeers: number } {
  return {
    connectTimeoutMs: positiveOr(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
    retryAfterMs: positiveOr(options.retryAfterMs, DEFAULT_RETRY_AFTER_MS, true),
    maxDatagramSize: Math.floor(positiveOr(options.maxDatagramSize, DEFAULT_MAX_P2P_DATAGRAM_SIZE)),
    maxPeers: Math.floor(positiveOr(options.maxPeers, DEFAULT_MAX_PEERS)),
  };
}

function positiveOr(value: number | undefined, fallback: number, allowZero = false): number {
  return typeof value === "number" && Number.isFinite(value) && (value > 0 || (allowZero && value === 0)) ? value : fallback;
}
