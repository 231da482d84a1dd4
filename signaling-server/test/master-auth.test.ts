/**
 * Accounts and sessions over the WebSocket (PROTOCOL.md §16.3): register, login, logout, guests,
 * resume and refresh; a login moves the connection to the account's virtual IP; one connection
 * per account; lockouts; HELLO tokens. A real server, real WebSockets.
 */
import { randomBytes } from "node:crypto";
import { Channel, VSocketType, parseIpv4 } from "@gmnet/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { FAST_HASHES, startServer, withServer } from "./support/harness.js";
import { type Json, MasterClient, MasterEvent, MasterOp, freshSession, nextVirtualIp, uniqueAppKey } from "./support/master-client.js";

/** Response statuses as PROTOCOL.md §16.2 numbers them, written out here rather than taken from MasterStatus, so a renumbering shows. */
const SUCCESS = 1;
const UNAUTHORIZED = 4;
const INVALID = 5;
const FAILED = 6;
const UNKNOWN_OPERATION = 9;
const RATE_LIMITED = 10;
const PASSWORD = "correct horse";

let server: GmnetServer;
beforeAll(async () => {
  // Every test here connects from 127.0.0.1: a high per-address limit keeps their failures apart.
  server = await startServer({ ...FAST_HASHES, loginMaxFailuresPerAddress: 10_000 });
});
afterAll(() => server.close());

/** Clients the running test connected, closed after it (a test closes one itself where the close is part of what it checks). */
const connected: MasterClient[] = [];
afterEach(() => {
  for (const client of connected.splice(0)) client.close();
});

/** A client of `appKey` on `on` (the file's server unless given), closed after the test. */
async function connect(appKey: string, on: GmnetServer = server): Promise<MasterClient> {
  const client = await MasterClient.connect(on, { appKey });
  connected.push(client);
  return client;
}

/** A client of `appKey` on `on` whose HELLO carries `token`, closed after the test. */
async function connectWithToken(appKey: string, token: string, on: GmnetServer = server): Promise<MasterClient> {
  const client = await MasterClient.connectWithToken(on, appKey, token);
  connected.push(client);
  return client;
}

/** Whether a VIRTUAL_IP frame is waiting (already received, not taken). */
function hasVirtualIpWaiting(client: MasterClient): boolean {
  return client.client.frames.some((frame) => frame.channel === Channel.VSOCKET && frame.type === VSocketType.VIRTUAL_IP);
}

async function register(client: MasterClient, username: string, password = PASSWORD): Promise<Json> {
  return client.must(MasterOp.REGISTER, { username, password });
}

