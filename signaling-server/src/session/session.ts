import type { TakenSession } from "../cluster/session-log.js";
import type { Identity } from "../storage/storage.js";

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
  /** The identity the connection speaks for now: its own, or a logged-in account's (see moveTo). */
  readonly identityId: number;
  readonly virtualIp: number;
  /** The identity proven by the Hello's secret; the connection returns to it on logout. */
  readonly deviceIdentity: Identity;
  /** The client's network address (for login rate limits): the socket's, or X-Forwarded-For's with trustProxy. */
  readonly remoteAddress: string;
  /** The master session token the Hello carried ("" for none). */
  readonly helloToken: string;
  readonly closed: boolean;
  /** The client's connection dropped and the session waits for it to resume (PROTOCOL.md §14); sends are held for it. */
  readonly detached: boolean;
  /**
   * Kept in Redis (--durable-sessions, PROTOCOL.md §15): its client may resume it on any node, so
   * other sessions reach it through its log (by id), never through the node it is on now.
   */
  readonly durable?: boolean;
  /** The session now holds what a move to another node cannot carry (a login, a host name, …): it resumes only where it is. */
  pin?(reason: string): void;
  /** Another node took this durable session over: this node's copy goes without ending anything (peers, claims). */
  movedAway?(): void;
  send(channel: number, type: number, priority: number, payload: Uint8Array): void;
  /** Sends an ERROR frame about the frame (channel, type, refId) that caused it. */
  sendError(code: number, channel: number, type: number, refId: number, message: string): void;
  close(code: number, reason: string): void;
  /**
   * Moves the connection to another identity's virtual IP (login, logout): its streams, UDP
   * bindings, WebRTC pairs and host name end as if it had left, a live session holding that
   * address is closed with REPLACED, and the client is told with VSOCKET VIRTUAL_IP.
   * Nothing happens when the address stays the same.
   */
  moveTo(identity: Identity): void;
  /**
   * The client's frames that arrive after this call wait, in arrival order, until `settled`
   * settles: a master login moves the session to another address, and what the client sent after
   * it must be handled from that address, however long the login takes (a shared database, another
   * node). Connection housekeeping (PING, PONG, ACK, ECHO) is not held. Only a session with a
   * connection of its own implements it.
   */
  holdFramesUntil?(settled: Promise<unknown>): void;
}

/** Why a session ended; "not-recovered": it was detached and its client did not resume it within the window or a replay bound. */
export type SessionCloseCause = "closed" | "heartbeat" | "slow-consumer" | "replaced" | "rate-limited" | "protocol-error" | "shutdown" | "not-recovered" | "moved";

/** Hooks a service registers to keep per-session state. */
export interface SessionLifecycle {
  /**
   * A promise (it must never reject): the session's connection holds the client's next frames
   * until it settles (master: the Hello token's login, so it applies before anything else).
   */
  onSessionOpen?(session: Session): void | Promise<void>;
  onSessionClose?(session: Session, cause: SessionCloseCause): void;
  /** The session is about to leave its virtual IP for another (Session.moveTo): drop what was bound to the old one. */
  onSessionMove?(session: Session): void;
  /** A detached session was resumed on a new connection: everything it had is still there. */
  onSessionResume?(session: Session): void;
  /** A durable session another node had was resumed here (its record taken over): rebuild what it held. */
  onSessionMovedIn?(session: Session, taken: TakenSession): void;
}
