/**
 * When to fetch the ICE server list again. TURN entries from the signaling server carry coturn
 * REST credentials (PROTOCOL.md §9): username `"<expiry Unix seconds>:<virtual ip>"`, valid until
 * that expiry. A cached list must be replaced before its credentials run out.
 */
import type { IceServer } from "./signal-port.js";

/** Refresh this share of the remaining lifetime before expiry… */
const REFRESH_SHARE = 0.1;
/** …but never later than this many milliseconds before it. */
const MIN_MARGIN_MS = 5_000;

const TIME_LIMITED = /^(\d+):/;

/**
 * The Unix time (ms) at which a list fetched at `nowMs` (Unix ms, wall time) should be fetched
 * again: the earliest credential expiry minus 10 % of the lifetime left, and at least 5 s before
 * it. May be `<= nowMs` (already due). `undefined` when no entry has a time-limited username.
 */
export function credentialRefreshAt(servers: readonly IceServer[], nowMs: number): number | undefined {
  let expiryMs: number | undefined;
  for (const server of servers) {
    const match = server.username === undefined ? null : TIME_LIMITED.exec(server.username);
    if (match === null) continue;
    const expiry = Number(match[1]) * 1000;
    if (Number.isSafeInteger(expiry) && (expiryMs === undefined || expiry < expiryMs)) expiryMs = expiry;
  }
  if (expiryMs === undefined) return undefined;
  return expiryMs - Math.max(REFRESH_SHARE * (expiryMs - nowMs), MIN_MARGIN_MS);
}
