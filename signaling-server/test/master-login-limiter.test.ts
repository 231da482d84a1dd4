/** LOGIN lockout (PROTOCOL.md §16.3): per account and per address, windows, success, memory bounds. */
import { describe, expect, it } from "vitest";
import { type LoginAdmission, LoginLimiter } from "../src/master/accounts/login-limiter.js";

function setup(options: { maxFailures?: number; maxFailuresPerAddress?: number; windowMs?: number; maxEntries?: number } = {}) {
  let now = 1000;
  const limiter = new LoginLimiter({ maxFailures: 3, maxFailuresPerAddress: 5, windowMs: 60_000, now: () => now, ...options });
  const advance = (ms: number) => (now += ms);
  /** One attempt that fails. */
  const fail = (account: string, address = "1.2.3.4"): LoginAdmission => {
    const admission = limiter.begin(account, address);
    if (!admission.locked) admission.attempt.failed();
    return admission;
  };
  return { limiter, advance, fail };
}

describe("LoginLimiter", () => {
  it("locks an account after maxFailures failures, until the window that opened at the first one closes", () => {
    const { limiter, advance, fail } = setup();
    expect(fail("app\nalice").locked).toBe(false);
    advance(10_000);
    expect(fail("app\nalice").locked).toBe(false);
    expect(fail("app\nalice").locked).toBe(false);
    const locked = limiter.begin("app\nalice", "1.2.3.4");
    expect(locked).toEqual({ locked: true, retryAfterMs: 50_000 });
    // Other accounts and addresses are not affected by this account's lock…
    expect(limiter.begin("app\nbob", "1.2.3.4").locked).toBe(false);
    // …but the account is locked from any address.
    expect(limiter.begin("app\nalice", "5.6.7.8").locked).toBe(true);
    advance(49_999);
    expect(limiter.begin("app\nalice", "9.9.9.9")).toEqual({ locked: true, retryAfterMs: 1 });
    advance(1);
    expect(limiter.begin("app\nalice", "9.9.9.9").locked).toBe(false);
  });

  it("locks an address after maxFailuresPerAddress failures, whatever the account", () => {
    const { limiter, fail } = setup();
    for (let i = 0; i < 5; i++) expect(fail(`app\nuser${i}`, "6.6.6.6").locked).toBe(false);
    const admission = limiter.begin("app\nsomeone-new", "6.6.6.6");
    expect(admission.locked).toBe(true);
    expect(limiter.begin("app\nsomeone-new", "7.7.7.7").locked).toBe(false);
  });

  it("clears the account's count on success and takes the attempt back from the address", () => {
    const { limiter, fail } = setup({ maxFailuresPerAddress: 3 });
    fail("app\nalice");
    fail("app\nalice");
    const admission = limiter.begin("app\nalice", "1.2.3.4");
    if (admission.locked) throw new Error("should be admitted");
    admission.attempt.succeeded();
    // The account starts over; the address still holds its 2 failures.
    expect(fail("app\nalice").locked).toBe(false);
    expect(limiter.begin("app\nbob", "1.2.3.4").locked).toBe(true);
  });

  it("counts an attempt from the moment it starts, so parallel attempts cannot pass the limit", () => {
    const { limiter } = setup();
    const admissions = Array.from({ length: 5 }, () => limiter.begin("app\nalice", "1.2.3.4"));
    expect(admissions.map((admission) => admission.locked)).toEqual([false, false, false, true, true]);
  });

  it("does not count a cancelled attempt (the hasher was busy)", () => {
    const { limiter, fail } = setup();
    for (let i = 0; i < 10; i++) {
      const admission = limiter.begin("app\nalice", "1.2.3.4");
      if (admission.locked) throw new Error("should be admitted");
      admission.attempt.cancelled();
    }
    expect(limiter.size).toEqual({ accounts: 0, addresses: 0 });
    fail("app\nalice");
    fail("app\nalice");
    expect(fail("app\nalice").locked).toBe(false);
    expect(limiter.begin("app\nalice", "1.2.3.4").locked).toBe(true);
  });

  it("settles an attempt once: a second call does nothing", () => {
    const { limiter } = setup();
    const admission = limiter.begin("app\nalice", "1.2.3.4");
    if (admission.locked) throw new Error("should be admitted");
    admission.attempt.failed();
    admission.attempt.cancelled();
    admission.attempt.succeeded();
    expect(limiter.size).toEqual({ accounts: 1, addresses: 1 });
  });

  it("drops closed windows and never holds more than maxEntries", () => {
    const { limiter, advance, fail } = setup({ maxEntries: 4, maxFailures: 1, maxFailuresPerAddress: 100 });
    for (let i = 0; i < 10; i++) fail(`app\nuser${i}`, `10.0.0.${i}`);
    expect(limiter.size).toEqual({ accounts: 4, addresses: 4 });
    // The newest entries are the ones kept: user9 is still locked, user0 was dropped.
    expect(limiter.begin("app\nuser9", "1.1.1.1").locked).toBe(true);
    advance(60_000);
    fail("app\nlater", "2.2.2.2");
    expect(limiter.size).toEqual({ accounts: 1, addresses: 1 });
  });
});
