/** Session tokens and accounts on the SQLite storage (PROTOCOL.md §16.3): issue, check, revoke, expiry, the sweeper. */
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { TOKEN_FORMAT, TokenStore, hashToken } from "../src/master/accounts/token-store.js";
import { parseVirtualNetwork } from "../src/services/virtual-network.js";
import { sqliteStorageOf } from "../src/storage/sqlite-storage.js";

/** A clock whose timers run only when the test says so. */
function manualClock() {
  let wall = 1_700_000_000_000;
  let nextId = 1;
  const timers = new Map<number, { callback: () => void; ms: number }>();
  return {
    wallNow: () => wall,
    advance: (ms: number) => (wall += ms),
    timers,
    setTimeout: (callback: () => void, ms: number) => {
      const id = nextId++;
      timers.set(id, { callback, ms });
      return id;
    },
    clearTimeout: (handle: unknown) => void timers.delete(handle as number),
    /** Runs the timers due now (all pending ones: the test decides when time has come). */
    fire: () => {
      const due = [...timers];
      timers.clear();
      for (const [, timer] of due) timer.callback();
    },
  };
}

const dbs: Database.Database[] = [];
/** The storage over a database of the test's (which it may also query, or break, directly). */
const storageOf = (db: Database.Database) => sqliteStorageOf(db, { network: parseVirtualNetwork("10.0.0.0/8"), random: Math.random });
/** Lets the sweep a fired timer started finish. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

function setup(ttlMs = 60_000) {
  const db = new Database(":memory:");
  dbs.push(db);
  const clock = manualClock();
  const tokens = new TokenStore({ tokens: storageOf(db).tokens, clock, wallNow: clock.wallNow, ttlMs, sweepIntervalMs: 5000 });
  const rows = () => (db.prepare("SELECT COUNT(*) AS n FROM sessions").get() as { n: number }).n;
  return { db, clock, tokens, rows };
}

describe("TokenStore", () => {
  it("issues 43-character base64url tokens and stores only their SHA-256", async () => {
    const { db, tokens } = setup();
    const issued = await tokens.issue("app", 7);
    expect(issued.token).toMatch(TOKEN_FORMAT);
    expect(issued.token).toHaveLength(43);
    expect(issued.tokenHash).toBe(hashToken(issued.token));
    expect(issued.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    const stored = db.prepare("SELECT * FROM sessions").all();
    expect(stored).toEqual([{ token_hash: issued.tokenHash, account_id: 7, app_key: "app", created_at: expect.any(Number), expires_at: issued.expiresAt, revoked: 0 }]);
    expect(JSON.stringify(stored)).not.toContain(issued.token);
  });

  it("checks a token: its account until expiry, then token_expired", async () => {
    const { clock, tokens } = setup(60_000);
    const issued = await tokens.issue("app", 7);
    expect(await tokens.check("app", issued.token)).toEqual({ accountId: 7, tokenHash: issued.tokenHash, expiresAt: issued.expiresAt });
    clock.advance(59_999);
    expect(await tokens.check("app", issued.token)).toMatchObject({ accountId: 7 });
    clock.advance(1);
    expect(await tokens.check("app", issued.token)).toEqual({ problem: "token_expired" });
  });

  it("refuses tokens never issued, revoked, malformed, or of another app key as token_invalid", async () => {
    const { tokens } = setup();
    const issued = await tokens.issue("app", 7);
    expect(await tokens.check("other-app", issued.token)).toEqual({ problem: "token_invalid" });
    expect(await tokens.check("app", "A".repeat(43))).toEqual({ problem: "token_invalid" });
    for (const malformed of ["", "short", `${issued.token}x`, issued.token.slice(0, 42) + "=", "x".repeat(256)]) {
      expect(await tokens.check("app", malformed)).toEqual({ problem: "token_invalid" });
    }
    await tokens.revoke(issued.tokenHash);
    expect(await tokens.check("app", issued.token)).toEqual({ problem: "token_invalid" });
    await tokens.revoke("0".repeat(64)); // unknown: nothing happens
  });

  it("does not look a malformed token up", async () => {
    const { db, tokens } = setup();
    db.exec("DROP TABLE sessions"); // any lookup would now throw
    expect(await tokens.check("app", "not a token")).toEqual({ problem: "token_invalid" });
    await expect(tokens.check("app", "B".repeat(43))).rejects.toThrow();
  });

  it("sweeps expired and revoked rows every sweepIntervalMs, and stops when closed", async () => {
    const { clock, tokens, rows } = setup(60_000);
    const kept = await tokens.issue("app", 1);
    const revoked = await tokens.issue("app", 2);
    await tokens.revoke(revoked.tokenHash);
    clock.advance(30_000);
    const later = await tokens.issue("app", 3);
    clock.advance(30_000); // `kept` and `revoked` are past their expiry now; `later` is not
    await tokens.revoke(later.tokenHash);
    const fresh = await tokens.issue("app", 4);
    expect(rows()).toBe(4);
    expect([...clock.timers.values()].map((timer) => timer.ms)).toEqual([5000]);
    clock.fire();
    await settle();
    expect(rows()).toBe(1);
    expect(await tokens.check("app", fresh.token)).toMatchObject({ accountId: 4 });
    // A swept expired token reads as never issued.
    expect(await tokens.check("app", kept.token)).toEqual({ problem: "token_invalid" });
    expect(clock.timers.size).toBe(1); // the next sweep is scheduled
    tokens.close();
    expect(clock.timers.size).toBe(0);
  });

  it("keeps sweeping after a failed sweep", async () => {
    const db = new Database(":memory:");
    dbs.push(db);
    const clock = manualClock();
    const errors: unknown[] = [];
    const tokens = new TokenStore({ tokens: storageOf(db).tokens, clock, wallNow: clock.wallNow, ttlMs: 1000, sweepIntervalMs: 5000, onSweepError: (error) => errors.push(error) });
    db.exec("DROP TABLE sessions");
    clock.fire();
    await settle();
    expect(errors).toHaveLength(1);
    expect(clock.timers.size).toBe(1);
    tokens.close();
  });
});

describe("accounts", () => {
  it("keeps names unique per app key, case-insensitively, and keeps the chosen case", async () => {
    const db = new Database(":memory:");
    dbs.push(db);
    const accounts = storageOf(db).accounts;
    const alice = (await accounts.create("app", "Alice", "scrypt$hash", 1))!;
    expect(alice).toEqual({ id: expect.any(Number), appKey: "app", username: "Alice", passwordHash: "scrypt$hash", guest: false, createdAt: 1 });
    expect(await accounts.create("app", "ALICE", "scrypt$other", 2)).toBeUndefined();
    expect(await accounts.create("other-app", "alice", "scrypt$other", 2)).toMatchObject({ appKey: "other-app", username: "alice" });
    expect(await accounts.findByName("app", "aLiCe")).toEqual(alice);
    expect(await accounts.findById(alice.id)).toEqual(alice);
    expect(await accounts.findByName("app", "bob")).toBeUndefined();
    const guest = (await accounts.create("app", "guest-abcd1234", null, 3))!;
    expect(guest).toMatchObject({ guest: true, passwordHash: null });
    expect(guest.id).toBeGreaterThan(alice.id);
    await accounts.recordLogin(alice.id, 99);
    expect(db.prepare("SELECT last_login FROM accounts WHERE id = ?").get(alice.id)).toEqual({ last_login: 99 });
  });
});
