/**
 * World state against the real server over real WebSockets and HTTP (PROTOCOL.md §16.10): named
 * JSON documents per app key, read by everyone logged in, written only by the configured
 * writers with optimistic concurrency; subscriptions and their pushes; the limits; documents
 * surviving a restart on the same database file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MasterStatus } from "@gmnet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, configFromArgs, defaultConfig, validateConfig } from "../src/config.js";
import type { GmnetServer } from "../src/index.js";
import { FAST_HASHES, startServer } from "./support/harness.js";
import { type Json, MasterClient, MasterEvent, MasterOp, guests, uniqueAppKey } from "./support/master-client.js";

const MAX_DOCUMENTS = 4;
const MAX_VALUE_BYTES = 512;
const MAX_SUBSCRIPTIONS = 3;
const PASSWORD = "correct horse";

let counter = 0;
/** A user name no other test uses (3–24 characters). */
const uniqueUser = (prefix: string): string => `${prefix}${++counter}${Math.random().toString(36).slice(2, 7)}`;

/** App keys with a writer, made up front: the writers are configuration. */
const apps = Array.from({ length: 8 }, () => ({ appKey: uniqueAppKey("world"), writer: uniqueUser("gm") }));
let nextApp = 0;
const app = () => apps[nextApp++]!;

let server: GmnetServer;
beforeAll(async () => {
  server = await startServer({
    ...FAST_HASHES,
    worldWriters: apps.map(({ appKey, writer }) => `${appKey}=${writer.toUpperCase()}`),
    worldMaxDocuments: MAX_DOCUMENTS,
    worldValueMaxBytes: MAX_VALUE_BYTES,
    worldMaxSubscriptions: MAX_SUBSCRIPTIONS,
  });
});
afterAll(() => server.close());

/** A client of `appKey` logged in as a new registered account `username`. */
async function account(on: GmnetServer, appKey: string, username: string): Promise<MasterClient> {
  const client = await MasterClient.connect(on, { appKey });
  await client.must(MasterOp.REGISTER, { username, password: PASSWORD });
  const session = await client.must(MasterOp.LOGIN, { username, password: PASSWORD });
  Object.assign(client, { session, username, accountId: session.accountId });
  return client;
}

async function api(path: string, options: { appKey: string; token?: string; body?: unknown }): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { "x-gmnet-app-key": options.appKey };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(server.address().url + path, { method: body === undefined ? "GET" : "POST", headers, body });
  return { status: response.status, body: (await response.json()) as Json };
}

const doc = (name: string, version: number, value: Json, updatedBy: string) => ({ name, version, value, updatedAt: expect.any(Number), updatedBy });

