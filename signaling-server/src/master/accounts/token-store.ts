/**
 * Session tokens (PROTOCOL.md §16.3): 32 random bytes, base64url (43 characters). Only their
 * SHA-256 is stored (storage's TokenStorage), with the account, the app key, the expiry and a
 * revoked flag. This adds the clock and the time to live, and the sweeper: a timer that deletes
 * expired and revoked rows; a deleted token then reads as never issued (token_invalid).
 */
import type { ServerClock } from "../../server-context.js";
import type { IssuedToken, TokenCheck, TokenStorage } from "../../storage/storage.js";

export { TOKEN_BYTES, TOKEN_FORMAT, hashToken } from "../../storage/storage.js";
export type { IssuedToken, TokenCheck, TokenProblem } from "../../storage/storage.js";

export interface TokenStoreOptions {
  readonly tokens: TokenStorage;
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
  private readonly rows: TokenStorage;
  private timer: unknown;
  private closed = false;

  constructor(private readonly options: TokenStoreOptions) {
    this.rows = options.tokens;
    this.schedule();
  }

  issue(appKey: string, accountId: number): Promise<IssuedToken> {
    return this.rows.issue(appKey, accountId, this.options.wallNow(), this.options.ttlMs);
  }

  /** The account a token stands for in `appKey`, or why it does not (a malformed token is not looked up). */
  check(appKey: string, token: string): Promise<TokenCheck> {
    return this.rows.check(appKey, token, this.options.wallNow());
  }

  /** Revokes a token by its hash; nothing happens for an unknown one. */
  revoke(tokenHash: string): Promise<void> {
    return this.rows.revoke(tokenHash);
  }

  /** Deletes expired and revoked rows; resolves with how many. */
  sweep(): Promise<number> {
    return this.rows.sweep(this.options.wallNow());
  }

  /** Stops the sweeper. */
  close(): void {
    this.closed = true;
    this.options.clock.clearTimeout(this.timer);
  }

  /** The next sweep is scheduled once this one has finished, so sweeps never overlap. */
  private schedule(): void {
    const { clock, sweepIntervalMs } = this.options;
    this.timer = clock.setTimeout(() => {
      if (this.closed) return;
      this.sweep()
        .catch((error: unknown) => this.options.onSweepError?.(error))
        .finally(() => {
          if (!this.closed) this.schedule();
        });
    }, sweepIntervalMs);
    // Node's timers: the sweeper alone must not keep the process alive.
    (this.timer as { unref?: () => void } | undefined)?.unref?.();
  }
}
