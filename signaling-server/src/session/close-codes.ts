/**
 * What a client connection's close code means beyond "closed": the gmnet_disconnects_total label
 * it is counted under, and the codes ws and RFC 6455 define that the protocol's CloseCode does not.
 */
import { CloseCode } from "@gmnet/protocol";
import type { SessionCloseCause } from "./session.js";

/** WebSocket close code for an unexpected server-side failure while handling a frame (RFC 6455). */
export const INTERNAL_ERROR = 1011;
/** ws reports a connection that ended without a close frame (network loss, a cut) with this code. */
export const ABNORMAL_CLOSURE = 1006;

/** The gmnet_disconnects_total label for a close code, where it says more than "closed". */
const METRIC_CAUSE_OF_CODE: ReadonlyMap<number, string> = new Map([
  [CloseCode.REPLACED, "replaced"],
  [CloseCode.HEARTBEAT_TIMEOUT, "heartbeat"],
  [CloseCode.RATE_LIMITED, "rate-limited"],
  [CloseCode.SERVER_SHUTDOWN, "shutdown"],
  [CloseCode.HELLO_TIMEOUT, "hello-timeout"],
  [CloseCode.ORIGIN_NOT_ALLOWED, "origin-not-allowed"],
  [CloseCode.STORAGE_UNAVAILABLE, "storage-unavailable"],
  [CloseCode.HANDOVER, "handover"],
  [INTERNAL_ERROR, "internal-error"],
]);

/** The gmnet_disconnects_total label of a close with `code`. */
export function metricCauseOf(code: number): string {
  return METRIC_CAUSE_OF_CODE.get(code) ?? (code >= CloseCode.VERSION_MISMATCH ? "protocol-error" : "closed");
}

/** The longest prefix of `text` that fits in `maxBytes` UTF-8 bytes, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = "";
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}

/** What closing with a code means to the services. */
const SESSION_CAUSE_OF_CODE: ReadonlyMap<number, SessionCloseCause> = new Map<number, SessionCloseCause>([
  [CloseCode.REPLACED, "replaced"],
  [CloseCode.HEARTBEAT_TIMEOUT, "heartbeat"],
  [CloseCode.RATE_LIMITED, "rate-limited"],
  [CloseCode.SERVER_SHUTDOWN, "shutdown"],
  // A service handler threw on one of this client's frames (connection.ts).
  [INTERNAL_ERROR, "protocol-error"],
]);

/** What closing a session with `code` means to the services (SessionLifecycle.onSessionClose). */
export function sessionCauseOf(code: number): SessionCloseCause {
  return SESSION_CAUSE_OF_CODE.get(code) ?? (code >= CloseCode.VERSION_MISMATCH ? "protocol-error" : "closed");
}