describe("world state over the WebSocket", () => {
  it("creates with version 0, writes with the version read, refuses stale writes with the current version", async () => {
    const { appKey, writer } = app();
    const gm = await account(server, appKey, writer);
    const [reader] = await guests(server, appKey, 1);
    expect(await reader!.must(MasterOp.WORLD_LIST)).toEqual({ documents: [] });
    expect(await reader!.request(MasterOp.WORLD_GET, { name: "season" })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "world_document_not_found" } });

    const before = Date.now();
    const created = await gm.must(MasterOp.WORLD_SET, { name: "season", value: { number: 1, theme: "winter" }, expectedVersion: 0 });
    expect(created).toEqual(doc("season", 1, { number: 1, theme: "winter" }, writer));
    expect(created.updatedAt as number).toBeGreaterThanOrEqual(before - 1000);
    // Creating again is a conflict: it exists, at version 1.
    expect(await gm.request(MasterOp.WORLD_SET, { name: "season", value: { number: 9 }, expectedVersion: 0 })).toEqual({
      status: MasterStatus.FAILED,
      body: { error: "world_version_conflict", message: expect.any(String), name: "season", version: 1 },
    });
    expect(await gm.must(MasterOp.WORLD_SET, { name: "season", value: { number: 2 }, expectedVersion: 1 })).toEqual(doc("season", 2, { number: 2 }, writer));
    // A writer that read version 1 is now stale.
    expect(await gm.request(MasterOp.WORLD_SET, { name: "season", value: { number: 3 }, expectedVersion: 1 })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "world_version_conflict", version: 2 } });
    // Updating one that does not exist is a conflict at version 0.
    expect(await gm.request(MasterOp.WORLD_SET, { name: "nothing", value: {}, expectedVersion: 4 })).toMatchObject({ body: { error: "world_version_conflict", version: 0 } });

    expect(await reader!.must(MasterOp.WORLD_GET, { name: "season" })).toEqual(doc("season", 2, { number: 2 }, writer));
    await gm.must(MasterOp.WORLD_SET, { name: "shard:phoenix", value: { owner: "Crimson Covenant" }, expectedVersion: 0 });
    await gm.must(MasterOp.WORLD_SET, { name: "shard:abyss", value: { owner: null }, expectedVersion: 0 });
    const all = await reader!.must(MasterOp.WORLD_LIST);
    expect((all.documents as Json[]).map((document) => document.name)).toEqual(["season", "shard:abyss", "shard:phoenix"]);
    expect(await reader!.must(MasterOp.WORLD_LIST, { prefix: "shard:" })).toEqual({
      documents: [doc("shard:abyss", 1, { owner: null }, writer), doc("shard:phoenix", 1, { owner: "Crimson Covenant" }, writer)],
    });
    expect(await reader!.must(MasterOp.WORLD_LIST, { name: "season" })).toEqual({ documents: [doc("season", 2, { number: 2 }, writer)] });
    expect(await reader!.must(MasterOp.WORLD_LIST, { name: "Season" })).toEqual({ documents: [] });
    gm.close();
    reader!.close();
  });

  it("lets only the configured accounts of the app key write: not guests, not other accounts, not the writer elsewhere", async () => {
    const { appKey, writer } = app();
    const [guest] = await guests(server, appKey, 1);
    const other = await account(server, appKey, uniqueUser("player"));
    const elsewhere = await account(server, uniqueAppKey("world-elsewhere"), writer);
    for (const client of [guest!, other, elsewhere]) {
      expect(await client.request(MasterOp.WORLD_SET, { name: "flag", value: { up: true }, expectedVersion: 0 })).toMatchObject({
        status: MasterStatus.UNAUTHORIZED,
        body: { error: "not_world_writer" },
      });
    }
    // The check comes before the version: a stale write by a non-writer says "not allowed", not "conflict".
    expect(await other.request(MasterOp.WORLD_SET, { name: "flag", value: {}, expectedVersion: 7 })).toMatchObject({ body: { error: "not_world_writer" } });
    expect(await guest!.must(MasterOp.WORLD_LIST)).toEqual({ documents: [] });
    const anonymous = await MasterClient.connect(server, { appKey });
    for (const [op, body] of [[MasterOp.WORLD_LIST, {}], [MasterOp.WORLD_GET, { name: "flag" }], [MasterOp.WORLD_SUBSCRIBE, {}]] as const) {
      expect(await anonymous.request(op, body)).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_logged_in" } });
    }
    for (const client of [guest!, other, elsewhere, anonymous]) client.close();
  });

  it("pushes WORLD_UPDATE to subscribers of the document or of all, and stops after unsubscribing", async () => {
    const { appKey, writer } = app();
    const gm = await account(server, appKey, writer);
    const [everything, one, none] = await guests(server, appKey, 3);
    await gm.must(MasterOp.WORLD_SET, { name: "weather", value: { rain: false }, expectedVersion: 0 });

    // The answer holds the current documents the subscription covers: no write can fall between.
    expect(await everything!.must(MasterOp.WORLD_SUBSCRIBE)).toEqual({ all: true, names: [], documents: [doc("weather", 1, { rain: false }, writer)] });
    expect(await one!.must(MasterOp.WORLD_SUBSCRIBE, { names: ["shard:phoenix"] })).toEqual({ all: false, names: ["shard:phoenix"], documents: [] });

    const captured = await gm.must(MasterOp.WORLD_SET, { name: "shard:phoenix", value: { owner: "Crimson Covenant", capturedBy: "Hero" }, expectedVersion: 0 });
    expect(await one!.nextEvent(MasterEvent.WORLD_UPDATE)).toEqual(captured);
    expect(await everything!.nextEvent(MasterEvent.WORLD_UPDATE)).toEqual(captured);
    await gm.must(MasterOp.WORLD_SET, { name: "weather", value: { rain: true }, expectedVersion: 1 });
    expect(await everything!.nextEvent(MasterEvent.WORLD_UPDATE)).toMatchObject({ name: "weather", version: 2, value: { rain: true } });
    // A refused write tells nobody.
    await gm.request(MasterOp.WORLD_SET, { name: "weather", value: { rain: false }, expectedVersion: 1 });

    expect(await one!.must(MasterOp.WORLD_UNSUBSCRIBE, { names: ["shard:phoenix"] })).toEqual({ all: false, names: [] });
    expect(await everything!.must(MasterOp.WORLD_UNSUBSCRIBE)).toEqual({ all: false, names: [] });
    await gm.must(MasterOp.WORLD_SET, { name: "shard:phoenix", value: { owner: "Azure Order" }, expectedVersion: 1 });
    // The writer's own round trip, then a reader's: both subscribers would have had the push by now.
    await none!.must(MasterOp.WORLD_GET, { name: "shard:phoenix" });
    await one!.must(MasterOp.WORLD_LIST);
    await everything!.must(MasterOp.WORLD_LIST);
    for (const client of [everything, one, none]) expect(client!.received(MasterEvent.WORLD_UPDATE)).toEqual([]);

    // A subscription belongs to the login: logging out ends it.
    await one!.must(MasterOp.WORLD_SUBSCRIBE);
    await one!.must(MasterOp.LOGOUT);
    await one!.guest();
    await gm.must(MasterOp.WORLD_SET, { name: "weather", value: { rain: false }, expectedVersion: 2 });
    expect(await one!.must(MasterOp.WORLD_UNSUBSCRIBE, { names: ["weather"] })).toEqual({ all: false, names: [] });
    expect(one!.received(MasterEvent.WORLD_UPDATE)).toEqual([]);
    for (const client of [gm, everything, one, none]) client!.close();
  });

  it("enforces the limits on documents, value size and depth, names and subscriptions", async () => {
    const { appKey, writer } = app();
    const gm = await account(server, appKey, writer);
    const deep = (levels: number): Json => (levels <= 1 ? { leaf: 1 } : { next: deep(levels - 1) });
    const bad: Json[] = [
      { name: "x", value: {} },
      { name: "", value: {}, expectedVersion: 0 },
      { name: "x".repeat(65), value: {}, expectedVersion: 0 },
      { name: "with space", value: {}, expectedVersion: 0 },
      { name: "x", value: [1], expectedVersion: 0 },
      { name: "x", value: "text", expectedVersion: 0 },
      { name: "x", value: null, expectedVersion: 0 },
      { name: "x", value: { blob: "x".repeat(MAX_VALUE_BYTES) }, expectedVersion: 0 },
      { name: "x", value: deep(9), expectedVersion: 0 },
      { name: "x", value: {}, expectedVersion: -1 },
      { name: "x", value: {}, expectedVersion: 1.5 },
      { name: "x", value: {}, expectedVersion: 0, extra: 1 },
    ];
    for (const body of bad) {
      expect(await gm.request(MasterOp.WORLD_SET, body), JSON.stringify(body).slice(0, 80)).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    }
    const filler = "x".repeat(MAX_VALUE_BYTES - JSON.stringify({ blob: "" }).length);
    await gm.must(MasterOp.WORLD_SET, { name: "full", value: { blob: filler }, expectedVersion: 0 });
    await gm.must(MasterOp.WORLD_SET, { name: "deep", value: deep(8), expectedVersion: 0 });
    for (let i = 2; i < MAX_DOCUMENTS; i++) await gm.must(MasterOp.WORLD_SET, { name: `doc:${i}`, value: {}, expectedVersion: 0 });
    expect(await gm.request(MasterOp.WORLD_SET, { name: "one-too-many", value: {}, expectedVersion: 0 })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "too_many_world_documents" } });
    // Writing the existing ones goes on.
    await gm.must(MasterOp.WORLD_SET, { name: "full", value: {}, expectedVersion: 1 });

    const names = Array.from({ length: MAX_SUBSCRIPTIONS }, (_, i) => `n${i}`);
    await gm.must(MasterOp.WORLD_SUBSCRIBE, { names: names.slice(0, 2) });
    expect(await gm.request(MasterOp.WORLD_SUBSCRIBE, { names: names.slice(1) })).toEqual({ status: 1, body: { all: false, names, documents: [] } });
    expect(await gm.request(MasterOp.WORLD_SUBSCRIBE, { names: ["one-more"] })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "too_many_subscriptions" } });
    // All counts as one more.
    expect(await gm.request(MasterOp.WORLD_SUBSCRIBE)).toMatchObject({ body: { error: "too_many_subscriptions" } });
    await gm.must(MasterOp.WORLD_UNSUBSCRIBE, { names: ["n0"] });
    expect(await gm.must(MasterOp.WORLD_SUBSCRIBE)).toMatchObject({ all: true, names: ["n1", "n2"] });
    for (const body of [{ names: [] }, { names: ["bad name"] }, { names: "n1" }, { all: true }]) {
      expect(await gm.request(MasterOp.WORLD_SUBSCRIBE, body)).toMatchObject({ status: MasterStatus.INVALID });
    }
    for (const body of [{}, { name: "a b" }, { name: 1 }]) expect(await gm.request(MasterOp.WORLD_GET, body)).toMatchObject({ status: MasterStatus.INVALID });
    expect(await gm.request(MasterOp.WORLD_LIST, { prefix: "a b" })).toMatchObject({ status: MasterStatus.INVALID });
    gm.close();
  });
});

