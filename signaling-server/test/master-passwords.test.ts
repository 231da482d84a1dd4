/** Password hashing (PROTOCOL.md §16.3): format, verification, stored parameters, the hasher's queue. */
import { describe, expect, it } from "vitest";
import { ConcurrencyLimiter } from "../src/master/accounts/concurrency-limiter.js";
import { PasswordHasher, formatHash, parseHash } from "../src/master/accounts/passwords.js";
import { MasterFailure } from "../src/master/outcome.js";

const cheap = { cost: 1024, parallelism: 1, maxConcurrent: 4, maxQueued: 16 };

describe("PasswordHasher", () => {
  it("stores scrypt$N$r$p$salt$hash with a 16-byte salt and a 32-byte key", async () => {
    const hasher = new PasswordHasher(cheap);
    const stored = await hasher.hash("correct horse");
    expect(stored).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    const parsed = parseHash(stored)!;
    expect(parsed.params).toEqual({ cost: 1024, blockSize: 8, parallelism: 1 });
    expect(parsed.salt).toHaveLength(16);
    expect(parsed.key).toHaveLength(32);
    expect(formatHash(parsed)).toBe(stored);
  });

  it("verifies the right password only, with a fresh salt per hash", async () => {
    const hasher = new PasswordHasher(cheap);
    const [a, b] = await Promise.all([hasher.hash("correct horse"), hasher.hash("correct horse")]);
    expect(a).not.toBe(b);
    expect(await hasher.verify("correct horse", a)).toBe(true);
    expect(await hasher.verify("correct horse", b)).toBe(true);
    expect(await hasher.verify("correct horsf", a)).toBe(false);
    expect(await hasher.verify("", a)).toBe(false);
  });

  it("verifies with the parameters stored in the hash, so the cost can be raised later", async () => {
    const old = await new PasswordHasher({ ...cheap, cost: 1024, parallelism: 2 }).hash("battery staple");
    const raised = new PasswordHasher({ ...cheap, cost: 4096, parallelism: 1 });
    expect(await raised.verify("battery staple", old)).toBe(true);
    expect(await raised.hash("battery staple")).toMatch(/^scrypt\$4096\$8\$1\$/);
  });

  it("treats a stored value that is not a usable hash as no match", async () => {
    const hasher = new PasswordHasher(cheap);
    const good = await hasher.hash("password1");
    const parts = good.split("$");
    const broken = [
      "",
      "plain",
      good.replace("scrypt$", "bcrypt$"),
      [...parts.slice(0, 1), "1000", ...parts.slice(2)].join("$"), // N not a power of two
      [...parts.slice(0, 1), String(1 << 30), ...parts.slice(2)].join("$"), // N beyond what this server writes
      [...parts.slice(0, 2), "0", ...parts.slice(3)].join("$"),
      [...parts.slice(0, 4), "!!!", parts[5]].join("$"),
      [...parts.slice(0, 5), "c2hvcnQ="].join("$"), // a 5-byte key
      `${good}$extra`,
    ];
    for (const stored of broken) {
      expect(parseHash(stored), stored).toBeUndefined();
      expect(await hasher.verify("password1", stored)).toBe(false);
    }
  });

  it("checks a dummy hash for unknown users: always false, at the cost of a real check", async () => {
    const hasher = new PasswordHasher({ ...cheap, cost: 16384 });
    const stored = await hasher.hash("password1");
    const time = async (check: () => Promise<boolean>): Promise<number> => {
      const started = performance.now();
      await check();
      return performance.now() - started;
    };
    expect(await hasher.verifyDummy("password1")).toBe(false);
    // Same work: a dummy check costs a real scrypt, nowhere near free (generous bounds, timing is noisy).
    const real = Math.min(await time(() => hasher.verify("wrong-pass", stored)), await time(() => hasher.verify("wrong-pass", stored)));
    const dummy = Math.min(await time(() => hasher.verifyDummy("wrong-pass")), await time(() => hasher.verifyDummy("wrong-pass")));
    expect(dummy).toBeGreaterThan(real / 5);
  });

  it("answers busy when more hashes wait than the queue holds", async () => {
    const hasher = new PasswordHasher({ ...cheap, maxConcurrent: 1, maxQueued: 1 });
    const first = hasher.hash("password1");
    const second = hasher.hash("password2");
    const third = hasher.hash("password3");
    await expect(third).rejects.toBeInstanceOf(MasterFailure);
    await expect(third).rejects.toMatchObject({ outcome: { status: 10, body: { error: "busy" } } });
    await expect(first).resolves.toMatch(/^scrypt\$/);
    await expect(second).resolves.toMatch(/^scrypt\$/);
    // Once the queue drained, hashing works again.
    await expect(hasher.hash("password4")).resolves.toMatch(/^scrypt\$/);
  });
});

describe("ConcurrencyLimiter", () => {
  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { open, opened };
  };

  it("runs at most maxActive at once, queues up to maxQueued, refuses beyond", async () => {
    const limiter = new ConcurrencyLimiter(2, 1);
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      limiter.tryRun(async () => {
        started.push(i);
        await g.opened;
        return i;
      }),
    );
    expect(limiter.tryRun(async () => 99)).toBeUndefined();
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(limiter.running).toBe(2);
    expect(limiter.queued).toBe(1);
    gates[0]!.open();
    expect(await runs[0]).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    expect(limiter.running).toBe(2);
    expect(limiter.queued).toBe(0);
    gates[1]!.open();
    gates[2]!.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(limiter.running).toBe(0);
  });

  it("frees the slot when a task fails", async () => {
    const limiter = new ConcurrencyLimiter(1, 0);
    await expect(limiter.tryRun(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(limiter.running).toBe(0);
    await expect(limiter.tryRun(async () => 1)).resolves.toBe(1);
  });
});
