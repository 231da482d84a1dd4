/**
 * The SQLite storage: the conformance suite on a temp file and on :memory:, the adoption of files
 * written before versioned migrations, and two storages on one file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { parseVirtualNetwork } from "../../src/services/virtual-network.js";
import { LATEST_VERSION, MIGRATIONS } from "../../src/storage/migrations.js";
import { openSqliteDatabase, openSqliteStorage, sqliteStorageOf } from "../../src/storage/sqlite-storage.js";
import { seededRandom, storageConformance } from "./storage-conformance.js";

const dir = mkdtempSync(join(tmpdir(), "gmnet-sqlite-storage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const network = parseVirtualNetwork("10.0.0.0/8");

storageConformance("SQLite file", async () => {
  const path = join(dir, `conformance-${++files}.sqlite`);
  return { open: (options) => openSqliteStorage({ path, ...options }), reopenable: true };
});

storageConformance("SQLite :memory:", async () => ({ open: (options) => openSqliteStorage({ path: ":memory:", ...options }), reopenable: false }));

/** The CREATE statements of the stores before migrations existed, verbatim (identity-store.ts, account-store.ts, token-store.ts, character-store.ts, world-store.ts). */
const LEGACY_SCHEMA = {
  identities: `
    CREATE TABLE IF NOT EXISTS identities (
      id          INTEGER PRIMARY KEY,
      app_key     TEXT    NOT NULL,
      secret_hash TEXT    NOT NULL,
      virtual_ip  INTEGER NOT NULL UNIQUE,
      created_at  INTEGER NOT NULL,
      last_seen   INTEGER NOT NULL,
      UNIQUE (app_key, secret_hash)
    )`,
  accounts: `
      CREATE TABLE IF NOT EXISTS accounts (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        app_key        TEXT    NOT NULL,
        username       TEXT    NOT NULL,
        username_lower TEXT    NOT NULL,
        password_hash  TEXT,
        guest          INTEGER NOT NULL DEFAULT 0,
        created_at     INTEGER NOT NULL,
        last_login     INTEGER,
        UNIQUE (app_key, username_lower)
      )`,
  sessions: `
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
    `,
  characters: `
      CREATE TABLE IF NOT EXISTS characters (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id  INTEGER NOT NULL,
        app_key     TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        name_lower  TEXT    NOT NULL,
        attributes  TEXT    NOT NULL,
        selected    INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL,
        UNIQUE (app_key, name_lower)
      );
      CREATE INDEX IF NOT EXISTS characters_account ON characters (account_id);
      CREATE UNIQUE INDEX IF NOT EXISTS characters_selected ON characters (account_id) WHERE selected = 1;
    `,
  world: `
      CREATE TABLE IF NOT EXISTS world_documents (
        app_key     TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        value       TEXT    NOT NULL,
        version     INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        updated_by  TEXT    NOT NULL,
        PRIMARY KEY (app_key, name)
      ) WITHOUT ROWID;
    `,
};

const schemaOf = (db: Database.Database): unknown[] => db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name").all();

