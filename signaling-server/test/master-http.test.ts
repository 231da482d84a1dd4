/**
 * The master services over HTTP (PROTOCOL.md §16.8): routes, bearer tokens, app keys, status
 * mapping, bodies (invalid, too large), CORS, and how HTTP calls reach a live WebSocket login.
 */
import { request as httpRequest } from "node:http";
import { randomBytes } from "node:crypto";
import { Channel, VSocketType, VirtualIp, parseIpv4 } from "@gmnet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { FAST_HASHES, eventually, startServer, withServer } from "./support/harness.js";
import { type Json, MasterClient, MasterEvent, MasterOp, freshSession, uniqueAppKey } from "./support/master-client.js";

const PASSWORD = "correct horse";

let server: GmnetServer;
beforeAll(async () => {
  server = await startServer({ ...FAST_HASHES, loginMaxFailuresPerAddress: 10_000 });
});
afterAll(() => server.close());


interface ApiOptions {
  method?: string;
  body?: unknown;
  /** Sent as is (no JSON encoding). */
  raw?: string;
  token?: string;
  appKey?: string;
  headers?: Record<string, string>;
  target?: GmnetServer;
}

async function api(path: string, options: ApiOptions = {}): Promise<{ status: number; body: Json; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.appKey !== undefined) headers["x-gmnet-app-key"] = options.appKey;
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  const response = await fetch((options.target ?? server).address().url + path, { method: options.method ?? (body === undefined ? "GET" : "POST"), headers, body });
  const text = await response.text();
  return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Json), headers: response.headers };
}

async function registerAndLogin(appKey: string, username: string, target?: GmnetServer): Promise<Json> {
  expect((await api("/api/auth/register", { appKey, body: { username, password: PASSWORD }, ...(target ? { target } : {}) })).status).toBe(200);
  const login = await api("/api/auth/login", { appKey, body: { username, password: PASSWORD }, ...(target ? { target } : {}) });
  expect(login.status).toBe(200);
  return login.body;
}

