/**
 * The real server on PostgreSQL (`database`), against a private PostgreSQL started for this file
 * (support/private-postgres.ts), one fresh database per test: identities and virtual IPs across a
 * restart and across two servers at once, accounts, tokens, characters and world documents through
 * the WebSocket and REST, and a database outage at HELLO (close 4007, the server keeps serving,
 * clients get in again once the database is back).
 */
import { Channel, CloseCode, ControlType, Hello, MasterStatus, PROTOCOL_VERSION, VSocketType, VirtualIp } from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import type { GmnetServer, ServerOptions } from "../src/index.js";
import { FAST_HASHES, getJson, metric, startServer } from "./support/harness.js";
import { type Json, MasterClient, MasterEvent, MasterOp, uniqueAppKey } from "./support/master-client.js";
import { expectIdentitiesSurviveRestart } from "./support/identities-survive.js";
import { queryOnce } from "./support/private-postgres.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { usePrivatePostgres } from "./support/test-postgres.js";

const PASSWORD = "correct horse battery";

const postgres = usePrivatePostgres("gmnet_server");

/** A server on `database`; `db` points nowhere useful, so a fallback to SQLite could not pass unnoticed. */
function startOn(database: string, options: ServerOptions = {}): Promise<GmnetServer> {
  return startServer({ ...FAST_HASHES, database, db: "/nonexistent/never-opened.sqlite", ...options });
}

