/**
 * Session tokens (PROTOCOL.md §16.3): 32 random bytes, base64url (43 characters). Only their
 * SHA-256 is stored, with the account, the app key, the expiry and a revoked flag. A sweeper
 * deletes expired and revoked rows; a deleted token then reads as never issued (token_invalid).
 */
import { createHash, randomBytes } from "node:crypto";
import type Database from "better-sqlite3";
import type { ServerClock } from "../../server-context.js";

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

export const TOKEN_BYTES = 32;
/** What issue() produces: 43 base64url characters, nothing else. */
export const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

interface TokenRow {
  account_id: number;
  app_key: string;
  expires_at: number;
  revoked: number;
}

export class TokenStore {
  private readonly insert: Database.Statement<[string, number, string, number, number]>;
  private readonly find: Database.Statement<[string], TokenRow>;
  private readonly revokeOne: Database.Statement<[string]>;
  private readonly deleteExpired: Database.Statement<[number]>;
  private readonly deleteRevoked: Database.Statement<[]>;
  private timer: unknown;
  private closed = false;

  constructor(private readonly options: TokenStoreOptions) {
    const { db } = options;
    db.exec(`
      CREATE TABLE IF NOT EXISTS sessions (
        token_hash TEXT    PRIMARY KEY,
        account_id INTEGER NOT NULL,
        app_key    TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked    INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
      CREATE INDEX IF NOT EXISTS sessions_revoked ON sessions (revoked) WHERE revoked = 1;
    `);
    this.insert = db.prepare("INSERT INTO sessions (token_hash, account_id, app_key, created_at, expires_at) VALUES (?, ?, ?, ?, ?)");
    this.find = db.prepare("SELECT account_id, app_key, expires_at, revoked FROM sessions WHERE token_hash = ?");
    this.revokeOne = db.prepare("UPDATE sessions SET revoked = 1 WHERE token_hash = ?");
    this.deleteExpired = db.prepare("DELETE FROM sessions WHERE expires_at <= ?");
    this.deleteRevoked = db.prepare("DELETE FROM sessions WHERE revoked = 1");
    this.schedule();
  }

  issue(appKey: string, accountId: number): IssuedToken {
    const token = randomBytes(TOKEN_BYTES).toString("base64url");
    const tokenHash = hashToken(token);
    const now = this.options.wallNow();
    const expiresAt = now + this.options.ttlMs;
    this.insert.run(tokenHash, accountId, appKey, now, expiresAt);
    return { token, tokenHash, expiresAt };
  }

  /** The account a token stands for in `appKey`, or why it does not (a malformed token is not looked up). */
  check(appKey: string, token: string): TokenCheck {
    if (!TOKEN_FORMAT.test(token)) return { problem: "token_invalid" };
    const tokenHash = hashToken(token);
    const row = this.find.get(tokenHash);
    if (row === undefined || row.revoked !== 0 || row.app_key !== appKey) return { problem: "token_invalid" };
    if (row.expires_at <= this.options.wallNow()) return { problem: "token_expired" };
    return { accountId: row.account_id, tokenHash, expiresAt: row.expires_at };
  }

  /** Revokes a token by its hash; nothing happens for an unknown one. */
  revoke(tokenHash: string): void {
    this.revokeOne.run(tokenHash);
  }

  /** Deletes expired and revoked rows; returns how many. */
  sweep(): number {
    return this.deleteExpired.run(this.options.wallNow()).changes + this.deleteRevoked.run().changes;
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
