/** The one dependency object every service and connection receives (built in server.ts). */
import type { SessionLog, TakenSession } from "./cluster/session-log.js";
import type { ServerConfig } from "./config.js";
import type { Logger } from "./observability/logger.js";
import type { Metrics } from "./observability/metrics.js";
import type { Router } from "./router.js";
import type { Directory } from "./services/directory.js";
import type { ClientSession } from "./session/client-session.js";
import type { FlushScheduler } from "./session/flush-scheduler.js";
import type { Session, SessionCloseCause } from "./session/session.js";
import type { Storage } from "./storage/storage.js";

export interface ServerClock {
  /** Monotonic milliseconds, for timers and rates. */
  now(): number;
  /** Unix time in milliseconds, for what outlives the process (token expiry). Default Date.now. */
  wallNow?(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ServerContext {
  readonly config: ServerConfig;
  readonly clock: ServerClock;
  /** Uniform random in [0, 1). */
  readonly random: () => number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly router: Router;
  readonly directory: Directory;
  /** Identities, accounts, tokens, characters and world documents: SQLite or PostgreSQL (storage/). */
  readonly storage: Storage;
  /** When queued frames leave: at the end of the turn, or on a tick (PROTOCOL.md §4). */
  readonly flushes: FlushScheduler;
  /** Every session that is open or detached, by id (RESUME names one). */
  readonly sessions: Map<string, ClientSession>;
  /** Every service's onSessionOpen; a promise when some is still at work (the connection holds the client's frames until it settles). */
  sessionOpened(session: ClientSession): Promise<void> | undefined;
  sessionClosed(session: ClientSession, cause: SessionCloseCause): void;
  /** Called by Session.moveTo before the address changes. */
  sessionMoving(session: Session): void;
  /** A detached session was resumed on a new connection. */
  sessionResumed(session: Session): void;
  /** A durable session was taken over from another node (a RESUME it did not hold). */
  sessionMovedIn(session: ClientSession, taken: TakenSession): void;
  /** Durable sessions (--durable-sessions with --redis); undefined: sessions live in this process only. */
  readonly sessionLog: SessionLog | undefined;
}