describe("world state over HTTP", () => {
  it("serves GET /api/world/state (all, ?name=, /{name}), GET /api/world/shards and POST /api/world/state", async () => {
    const { appKey, writer } = app();
    const gm = await account(server, appKey, writer);
    const [watcher] = await guests(server, appKey, 1);
    await watcher!.must(MasterOp.WORLD_SUBSCRIBE, { names: ["shard:phoenix"] });
    const token = gm.session.token as string;
    const guest = (await api("/api/auth/guest", { appKey, body: {} })).body.token as string;

    expect(await api("/api/world/state", { appKey, token: guest })).toEqual({ status: 200, body: { documents: [] } });
    const created = await api("/api/world/state", { appKey, token, body: { name: "shard:phoenix", value: { owner: "Crimson Covenant" }, expectedVersion: 0 } });
    expect(created).toEqual({ status: 200, body: doc("shard:phoenix", 1, { owner: "Crimson Covenant" }, writer) });
    // A write over HTTP pushes to the WebSocket subscribers too.
    expect(await watcher!.nextEvent(MasterEvent.WORLD_UPDATE)).toEqual(created.body);
    await api("/api/world/state", { appKey, token, body: { name: "reality", value: { stability: 87 }, expectedVersion: 0 } });

    expect(await api("/api/world/state", { appKey, token: guest })).toMatchObject({ status: 200, body: { documents: [{ name: "reality" }, { name: "shard:phoenix" }] } });
    expect(await api("/api/world/state?name=reality", { appKey, token: guest })).toEqual({ status: 200, body: { documents: [doc("reality", 1, { stability: 87 }, writer)] } });
    expect(await api("/api/world/state/reality", { appKey, token: guest })).toEqual({ status: 200, body: doc("reality", 1, { stability: 87 }, writer) });
    expect(await api("/api/world/state/shard%3Aphoenix", { appKey, token: guest })).toMatchObject({ status: 200, body: { name: "shard:phoenix" } });
    expect(await api("/api/world/state/nope", { appKey, token: guest })).toMatchObject({ status: 404, body: { error: "world_document_not_found" } });
    expect(await api("/api/world/shards", { appKey, token: guest })).toEqual({ status: 200, body: { documents: [created.body] } });
    // The shards route's prefix is its own: a query cannot widen it.
    expect(await api("/api/world/shards?prefix=r", { appKey, token: guest })).toEqual({ status: 200, body: { documents: [created.body] } });

    expect(await api("/api/world/state", { appKey, token, body: { name: "reality", value: { stability: 50 }, expectedVersion: 0 } })).toMatchObject({
      status: 409,
      body: { error: "world_version_conflict", version: 1 },
    });
    expect(await api("/api/world/state", { appKey, token: guest, body: { name: "reality", value: {}, expectedVersion: 1 } })).toMatchObject({ status: 401, body: { error: "not_world_writer" } });
    expect(await api("/api/world/state", { appKey })).toMatchObject({ status: 401, body: { error: "not_logged_in" } });
    expect(await api("/api/world/shards", { appKey })).toMatchObject({ status: 401, body: { error: "not_logged_in" } });
    gm.close();
    watcher!.close();
  });
});