async function api(server: GmnetServer, path: string, appKey: string, options: { token?: string; body?: Json } = {}): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { "x-gmnet-app-key": appKey };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(server.address().url + path, { method: options.body === undefined ? "GET" : "POST", headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  return { status: response.status, body: (await response.json()) as Json };
}

describe("the server on PostgreSQL", () => {
  it("gives an identity the same virtual IP after a restart on the same database", async () => {
    const database = await postgres.freshDatabase();
    await expectIdentitiesSurviveRestart(() => startOn(database));
    // The rows are in PostgreSQL (the SQLite path given to the servers was never opened).
    expect(await queryOnce(database, "SELECT COUNT(*)::int AS n FROM identities")).toEqual([{ n: 3 }]);
  });

  it("two servers at once on one database: different clients get different IPs, the same secret the same IP on either", async () => {
    const database = await postgres.freshDatabase();
    // A small network, so concurrent allocations on the two servers often pick the same address.
    const options = { virtualNetwork: "10.42.0.0/26" };
    const [one, two] = await Promise.all([startOn(database, options), startOn(database, options)]);
    try {
      const clients = await Promise.all(Array.from({ length: 24 }, (_, i) => ProtocolClient.connect((i % 2 === 0 ? one : two).address().wsUrl, { appKey: "shared" })));
      const ips = clients.map((client) => client.welcome.virtualIp);
      expect(new Set(ips).size).toBe(clients.length);
      // Secrets first seen on one server, presented to the other.
      for (const [index, server] of [[0, two], [1, one]] as const) {
        const again = await ProtocolClient.connect(server.address().wsUrl, { appKey: "shared", secret: clients[index]!.secret });
        expect(again.welcome.virtualIp).toBe(ips[index]);
        again.close();
      }
      for (const client of clients) client.close();
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it("accounts, tokens, characters and world documents through the WebSocket and REST, across a restart", async () => {
    const database = await postgres.freshDatabase();
    const appKey = uniqueAppKey("pg");
    const options = { worldWriters: [`${appKey}=alice`] };
    const first = await startOn(database, options);
    let token: string;
    let accountIp: string;
    try {
      const client = await MasterClient.connect(first, { appKey });
      expect(await client.must(MasterOp.REGISTER, { username: "Alice", password: PASSWORD })).toEqual({ accountId: expect.any(Number), username: "Alice" });
      expect(await client.request(MasterOp.REGISTER, { username: "alice", password: PASSWORD })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "username_taken" } });
      const session = await client.must(MasterOp.LOGIN, { username: "alice", password: PASSWORD });
      token = session.token as string;
      accountIp = session.ip as string;
      const hero = await client.must(MasterOp.CHARACTER_CREATE, { name: "Hero", attributes: { level: 3 } });
      await client.must(MasterOp.CHARACTER_SELECT, { characterId: hero.characterId });
      expect(await client.must(MasterOp.WORLD_SET, { name: "config", value: { round: 1 }, expectedVersion: 0 })).toMatchObject({ name: "config", version: 1, updatedBy: "Alice" });
      expect(await client.request(MasterOp.WORLD_SET, { name: "config", value: { round: 2 }, expectedVersion: 0 })).toMatchObject({ body: { error: "world_version_conflict", version: 1 } });

      // REST with the same token.
      expect(await api(first, "/api/auth/session", appKey, { token })).toMatchObject({ status: 200, body: { username: "Alice", ip: accountIp, character: "Hero" } });
      expect(await api(first, "/api/characters", appKey, { token })).toMatchObject({ status: 200, body: { selectedId: hero.characterId, characters: [{ name: "Hero", attributes: { level: 3 } }] } });
      expect(await api(first, "/api/world/state", appKey, { token, body: { name: "config", value: { round: 2 }, expectedVersion: 1 } })).toMatchObject({ status: 200, body: { version: 2 } });
      expect(await api(first, "/api/auth/login", appKey, { body: { username: "ALICE", password: "wrong password" } })).toMatchObject({ status: 401 });
      client.close();
    } finally {
      await first.close();
    }

    const second = await startOn(database, options);
    try {
      // The token resumes the login from the HELLO on the new server: the account's address, its character.
      const resumed = await MasterClient.connectWithToken(second, appKey, token);
      expect((await resumed.client.nextMessage(Channel.VSOCKET, VSocketType.VIRTUAL_IP, VirtualIp)).ip).not.toBe(resumed.client.welcome.virtualIp);
      expect(await resumed.nextEvent(MasterEvent.SESSION)).toMatchObject({ state: "resumed", username: "Alice", ip: accountIp, character: "Hero" });
      expect(await resumed.must(MasterOp.WORLD_GET, { name: "config" })).toMatchObject({ version: 2, value: { round: 2 } });
      // A new login over REST, then REFRESH and LOGOUT revoke what they should.
      const login = await api(second, "/api/auth/login", appKey, { body: { username: "alice", password: PASSWORD } });
      expect(login).toMatchObject({ status: 200, body: { ip: accountIp } });
      const refreshed = await api(second, "/api/auth/refresh", appKey, { token: login.body.token as string, body: {} });
      expect(refreshed.status).toBe(200);
      expect(await api(second, "/api/auth/session", appKey, { token: login.body.token as string })).toMatchObject({ status: 401, body: { error: "token_invalid" } });
      expect(await api(second, "/api/auth/logout", appKey, { token: refreshed.body.token as string, body: {} })).toMatchObject({ status: 200 });
      expect(await api(second, "/api/auth/session", appKey, { token: refreshed.body.token as string })).toMatchObject({ status: 401 });
      resumed.close();
    } finally {
      await second.close();
    }
  });

  // Last: it takes the private PostgreSQL down for a while.
  it("PostgreSQL unavailable at HELLO: close 4007, the server keeps serving, and clients get in once it is back", async () => {
    const database = await postgres.freshDatabase();
    const server = await startOn(database);
    try {
      const url = server.address().wsUrl;
      const before = await ProtocolClient.connect(url, { appKey: "outage" });
      await postgres.server.halt();
      try {
        const refused = new ProtocolClient(url);
        await refused.opened();
        refused.send(Channel.CONTROL, ControlType.HELLO, Hello.encode({ version: PROTOCOL_VERSION, appKey: "outage", secret: refused.secret, token: "" }));
        expect(await refused.closed()).toBe(CloseCode.STORAGE_UNAVAILABLE);
        expect(refused.closeReason).toBe("storage unavailable");
        expect(await metric(server, "gmnet_storage_failures_total", { op: "hello" })).toBeGreaterThanOrEqual(1);
        expect(await metric(server, "gmnet_disconnects_total", { cause: "storage-unavailable" })).toBe(1);
        // Still serving: health, and a master request that needs the database answers `internal`.
        expect(await getJson(server, "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
        expect(await api(server, "/api/auth/guest", "outage", { body: {} })).toMatchObject({ status: 500, body: { error: "internal" } });
        // A client already in stays in.
        expect(before.closeCode).toBeUndefined();
      } finally {
        await postgres.server.start();
      }
      const after = await ProtocolClient.connect(url, { appKey: "outage", secret: before.secret });
      expect(after.welcome.virtualIp).toBe(before.welcome.virtualIp);
      const fresh = await ProtocolClient.connect(url, { appKey: "outage" });
      expect(fresh.welcome.virtualIp).not.toBe(before.welcome.virtualIp);
      for (const client of [after, fresh]) client.close();
    } finally {
      await server.close();
    }
  }, 60_000);
});