describe("accounts over HTTP", () => {
  it("register, login, session, refresh, logout", async () => {
    const appKey = uniqueAppKey("http");
    const registered = await api("/api/auth/register", { appKey, body: { username: "Alice", password: PASSWORD } });
    expect(registered.status).toBe(200);
    expect(registered.body).toEqual({ accountId: expect.any(Number), username: "Alice" });
    expect(registered.headers.get("content-type")).toBe("application/json");
    expect(registered.headers.get("cache-control")).toBe("no-store");

    const login = await api("/api/auth/login", { appKey, body: { username: "alice", password: PASSWORD } });
    expect(login.status).toBe(200);
    expect(login.body).toEqual(freshSession(registered.body.accountId, "Alice"));
    const token = login.body.token as string;

    const session = await api("/api/auth/session", { appKey, token });
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ accountId: registered.body.accountId, username: "Alice", token, ip: login.body.ip });

    const refreshed = await api("/api/auth/refresh", { appKey, token, method: "POST" });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token).not.toBe(token);
    const stale = await api("/api/auth/session", { appKey, token });
    expect(stale.status).toBe(401);
    expect(stale.body).toEqual({ error: "token_invalid", message: expect.any(String) });
    expect(stale.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');

    const newToken = refreshed.body.token as string;
    expect((await api("/api/auth/logout", { appKey, token: newToken, method: "POST" })).status).toBe(200);
    expect((await api("/api/auth/session", { appKey, token: newToken })).body.error).toBe("token_invalid");
    expect((await api("/api/auth/logout", { appKey, token: newToken, method: "POST" })).body.error).toBe("token_invalid");
    // Logging in again works.
    expect((await api("/api/auth/login", { appKey, body: { username: "ALICE", password: PASSWORD } })).status).toBe(200);
  });

  it("maps statuses: wrong credentials 401, taken 409, invalid 400, needs login 401, needs a connection 409", async () => {
    const appKey = uniqueAppKey("http");
    const { token } = await registerAndLogin(appKey, "bob");
    const wrong = await api("/api/auth/login", { appKey, body: { username: "bob", password: "wrong password" } });
    const unknown = await api("/api/auth/login", { appKey, body: { username: "nobody", password: "wrong password" } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: "wrong_credentials", message: expect.any(String) });
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.headers.get("www-authenticate")).toBe("Bearer");

    const taken = await api("/api/auth/register", { appKey, body: { username: "BOB", password: PASSWORD } });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toBe("username_taken");

    const invalid = await api("/api/auth/register", { appKey, body: { username: "b", password: PASSWORD } });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ error: "invalid_body", message: expect.stringContaining("username") });

    expect(await api("/api/auth/logout", { appKey, method: "POST" })).toMatchObject({ status: 401, body: { error: "not_logged_in" } });
    expect(await api("/api/auth/session", { appKey })).toMatchObject({ status: 401, body: { error: "not_logged_in" } });
    // The token travels in the header only, never in a URL.
    expect(await api(`/api/auth/session?token=${token as string}`, { appKey })).toMatchObject({ status: 400, body: { error: "invalid_body", message: expect.stringContaining("token") } });
    expect(await api("/api/rooms/leave", { appKey, method: "POST", token: token as string })).toMatchObject({ status: 409, body: { error: "needs_connection" } });
  });

  it("guests log in over HTTP too, and never by password", async () => {
    const appKey = uniqueAppKey("http");
    const guest = await api("/api/auth/guest", { appKey, method: "POST" });
    expect(guest.status).toBe(200);
    expect(guest.body).toMatchObject({ guest: true, username: expect.stringMatching(/^guest-[a-z0-9]{8}$/) });
    expect((await api("/api/auth/login", { appKey, body: { username: guest.body.username, password: "any password" } })).body.error).toBe("wrong_credentials");
    expect((await api("/api/auth/session", { appKey, token: guest.body.token as string })).body).toMatchObject({ guest: true, accountId: guest.body.accountId });
  });

  it("refuses forged, malformed and foreign tokens as token_invalid, and a wrong scheme", async () => {
    const appKey = uniqueAppKey("http");
    const { token } = await registerAndLogin(appKey, "carol");
    for (const forged of [randomBytes(32).toString("base64url"), "abc", `${token as string}x`]) {
      expect(await api("/api/auth/session", { appKey, token: forged })).toMatchObject({ status: 401, body: { error: "token_invalid" } });
    }
    // The token belongs to its app key.
    expect(await api("/api/auth/session", { appKey: uniqueAppKey("http"), token: token as string })).toMatchObject({ status: 401, body: { error: "token_invalid" } });
    expect(await api("/api/auth/session", { appKey, headers: { authorization: `Basic ${token as string}` } })).toMatchObject({ status: 401, body: { error: "token_invalid" } });
    expect(await api("/api/auth/logout", { appKey, method: "POST", headers: { authorization: "Bearer" } })).toMatchObject({ status: 401, body: { error: "token_invalid" } });
    // The scheme is case-insensitive.
    expect((await api("/api/auth/session", { appKey, headers: { authorization: `bearer ${token as string}` } })).status).toBe(200);
  });

  it("takes the app key from X-Gmnet-App-Key, default gmnet, and refuses a malformed one", async () => {
    const username = `dflt${randomBytes(4).toString("hex")}`;
    expect((await api("/api/auth/register", { body: { username, password: PASSWORD } })).status).toBe(200);
    expect((await api("/api/auth/login", { appKey: "gmnet", body: { username, password: PASSWORD } })).status).toBe(200);
    expect((await api("/api/auth/login", { appKey: uniqueAppKey("http"), body: { username, password: PASSWORD } })).body.error).toBe("wrong_credentials");
    for (const appKey of ["", "bad key", "x".repeat(65), "what?", "a/b"]) {
      const reply = await api("/api/auth/login", { headers: { "x-gmnet-app-key": appKey }, body: { username, password: PASSWORD } });
      expect(reply.status, appKey).toBe(400);
      expect(reply.body).toMatchObject({ error: "invalid_body", message: expect.stringContaining("X-Gmnet-App-Key") });
    }
  });

  it("an expired token is token_expired", async () => {
    const start = Date.now();
    let offset = 0;
    const clock = { now: () => performance.now(), wallNow: () => start + offset, setTimeout, clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout) };
    await withServer({ clock, sessionTtlMs: 10_000 }, async (own) => {
      const guest = await api("/api/auth/guest", { method: "POST", target: own });
      expect(guest.body.expiresInMs).toBe(10_000);
      offset = 10_000;
      const expired = await api("/api/auth/session", { token: guest.body.token as string, target: own });
      expect(expired).toMatchObject({ status: 401, body: { error: "token_expired" } });
      expect(await api("/api/auth/refresh", { method: "POST", token: guest.body.token as string, target: own })).toMatchObject({ status: 401, body: { error: "token_expired" } });
    });
  });

  it("the sweeper deletes expired tokens: they then read as never issued", async () => {
    const start = Date.now();
    let offset = 0;
    const clock = { now: () => performance.now(), wallNow: () => start + offset, setTimeout, clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout) };
    await withServer({ clock, sessionTtlMs: 10_000, sessionSweepIntervalMs: 5 }, async (own) => {
      const guest = await api("/api/auth/guest", { method: "POST", target: own });
      offset = 10_000;
      // Expired until the next sweep removes the row; then it is a token the server never issued.
      await eventually(
        async () => (await api("/api/auth/session", { token: guest.body.token as string, target: own })).body.error === "token_invalid",
        () => new Promise((resolve) => setTimeout(resolve, 5)),
      );
    });
  });

  it("locks logins with 429, retryAfterMs and Retry-After; X-Forwarded-For names the address only with trustProxy", async () => {
    await withServer({ loginMaxFailures: 100, loginMaxFailuresPerAddress: 2, trustProxy: true }, async (own) => {
      const attempt = (forwardedFor: string) =>
        api("/api/auth/login", { target: own, headers: { "x-forwarded-for": forwardedFor }, body: { username: "nobody", password: "wrong password" } });
      expect((await attempt("203.0.113.1")).status).toBe(401);
      expect((await attempt("203.0.113.1, 10.0.0.1")).status).toBe(401);
      const locked = await attempt("203.0.113.1");
      expect(locked.status).toBe(429);
      expect(locked.body).toMatchObject({ error: "locked", retryAfterMs: expect.any(Number) });
      expect(Number(locked.headers.get("retry-after"))).toBe(Math.ceil((locked.body.retryAfterMs as number) / 1000));
      // Another client behind the same proxy is not locked.
      expect((await attempt("203.0.113.2")).status).toBe(401);
    });
    await withServer({ loginMaxFailures: 100, loginMaxFailuresPerAddress: 2, trustProxy: false }, async (own) => {
      const attempt = (forwardedFor: string) =>
        api("/api/auth/login", { target: own, headers: { "x-forwarded-for": forwardedFor }, body: { username: "nobody", password: "wrong password" } });
      await attempt("203.0.113.1");
      await attempt("203.0.113.2");
      // Without trustProxy the header is ignored: both came from 127.0.0.1.
      expect((await attempt("203.0.113.3")).status).toBe(429);
    });
  });
});