describe("world state persistence", () => {
  it("keeps documents and versions across a restart on the same database file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gmnet-world-"));
    const db = join(dir, "world.sqlite");
    const appKey = uniqueAppKey("world-persist");
    const writer = uniqueUser("gm");
    const options = { ...FAST_HASHES, db, worldWriters: [`${appKey}=${writer}`] };
    try {
      const first = await startServer(options);
      const gm = await account(first, appKey, writer);
      await gm.must(MasterOp.WORLD_SET, { name: "shard:phoenix", value: { owner: "A" }, expectedVersion: 0 });
      await gm.must(MasterOp.WORLD_SET, { name: "shard:phoenix", value: { owner: "B" }, expectedVersion: 1 });
      gm.close();
      await first.close();

      const second = await startServer(options);
      try {
        const client = await MasterClient.connect(second, { appKey });
        await client.must(MasterOp.LOGIN, { username: writer, password: PASSWORD });
        expect(await client.must(MasterOp.WORLD_GET, { name: "shard:phoenix" })).toEqual(doc("shard:phoenix", 2, { owner: "B" }, writer));
        expect(await client.request(MasterOp.WORLD_SET, { name: "shard:phoenix", value: { owner: "C" }, expectedVersion: 1 })).toMatchObject({ body: { error: "world_version_conflict", version: 2 } });
        expect(await client.must(MasterOp.WORLD_SET, { name: "shard:phoenix", value: { owner: "C" }, expectedVersion: 2 })).toMatchObject({ version: 3 });
        client.close();
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("world limits in the configuration", () => {
  it("have defaults, are set by flag or environment (--world-writer repeatable), and are checked", () => {
    expect([defaultConfig.worldWriters, defaultConfig.worldMaxDocuments, defaultConfig.worldValueMaxBytes, defaultConfig.worldMaxSubscriptions]).toEqual([[], 32, 4096, 64]);
    const config = configFromArgs(["--world-writer", "game=admin", "--world-writer=game=Mod.2", "--world-max-documents", "8"], {
      GMNET_WORLD_WRITERS: "other=ignored",
      GMNET_WORLD_VALUE_MAX_BYTES: "1024",
      GMNET_WORLD_MAX_SUBSCRIPTIONS: "5",
    });
    expect([config.worldWriters, config.worldMaxDocuments, config.worldValueMaxBytes, config.worldMaxSubscriptions]).toEqual([["game=admin", "game=Mod.2"], 8, 1024, 5]);
    expect(configFromArgs([], { GMNET_WORLD_WRITERS: "a=admin, b=root" }).worldWriters).toEqual(["a=admin", "b=root"]);
    for (const entry of ["admin", "=admin", "game=", "game=ab", "game=bad name", "bad key=admin"]) {
      expect(() => configFromArgs(["--world-writer", entry], {}), entry).toThrow(ConfigError);
    }
    expect(() => validateConfig({ ...defaultConfig, worldMaxDocuments: 0 })).toThrow(ConfigError);
    expect(() => validateConfig({ ...defaultConfig, worldValueMaxBytes: 1 })).toThrow(ConfigError);
    expect(() => validateConfig({ ...defaultConfig, worldMaxSubscriptions: Number.NaN })).toThrow(ConfigError);
    // With writers listed a value must fit in a request body; every document of an app key fits the 16 MiB frame an engine takes.
    const writers = ["game=admin"];
    expect(() => validateConfig({ ...defaultConfig, worldWriters: writers, worldValueMaxBytes: defaultConfig.masterMaxBodyBytes })).toThrow(/masterMaxBodyBytes/);
    expect(() => validateConfig({ ...defaultConfig, worldValueMaxBytes: defaultConfig.masterMaxBodyBytes })).not.toThrow();
    expect(() => validateConfig({ ...defaultConfig, worldMaxDocuments: 5000 })).toThrow(/16777216 bytes an engine takes/);
    // A small frame limit for what clients send does not bound the world.
    expect(() => validateConfig({ ...defaultConfig, maxFrameSize: 1024, maxQueuedBytes: 1024 * 1024 })).not.toThrow();
  });
});
