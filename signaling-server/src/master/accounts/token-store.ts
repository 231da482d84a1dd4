/**
 * Session tokens (PROTOCOL.md §16.3): 32 random bytes, base64url (43 characters). Only their
 * SHA-256 is stored, with the account, the app key, the expiry and a revoked flag. A sweeper
 * deletes expired and revoked rows; a deleted token then reads as never issued (token_invalid).
 * The SQL is in storage/sqlite-storage.ts.
 */
import type Database from "better-sqlite3";
import type { ServerClock } from "../../server-context.js";
import { SqliteTokens } from "../../storage/sqlite-storage.js";

export { TOKEN_BYTES, TOKEN_FORMAT, hashToken } from "../../storage/storage.js";

export type TokenProblem = "token_invalid" | "token_expired";

export interface IssuedToken {
  readonly token: string;
  readonly tokenHash: string;
  /** Unix time in ms. */
  readonly expiresAt: number;
}

export type TokenCheck = { readonly accountId: number; readonly tokenHash: string; readonly expiresAt: number } | { readonly problem: TokenProblem };

export interface TokenStoreOptions {
  readonly db: Database.Database;
  /** setTimeout/clearTimeout for the sweeper. */
  readonly clock: Pick<ServerClock, "setTimeout" | "clearTimeout">;
  /** Unix time in ms. */
  readonly wallNow: () => number;
  readonly ttlMs: number;
  readonly sweepIntervalMs: number;
  /** A sweep that failed (the sweeper keeps running). */
  readonly onSweepError?: (error: unknown) => void;
}

export class TokenStore {
  private readonly rows: SqliteTokens;
  private timer: unknown;
  private closed = false;

  constructor(private readonly options: TokenStoreOptions) {
    this.rows = new SqliteTokens(options.db);
    this.schedule();
  }

  issue(appKey: string, accountId: number): IssuedToken {
    return this.rows.issue(appKey, accountId, this.options.wallNow(), this.options.ttlMs);
  }

  /** The account a token stands for in `appKey`, or why it does not (a malformed token is not looked up). */
  check(appKey: string, token: string): TokenCheck {
    return this.rows.check(appKey, token, this.options.wallNow());
  }

  /** Revokes a token by its hash; nothing happens for an unknown one. */
  revoke(tokenHash: string): void {
    this.rows.revoke(tokenHash);
  }

  /** Deletes expired and revoked rows; returns how many. */
  sweep(): number {
    return this.rows.sweep(this.options.wallNow());
  }

  /** Stops the sweeper. */
  close(): void {
    this.closed = true;
    this.options.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    const { clock, sweepIntervalMs } = this.options;
    this.timer = clock.setTimeout(() => {
      if (this.closed) return;
      try {
        this.sweep();
      } catch (error) {
        this.options.onSweepError?.(error);
      }
      this.schedule();
    }, sweepIntervalMs);
    // Node's timers: the sweeper alone must not keep the process alive.
    (this.timer as { unref?: () => void } | undefined)?.unref?.();
  }
}