describe("register, login, logout", () => {
  it("moves the connection to the account's IP on login and back on logout; a second login gets the same IP", async () => {
    const appKey = uniqueAppKey("auth");
    const client = await connect(appKey);
    const deviceIp = client.client.welcome.virtualIp;

    const registered = await register(client, "Alice");
    expect(registered).toEqual({ accountId: expect.any(Number), username: "Alice" });
    expect(hasVirtualIpWaiting(client)).toBe(false); // REGISTER does not log in

    const login = await client.request(MasterOp.LOGIN, { username: "alice", password: PASSWORD });
    expect(login.status).toBe(SUCCESS);
    expect(login.body).toEqual(freshSession(registered.accountId, "Alice"));
    expect(login.body.expiresInMs).toBeGreaterThan(server.config.sessionTtlMs - 60_000);
    expect(login.body.expiresInMs).toBeLessThanOrEqual(server.config.sessionTtlMs);
    // VIRTUAL_IP came before the RESPONSE.
    expect(hasVirtualIpWaiting(client)).toBe(true);
    const accountIp = await nextVirtualIp(client);
    expect(accountIp).toBe(parseIpv4(login.body.ip as string));
    expect(accountIp).not.toBe(deviceIp);

    expect(await client.request(MasterOp.LOGOUT)).toEqual({ status: SUCCESS, body: {} });
    expect(hasVirtualIpWaiting(client)).toBe(true);
    expect(await nextVirtualIp(client)).toBe(deviceIp);
    // The token died with the logout.
    expect((await client.request(MasterOp.RESUME, { token: login.body.token as string })).body.error).toBe("token_invalid");
    expect((await client.request(MasterOp.LOGOUT)).body.error).toBe("not_logged_in");

    const again = await client.must(MasterOp.LOGIN, { username: "ALICE", password: PASSWORD });
    expect(again.ip).toBe(login.body.ip);
    expect(again.token).not.toBe(login.body.token);
    expect(await nextVirtualIp(client)).toBe(accountIp);
  });

  it("gives the same answer for an unknown user and a wrong password", async () => {
    const appKey = uniqueAppKey("auth");
    const client = await connect(appKey);
    await register(client, "bob");
    const wrongPassword = await client.request(MasterOp.LOGIN, { username: "bob", password: "not the password" });
    const unknownUser = await client.request(MasterOp.LOGIN, { username: "nobody", password: "not the password" });
    expect(wrongPassword).toEqual({ status: UNAUTHORIZED, body: { error: "wrong_credentials", message: expect.any(String) } });
    expect(unknownUser).toEqual(wrongPassword);
    expect(hasVirtualIpWaiting(client)).toBe(false);
  });

  it("keeps user names unique per app key, case-insensitively", async () => {
    const appKey = uniqueAppKey("auth");
    const client = await connect(appKey);
    await register(client, "Carol");
    for (const username of ["Carol", "carol", "CAROL"]) {
      const taken = await client.request(MasterOp.REGISTER, { username, password: "another password" });
      expect(taken).toEqual({ status: FAILED, body: { error: "username_taken", message: expect.any(String) } });
    }
    // The first password still holds.
    expect((await client.request(MasterOp.LOGIN, { username: "carol", password: "another password" })).body.error).toBe("wrong_credentials");
    // Another game has its own accounts: the same name is free there, and the password is its own.
    const other = await connect(uniqueAppKey("auth"));
    await register(other, "carol", "other game pw");
    expect((await other.request(MasterOp.LOGIN, { username: "carol", password: PASSWORD })).body.error).toBe("wrong_credentials");
  });

  it("answers every malformed body with INVALID naming the field, and an unknown opcode with UNKNOWN_OPERATION", async () => {
    const client = await connect(uniqueAppKey("auth"));
    const cases: Array<[number, Json | string, string]> = [
      [MasterOp.REGISTER, {}, "username"],
      [MasterOp.REGISTER, { username: "dave" }, "password"],
      [MasterOp.REGISTER, { username: "da", password: PASSWORD }, "username"],
      [MasterOp.REGISTER, { username: "d".repeat(25), password: PASSWORD }, "username"],
      [MasterOp.REGISTER, { username: "da ve", password: PASSWORD }, "username"],
      [MasterOp.REGISTER, { username: "dävé", password: PASSWORD }, "username"],
      [MasterOp.REGISTER, { username: "dave", password: "1234567" }, "password"],
      [MasterOp.REGISTER, { username: "dave", password: "x".repeat(129) }, "password"],
      [MasterOp.REGISTER, { username: 42, password: PASSWORD }, "username"],
      [MasterOp.REGISTER, { username: "dave", password: PASSWORD, admin: true }, "admin"],
      [MasterOp.LOGIN, { username: "dave", password: null }, "password"],
      [MasterOp.LOGIN_GUEST, { name: "me" }, "name"],
      [MasterOp.RESUME, {}, "token"],
      [MasterOp.RESUME, { token: 5 }, "token"],
      [MasterOp.REGISTER, "{not json", "JSON"],
      [MasterOp.REGISTER, "[]", "object"],
      [MasterOp.REGISTER, JSON.stringify({ username: "dave", password: "p".repeat(server.config.masterMaxBodyBytes) }), "limit"],
    ];
    for (const [op, body, field] of cases) {
      const reply = await client.request(op, body);
      expect(reply.status, JSON.stringify(body).slice(0, 80)).toBe(INVALID);
      expect(reply.body.error).toBe("invalid_body");
      expect(reply.body.message).toContain(field);
    }
    expect(await client.request(999)).toEqual({ status: UNKNOWN_OPERATION, body: { error: "unknown_operation", message: expect.any(String) } });
    // Nothing was created along the way.
    expect((await client.request(MasterOp.LOGIN, { username: "dave", password: PASSWORD })).body.error).toBe("wrong_credentials");
  });

  it("needs a login for LOGOUT and REFRESH", async () => {
    const client = await connect(uniqueAppKey("auth"));
    for (const op of [MasterOp.LOGOUT, MasterOp.REFRESH]) {
      expect(await client.request(op)).toEqual({ status: UNAUTHORIZED, body: { error: "not_logged_in", message: expect.any(String) } });
    }
  });
});

