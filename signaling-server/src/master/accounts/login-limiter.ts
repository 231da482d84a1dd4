/**
 * LOGIN lockout (PROTOCOL.md §16.3): failures counted per account (app key + lower-cased user
 * name, whether or not the account exists) and per client address. A window opens at the first
 * failure and lasts `windowMs`; once it holds `max` failures, further LOGINs are locked until it
 * closes. An attempt counts as a failure from the moment it starts (so a burst of parallel
 * attempts cannot slip past the count while their hashes run); a success clears the account's
 * count and takes its attempt back from the address's.
 *
 * Memory is bounded: windows open in time order and the maps keep insertion order, so expired
 * entries are dropped from the front; a full map drops its oldest entry.
 */

export interface LoginLimiterOptions {
  readonly maxFailures: number;
  readonly maxFailuresPerAddress: number;
  readonly windowMs: number;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  /** Entries kept per map (accounts, addresses). */
  readonly maxEntries?: number;
}

export interface LoginAttempt {
  /** The password was right: the account's count is cleared, the address's attempt taken back. */
  succeeded(): void;
  /** The password was wrong (the attempt already counts). */
  failed(): void;
  /** The attempt never checked a password (the hasher was busy): it does not count. */
  cancelled(): void;
}

export type LoginAdmission = { readonly locked: true; readonly retryAfterMs: number } | { readonly locked: false; readonly attempt: LoginAttempt };

interface Window {
  readonly openedAt: number;
  failures: number;
}

const DEFAULT_MAX_ENTRIES = 100_000;

/** Events per key within a fixed window that opens at the key's first event; also limits account creation per address. */
export class WindowCounter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.windows.size;
  }

  /** ms until `key` may try again, 0 when it may now. */
  lockedFor(key: string, now: number): number {
    this.prune(now);
    const window = this.windows.get(key);
    return window !== undefined && window.failures >= this.max ? Math.max(1, Math.ceil(window.openedAt + this.windowMs - now)) : 0;
  }

  /** Counts one failure; returns the window it went into. */
  count(key: string, now: number): Window {
    let window = this.windows.get(key);
    if (window !== undefined && window.openedAt + this.windowMs <= now) {
      // Closed but not yet pruned: a new window opens at the back, keeping the map in time order.
      this.windows.delete(key);
      window = undefined;
    }
    if (window === undefined) {
      if (this.windows.size >= this.maxEntries) this.windows.delete(this.windows.keys().next().value!);
      window = { openedAt: now, failures: 0 };
      this.windows.set(key, window);
    }
    window.failures++;
    return window;
  }

  /** Takes back one failure counted into `window`, if that window is still the key's. */
  uncount(key: string, window: Window): void {
    if (this.windows.get(key) !== window) return;
    window.failures--;
    if (window.failures <= 0) this.windows.delete(key);
  }

  clear(key: string): void {
    this.windows.delete(key);
  }

  /** Drops closed windows from the front (the oldest first). */
  private prune(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.openedAt + this.windowMs > now) break;
      this.windows.delete(key);
    }
  }
}

export class LoginLimiter {
  private readonly accounts: WindowCounter;
  private readonly addresses: WindowCounter;

  constructor(private readonly options: LoginLimiterOptions) {
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.accounts = new WindowCounter(options.maxFailures, options.windowMs, maxEntries);
    this.addresses = new WindowCounter(options.maxFailuresPerAddress, options.windowMs, maxEntries);
  }

  /** Entries held (for tests). */
  get size(): { accounts: number; addresses: number } {
    return { accounts: this.accounts.size, addresses: this.addresses.size };
  }

  /** Locked, with when to retry; or admitted, with the attempt to settle once the password is checked. */
  begin(accountKey: string, address: string): LoginAdmission {
    const now = this.options.now();
    const retryAfterMs = Math.max(this.accounts.lockedFor(accountKey, now), this.addresses.lockedFor(address, now));
    if (retryAfterMs > 0) return { locked: true, retryAfterMs };
    const accountWindow = this.accounts.count(accountKey, now);
    const addressWindow = this.addresses.count(address, now);
    let settled = false;
    const settle = (then: () => void) => () => {
      if (settled) return;
      settled = true;
      then();
    };
    return {
      locked: false,
      attempt: {
        succeeded: settle(() => {
          this.accounts.clear(accountKey);
          this.addresses.uncount(address, addressWindow);
        }),
        failed: settle(() => undefined),
        cancelled: settle(() => {
          this.accounts.uncount(accountKey, accountWindow);
          this.addresses.uncount(address, addressWindow);
        }),
      },
    };
  }
}