describe("routes and bodies", () => {
  it("answers an unknown route 404 unknown_operation, a wrong method 405 with Allow, and leaves other paths alone", async () => {
    const unknown = await api("/api/nothing");
    expect(unknown).toMatchObject({ status: 404, body: { error: "unknown_operation" } });
    expect((await api("/api/auth/login/extra", { method: "POST" })).status).toBe(404);
    const wrongMethod = await api("/api/auth/login");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error).toBe("unknown_operation");
    expect(wrongMethod.headers.get("allow")).toBe("POST, OPTIONS");
    // /api/rooms/leave is its own route (POST), not ROOM_GET of a room called "leave".
    expect((await api("/api/rooms/leave")).headers.get("allow")).toBe("POST, OPTIONS");
    expect((await api("/api/auth/session", { method: "DELETE" })).headers.get("allow")).toBe("GET, OPTIONS");
    const outside = await fetch(server.address().url + "/apix");
    expect(outside.status).toBe(404);
    expect(outside.headers.get("content-type")).toBe("text/plain");
    // A trailing slash is the same route.
    expect((await api("/api/auth/guest/", { method: "POST" })).status).toBe(200);
  });

  it("refuses bodies that are not JSON objects of the right shape with 400 invalid_body", async () => {
    const appKey = uniqueAppKey("http");
    const cases: Array<[string, string]> = [
      ["{not json", "JSON"],
      ["[1, 2]", "object"],
      ['"text"', "object"],
      ['{"username": "dave", "password": "correct horse", "role": "admin"}', "role"],
      ['{"username": "dave"}', "password"],
      ['{"username": 12, "password": "correct horse"}', "username"],
    ];
    for (const [raw, field] of cases) {
      const reply = await api("/api/auth/register", { appKey, method: "POST", raw, headers: { "content-type": "application/json" } });
      expect(reply.status, raw).toBe(400);
      expect(reply.body).toMatchObject({ error: "invalid_body", message: expect.stringContaining(field) });
    }
    // Bytes that are not UTF-8.
    const response = await fetch(server.address().url + "/api/auth/register", { method: "POST", body: new Uint8Array([0x7b, 0xff, 0x7d]) });
    expect(response.status).toBe(400);
    // An empty body is {}.
    expect((await api("/api/auth/guest", { method: "POST", raw: "" })).status).toBe(200);
  });

  it("answers a body over masterMaxBodyBytes with 413, and the connection stays usable", async () => {
    const big = JSON.stringify({ username: "dave", password: "p".repeat(server.config.masterMaxBodyBytes) });
    const tooLarge = await api("/api/auth/register", { raw: big, method: "POST" });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ error: "invalid_body" });

    // Without a Content-Length (chunked), the limit applies while reading.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(server.address().url + "/api/auth/register", { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      for (let i = 0; i < 20; i++) req.write("x".repeat(1024));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ error: "invalid_body" });

    // A huge declared body is refused without reading it all: the server cuts the upload short.
    const huge = await new Promise<number | string>((resolve) => {
      const req = httpRequest(server.address().url + "/api/auth/register", { method: "POST", headers: { "content-length": String(1 << 30) } }, (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
      });
      req.on("error", (error) => resolve((error as NodeJS.ErrnoException).code ?? "error"));
      const chunk = Buffer.alloc(64 * 1024);
      const pump = (): void => {
        while (req.write(chunk));
        req.once("drain", pump);
      };
      pump();
    });
    expect([413, "ECONNRESET", "EPIPE"]).toContain(huge);
    // The server is fine.
    expect((await api("/api/auth/guest", { method: "POST" })).status).toBe(200);
  });

  it("turns query strings and path parameters into typed body fields", async () => {
    const appKey = uniqueAppKey("http");
    const list = await api("/api/rooms?notFull=true&noPassword=false&offset=0&limit=5&name=", { appKey });
    expect(list).toMatchObject({ status: 200, body: { total: 0, offset: 0, rooms: [] } });
    expect(await api("/api/rooms?limit=abc", { appKey })).toMatchObject({ status: 400, body: { error: "invalid_body", message: expect.stringContaining("limit") } });
    expect(await api("/api/rooms?limit=500", { appKey })).toMatchObject({ status: 400, body: { message: expect.stringContaining("limit") } });
    expect(await api("/api/rooms?notFull=yes", { appKey })).toMatchObject({ status: 400, body: { message: expect.stringContaining("notFull") } });
    expect(await api("/api/rooms?properties=x", { appKey })).toMatchObject({ status: 400, body: { message: expect.stringContaining("properties") } });
    expect(await api("/api/rooms?colour=red", { appKey })).toMatchObject({ status: 400, body: { message: expect.stringContaining("colour") } });
    expect(await api("/api/rooms?__proto__=1", { appKey })).toMatchObject({ status: 400, body: { error: "invalid_body" } });
    expect(await api("/api/rooms/12345", { appKey })).toMatchObject({ status: 404, body: { error: "room_not_found" } });
    expect(await api("/api/rooms/abc", { appKey })).toMatchObject({ status: 400, body: { message: expect.stringContaining("roomId") } });
    expect(await api("/api/presence?username=a&limit=3", { appKey })).toMatchObject({ status: 200, body: { total: 0, offset: 0, users: [] } });
    // A path parameter goes into a POST body too (the join needs a login first).
    expect(await api("/api/rooms/12345/join", { appKey, body: {} })).toMatchObject({ status: 401, body: { error: "not_logged_in" } });
    expect(await api("/api/rooms/12345/join", { appKey, raw: "[]" })).toMatchObject({ status: 400, body: { error: "invalid_body" } });
  });
});