describe("guests", () => {
  it("get a guest-xxxxxxxx name, their own IP, and cannot log in by password", async () => {
    const appKey = uniqueAppKey("auth");
    const [a, b] = await Promise.all([connect(appKey), connect(appKey)]);
    const sessionA = await a.guest();
    const sessionB = await b.guest();
    expect(sessionA).toMatchObject({ guest: true, username: expect.stringMatching(/^guest-[a-z0-9]{8}$/), token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(sessionB.username).not.toBe(sessionA.username);
    expect(sessionB.accountId).not.toBe(sessionA.accountId);
    expect(sessionB.ip).not.toBe(sessionA.ip);
    expect(await nextVirtualIp(a)).toBe(parseIpv4(sessionA.ip as string));
    // No password opens a guest account; the answer is the same as for a wrong one.
    const attempt = await b.request(MasterOp.LOGIN, { username: sessionA.username as string, password: "any password" });
    expect(attempt).toEqual({ status: UNAUTHORIZED, body: { error: "wrong_credentials", message: expect.any(String) } });
    // A guest's name is taken like any other.
    expect((await b.request(MasterOp.REGISTER, { username: (sessionA.username as string).toUpperCase(), password: PASSWORD })).body.error).toBe("username_taken");
  });
});

describe("one connection per account", () => {
  it("a login on a second device ends the first one's login, which moves back to its own address", async () => {
    const appKey = uniqueAppKey("auth");
    const first = await connect(appKey);
    const second = await connect(appKey);
    await register(first, "erin");
    const one = await first.must(MasterOp.LOGIN, { username: "erin", password: PASSWORD });
    const accountIp = await nextVirtualIp(first);

    const two = await second.must(MasterOp.LOGIN, { username: "erin", password: PASSWORD });
    expect(two.ip).toBe(one.ip);
    expect(await nextVirtualIp(second)).toBe(accountIp);
    expect(await first.nextEvent(MasterEvent.SESSION)).toEqual({ state: "ended", reason: "replaced" });
    expect(await nextVirtualIp(first)).toBe(first.client.welcome.virtualIp);
    // The first connection stays open, logged out.
    expect((await first.request(MasterOp.LOGOUT)).body.error).toBe("not_logged_in");
    expect(first.client.closeCode).toBeUndefined();
  });
});

describe("refresh", () => {
  it("issues a new token and revokes the old one, keeping the connection where it is", async () => {
    const appKey = uniqueAppKey("auth");
    const client = await connect(appKey);
    const session = await client.guest();
    await nextVirtualIp(client);
    const refreshed = await client.must(MasterOp.REFRESH);
    expect(refreshed).toMatchObject({ accountId: session.accountId, username: session.username, guest: true, ip: session.ip });
    expect(refreshed.token).not.toBe(session.token);
    expect(hasVirtualIpWaiting(client)).toBe(false); // same account: no move

    const other = await connect(appKey);
    expect((await other.request(MasterOp.RESUME, { token: session.token as string })).body.error).toBe("token_invalid");
    // LOGOUT on the connection revokes the token it holds now: the refreshed one.
    await client.must(MasterOp.LOGOUT);
    expect((await other.request(MasterOp.RESUME, { token: refreshed.token as string })).body.error).toBe("token_invalid");
  });
});

describe("resume", () => {
  it("RESUME logs a connection in with a token and answers the same token", async () => {
    const appKey = uniqueAppKey("auth");
    const first = await connect(appKey);
    const session = await first.guest();
    first.close();
    const second = await connect(appKey);
    const resumed = await second.must(MasterOp.RESUME, { token: session.token as string });
    expect(resumed).toMatchObject({ accountId: session.accountId, username: session.username, guest: true, token: session.token, ip: session.ip });
    expect(await nextVirtualIp(second)).toBe(parseIpv4(session.ip as string));
  });

  it("a valid token in HELLO logs the new connection in: WELCOME, VIRTUAL_IP, then EVENT SESSION resumed", async () => {
    const appKey = uniqueAppKey("auth");
    const first = await connect(appKey);
    await register(first, "frank");
    const session = await first.must(MasterOp.LOGIN, { username: "frank", password: PASSWORD });
    await nextVirtualIp(first);

    const resumed = await connectWithToken(appKey, session.token as string);
    expect(resumed.client.welcome.virtualIp).not.toBe(parseIpv4(session.ip as string)); // WELCOME names the device's own address
    const event = await resumed.nextEvent(MasterEvent.SESSION);
    expect(hasVirtualIpWaiting(resumed)).toBe(true); // VIRTUAL_IP came first
    expect(await nextVirtualIp(resumed)).toBe(parseIpv4(session.ip as string));
    expect(event).toEqual({ state: "resumed", accountId: session.accountId, username: "frank", guest: false, token: session.token, expiresInMs: expect.any(Number), ip: session.ip, characterId: 0, character: "" });
    // The account moved: the first device's login ended.
    expect(await first.nextEvent(MasterEvent.SESSION)).toEqual({ state: "ended", reason: "replaced" });
    expect(await nextVirtualIp(first)).toBe(first.client.welcome.virtualIp);
    // The resumed connection is logged in.
    await resumed.must(MasterOp.LOGOUT);
    expect(await nextVirtualIp(resumed)).toBe(resumed.client.welcome.virtualIp);
  });

  it("a forged, malformed, revoked or foreign token in HELLO keeps the connection on its own address: EVENT SESSION rejected", async () => {
    const appKey = uniqueAppKey("auth");
    const owner = await connect(appKey);
    const revoked = (await owner.guest()).token as string;
    await owner.must(MasterOp.LOGOUT);
    const foreign = (await (await connect(uniqueAppKey("auth"))).guest()).token as string;

    for (const token of [randomBytes(32).toString("base64url"), "not-a-token", "x".repeat(256), revoked, foreign]) {
      const client = await connectWithToken(appKey, token);
      expect(await client.nextEvent(MasterEvent.SESSION)).toEqual({ state: "rejected", reason: "token_invalid" });
      expect(hasVirtualIpWaiting(client)).toBe(false);
      // Still open and usable.
      const guest = await client.guest();
      expect(await nextVirtualIp(client)).toBe(parseIpv4(guest.ip as string));
      expect(client.client.closeCode).toBeUndefined();
      client.close();
    }
  });
});

describe("expiry", () => {
  it("an expired token is refused by RESUME and in HELLO as token_expired", async () => {
    // Wall time stands still unless the test moves it.
    const start = Date.now();
    let offset = 0;
    const clock = { now: () => performance.now(), wallNow: () => start + offset, setTimeout, clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout) };
    await withServer({ clock, sessionTtlMs: 60_000 }, async (own) => {
      const appKey = uniqueAppKey("auth");
      const client = await connect(appKey, own);
      const session = await client.guest();
      expect(session.expiresInMs).toBe(60_000);
      offset = 59_000;
      const other = await connect(appKey, own);
      expect((await other.must(MasterOp.RESUME, { token: session.token as string })).expiresInMs).toBe(1000);
      offset = 60_000;
      expect(await other.request(MasterOp.RESUME, { token: session.token as string })).toEqual({ status: UNAUTHORIZED, body: { error: "token_expired", message: expect.any(String) } });
      const hello = await connectWithToken(appKey, session.token as string, own);
      expect(await hello.nextEvent(MasterEvent.SESSION)).toEqual({ state: "rejected", reason: "token_expired" });
    });
  });
});

describe("login lockout", () => {
  it("locks an account after loginMaxFailures failures, with retryAfterMs; another account is unaffected", async () => {
    await withServer({ loginMaxFailures: 3, loginMaxFailuresPerAddress: 100, loginWindowMs: 60_000 }, async (own) => {
      const client = await connect(uniqueAppKey("auth"), own);
      await register(client, "grace");
      await register(client, "heidi");
      for (let i = 0; i < 3; i++) expect((await client.request(MasterOp.LOGIN, { username: "grace", password: "wrong password" })).body.error).toBe("wrong_credentials");
      // Now even the right password is not checked.
      const locked = await client.request(MasterOp.LOGIN, { username: "GRACE", password: PASSWORD });
      expect(locked).toEqual({ status: RATE_LIMITED, body: { error: "locked", message: expect.any(String), retryAfterMs: expect.any(Number) } });
      expect(locked.body.retryAfterMs).toBeGreaterThan(0);
      expect(locked.body.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect(hasVirtualIpWaiting(client)).toBe(false);
      await client.must(MasterOp.LOGIN, { username: "heidi", password: PASSWORD });

      // A success clears the account's count.
      await register(client, "ivan");
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 2; i++) expect((await client.request(MasterOp.LOGIN, { username: "ivan", password: "wrong password" })).body.error).toBe("wrong_credentials");
        await client.must(MasterOp.LOGIN, { username: "ivan", password: PASSWORD });
      }
    });
  });

  it("locks a client address after loginMaxFailuresPerAddress failures, whichever names it tried", async () => {
    await withServer({ loginMaxFailures: 100, loginMaxFailuresPerAddress: 4 }, async (own) => {
      const appKey = uniqueAppKey("auth");
      const client = await connect(appKey, own);
      await register(client, "judy");
      for (let i = 0; i < 4; i++) expect((await client.request(MasterOp.LOGIN, { username: `nobody${i}`, password: "wrong password" })).body.error).toBe("wrong_credentials");
      const locked = await client.request(MasterOp.LOGIN, { username: "judy", password: PASSWORD });
      expect(locked.body).toMatchObject({ error: "locked", retryAfterMs: expect.any(Number) });
      // Another connection from the same address is locked too.
      const again = await connect(appKey, own);
      expect((await again.request(MasterOp.LOGIN, { username: "judy", password: PASSWORD })).body.error).toBe("locked");
    });
  });
});