describe("SQLite migrations", () => {
  it("adopt a file written by the stores before migrations: every row kept, versions 1–4 recorded, nothing changed", async () => {
    const path = join(dir, "legacy.sqlite");
    const legacy = new Database(path);
    for (const sql of Object.values(LEGACY_SCHEMA)) legacy.exec(sql);
    legacy.prepare("INSERT INTO identities (app_key, secret_hash, virtual_ip, created_at, last_seen) VALUES (?, ?, ?, ?, ?)").run("app", "a".repeat(64), 167772161, 1, 1);
    legacy.prepare("INSERT INTO accounts (app_key, username, username_lower, password_hash, guest, created_at) VALUES (?, ?, ?, ?, ?, ?)").run("app", "Alice", "alice", "hash", 0, 2);
    legacy.prepare("INSERT INTO sessions (token_hash, account_id, app_key, created_at, expires_at) VALUES (?, ?, ?, ?, ?)").run("t".repeat(64), 1, "app", 3, 9e12);
    legacy.prepare("INSERT INTO characters (account_id, app_key, name, name_lower, attributes, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(1, "app", "Hero", "hero", '{"a":1}', 4);
    legacy.prepare("INSERT INTO world_documents (app_key, name, value, version, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)").run("app", "config", '{"x":1}', 3, 5, "Alice");
    const before = schemaOf(legacy);
    legacy.close();

    const storage = await openSqliteStorage({ path, network, random: Math.random });
    try {
      expect(await storage.schemaVersion()).toBe(LATEST_VERSION);
      expect(await storage.accounts.findByName("app", "alice")).toMatchObject({ id: 1, username: "Alice", passwordHash: "hash", createdAt: 2 });
      expect(await storage.characters.list(1)).toEqual([{ id: 1, accountId: 1, name: "Hero", attributes: { a: 1 }, selected: false, createdAt: 4 }]);
      expect(await storage.world.get("app", "config")).toEqual({ name: "config", value: { x: 1 }, version: 3, updatedAt: 5, updatedBy: "Alice" });
      // The account's identity did not exist; a new one must not take the legacy identity's address.
      expect((await storage.identities.accountIdentity("app", 1)).virtualIp).not.toBe(167772161);
    } finally {
      await storage.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare("SELECT version, name FROM schema_migrations ORDER BY version").all()).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
      expect(db.prepare("SELECT COUNT(*) AS n FROM identities").get()).toEqual({ n: 2 });
      expect(db.prepare("SELECT COUNT(*) AS n FROM sessions").get()).toEqual({ n: 1 });
      expect(schemaOf(db)).toEqual(before);
    } finally {
      db.close();
    }
  });

  it("adopt a file of the first release (identities only), adding the later tables", async () => {
    const path = join(dir, "identities-only.sqlite");
    const legacy = new Database(path);
    legacy.exec(LEGACY_SCHEMA.identities);
    legacy.prepare("INSERT INTO identities (app_key, secret_hash, virtual_ip, created_at, last_seen) VALUES (?, ?, ?, ?, ?)").run("app", "b".repeat(64), 167772170, 1, 1);
    legacy.close();
    const db = openSqliteDatabase(path);
    try {
      expect(db.prepare("SELECT virtual_ip FROM identities").all()).toEqual([{ virtual_ip: 167772170 }]);
      expect(db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()).toEqual({ v: LATEST_VERSION });
      expect(await sqliteStorageOf(db, { network, random: Math.random }).accounts.create("app", "bob", null, 1)).toMatchObject({ id: 1, guest: true });
    } finally {
      db.close();
    }
  });

  it("are applied once: a second open records nothing new", async () => {
    const path = join(dir, "twice.sqlite");
    await (await openSqliteStorage({ path, network, random: Math.random })).close();
    const first = new Database(path, { readonly: true });
    const recorded = first.prepare("SELECT * FROM schema_migrations ORDER BY version").all();
    first.close();
    await (await openSqliteStorage({ path, network, random: Math.random })).close();
    const second = new Database(path, { readonly: true });
    expect(second.prepare("SELECT * FROM schema_migrations ORDER BY version").all()).toEqual(recorded);
    second.close();
  });
});

describe("a file a newer gmnet-server migrated", () => {
  it("is refused with E_SCHEMA_TOO_NEW, naming both versions, and left as it was", async () => {
    const path = join(dir, "newer.sqlite");
    await (await openSqliteStorage({ path, network, random: Math.random })).close();
    const newer = new Database(path);
    // What a later release would have recorded: one version past the last this code knows.
    newer.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(MIGRATIONS.length + 1, "from-the-future", 1);
    newer.close();
    await expect(openSqliteStorage({ path, network, random: Math.random })).rejects.toMatchObject({
      code: "E_SCHEMA_TOO_NEW",
      databaseVersion: MIGRATIONS.length + 1,
      message: expect.stringContaining(`version ${MIGRATIONS.length + 1}, newer than the ${MIGRATIONS.length}`),
    });
    const after = new Database(path, { readonly: true });
    expect(after.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()).toEqual({ v: MIGRATIONS.length + 1 });
    after.close();
  });
});

describe("SQLite storage over an open database", () => {
  it("shares it with another storage over the same database, and leaves it open on close", async () => {
    const db = openSqliteDatabase(":memory:");
    const storage = sqliteStorageOf(db, { network, random: Math.random });
    const other = sqliteStorageOf(db, { network, random: Math.random });
    try {
      const identity = await storage.identities.identify("app", "shared");
      expect(await other.identities.identify("app", "shared")).toEqual(identity);
      const account = await other.accounts.create("app", "carol", "h", 1);
      expect(await storage.accounts.findById(account!.id)).toEqual(account);
      await storage.close(); // not its database: stays open
      expect(db.open).toBe(true);
    } finally {
      db.close();
    }
  });

  it("two storages on one file allocate unique addresses", async () => {
    const path = join(dir, "two.sqlite");
    const small = parseVirtualNetwork("10.3.0.0/22");
    const [a, b] = await Promise.all([openSqliteStorage({ path, network: small, random: seededRandom(7) }), openSqliteStorage({ path, network: small, random: seededRandom(7) })]);
    try {
      const identities = await Promise.all(Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? a : b).identities.identify("app", `s${i}`)));
      expect(new Set(identities.map((identity) => identity.virtualIp)).size).toBe(1000);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