describe("CORS", () => {
  it("allows any origin by default", async () => {
    const reply = await api("/api/rooms", { headers: { origin: "https://game.example" } });
    expect(reply.headers.get("access-control-allow-origin")).toBe("*");
    const preflight = await fetch(server.address().url + "/api/auth/login", {
      method: "OPTIONS",
      headers: { origin: "https://game.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toBe("POST, OPTIONS");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("authorization, content-type, x-gmnet-app-key");
    expect(Number(preflight.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    // Errors carry the headers too, or a browser could not read them.
    expect((await api("/api/nothing", { headers: { origin: "https://game.example" } })).headers.get("access-control-allow-origin")).toBe("*");
  });

  it("echoes only listed origins, with Vary: Origin", async () => {
    await withServer({ corsOrigins: ["https://game.example", "http://localhost:5173"] }, async (own) => {
      const allowed = await api("/api/rooms", { target: own, headers: { origin: "http://localhost:5173" } });
      expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
      expect(allowed.headers.get("vary")).toBe("Origin");
      const refused = await api("/api/rooms", { target: own, headers: { origin: "https://evil.example" } });
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
      expect(refused.headers.get("vary")).toBe("Origin");
      const preflight = await fetch(own.address().url + "/api/rooms/7/join", { method: "OPTIONS", headers: { origin: "https://game.example", "access-control-request-method": "POST" } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("https://game.example");
      const refusedPreflight = await fetch(own.address().url + "/api/rooms", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
      expect(refusedPreflight.headers.get("access-control-allow-origin")).toBeNull();
    });
  });
});

describe("HTTP and a live WebSocket login", () => {
  it("HTTP LOGOUT with the token a connection holds logs that connection out: EVENT SESSION ended, back to its own address", async () => {
    const appKey = uniqueAppKey("http");
    const client = await MasterClient.connect(server, { appKey });
    const session = await client.guest();
    const accountIp = (await client.client.nextMessage(Channel.VSOCKET, VSocketType.VIRTUAL_IP, VirtualIp)).ip;
    expect(accountIp).toBe(parseIpv4(session.ip as string));

    // Another token of the same account (logged in over HTTP) does not touch the connection.
    await api("/api/auth/register", { appKey, body: { username: "erin", password: PASSWORD } });
    const erin = await MasterClient.connect(server, { appKey });
    const erinWs = await erin.must(MasterOp.LOGIN, { username: "erin", password: PASSWORD });
    const erinHttp = await api("/api/auth/login", { appKey, body: { username: "erin", password: PASSWORD } });
    expect((await api("/api/auth/logout", { appKey, method: "POST", token: erinHttp.body.token as string })).status).toBe(200);
    expect((await erin.request(MasterOp.REFRESH)).status).toBe(1); // still logged in
    expect(erinWs.ip).toBe(erinHttp.body.ip);

    expect((await api("/api/auth/logout", { appKey, method: "POST", token: session.token as string })).status).toBe(200);
    expect(await client.nextEvent(MasterEvent.SESSION)).toEqual({ state: "ended", reason: "logout" });
    expect((await client.client.nextMessage(Channel.VSOCKET, VSocketType.VIRTUAL_IP, VirtualIp)).ip).toBe(client.client.welcome.virtualIp);
    expect((await client.request(MasterOp.LOGOUT)).body.error).toBe("not_logged_in");
    client.close();
    erin.close();
  });

  it("operations that need a connection act for the connection holding the token", async () => {
    const appKey = uniqueAppKey("http");
    const client = await MasterClient.connect(server, { appKey });
    const session = await client.guest();
    const created = await api("/api/rooms", { appKey, token: session.token as string, body: { name: "Lobby", maxPlayers: 4, port: 7000 } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: "Lobby", ip: session.ip, port: 7000, host: session.username });
    expect((await api(`/api/rooms/${created.body.roomId as number}`, { appKey })).body).toMatchObject({ roomId: created.body.roomId, players: 1 });
    // After a refresh over the WebSocket, the old token no longer reaches the connection.
    const refreshed = await client.must(MasterOp.REFRESH);
    expect(await api("/api/rooms/leave", { appKey, method: "POST", token: session.token as string })).toMatchObject({ status: 401, body: { error: "token_invalid" } });
    expect(await api("/api/rooms/leave", { appKey, method: "POST", token: refreshed.token as string })).toMatchObject({ status: 200, body: {} });
    client.close();
  });
});