describe("account creation per address", () => {
  it("answers rate_limited once an address has created accountCreationsPerAddress accounts, registered or guest; a taken name does not count", async () => {
    await withServer({ accountCreationsPerAddress: 3 }, async (own) => {
      const appKey = uniqueAppKey("auth");
      const client = await connect(appKey, own);
      await register(client, "kate");
      expect((await client.request(MasterOp.REGISTER, { username: "kate", password: PASSWORD })).body.error).toBe("username_taken");
      await client.must(MasterOp.LOGIN_GUEST, {});
      await register(client, "liam");
      const refused = await client.request(MasterOp.REGISTER, { username: "mona", password: PASSWORD });
      expect(refused.status).toBe(RATE_LIMITED);
      expect(refused.body).toMatchObject({ error: "rate_limited", retryAfterMs: expect.any(Number) });
      // Guests are accounts too, and another connection from the same address shares the quota.
      const again = await connect(appKey, own);
      expect((await again.request(MasterOp.LOGIN_GUEST, {})).body.error).toBe("rate_limited");
      // Logging in to an existing account is not a creation.
      await again.must(MasterOp.LOGIN, { username: "kate", password: PASSWORD });
    });
  });
});

describe("the password hasher's queue", () => {
  it("answers busy when more hashes wait than maxQueuedHashes", async () => {
    await withServer({ scryptCost: 16384, maxConcurrentHashes: 1, maxQueuedHashes: 0 }, async (own) => {
      const client = await connect(uniqueAppKey("auth"), own);
      const reqIds = Array.from({ length: 6 }, (_, i) => client.send(MasterOp.REGISTER, { username: `user${i}`, password: PASSWORD }));
      const replies = [];
      for (const reqId of reqIds) replies.push(await client.reply(reqId));
      const busy = replies.filter((reply) => reply.body.error === "busy");
      expect(busy.length).toBeGreaterThan(0);
      for (const reply of busy) expect(reply.status).toBe(RATE_LIMITED);
      expect(replies.some((reply) => reply.status === SUCCESS)).toBe(true);
    });
  });
});
