/**
 * What services see of a connected, authenticated client. Sending never throws: on a closed
 * session it does nothing, so services can answer without checking who is still there.
 * A send that finds the client a slow consumer closes the session at once, but onSessionClose
 * runs after the current handler returns (never re-entrantly from inside send()).
 */
export interface Session {
  /** Random per connection; also shown to the client in Welcome. */
  readonly id: string;
  readonly appKey: string;
  readonly identityId: number;
  readonly virtualIp: number;
  readonly closed: boolean;
  send(channel: number, type: number, priority: number, payload: Uint8Array): void;
  /** Sends an ERROR frame about the frame (channel, type, refId) that caused it. */
  sendError(code: number, channel: number, type: number, refId: number, message: string): void;
  close(code: number, reason: string): void;
}

export type SessionCloseCause = "closed" | "heartbeat" | "slow-consumer" | "replaced" | "rate-limited" | "protocol-error" | "shutdown";

/** Hooks a service registers to keep per-session state. */
export interface SessionLifecycle {
  onSessionOpen?(session: Session): void;
  onSessionClose?(session: Session, cause: SessionCloseCause): void;
}
