/**
 * The SQLite storage (better-sqlite3): the embedded default. The SQL lives here, in synchronous
 * classes (one writer, so each transaction runs whole within one call), and openSqliteStorage()
 * puts them behind the asynchronous Storage interface the server uses.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { VirtualNetwork } from "../services/virtual-network.js";
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE, refuseNewerSchema } from "./migrations.js";
import {
  ACCOUNT_COLUMNS,
  type AccountRow,
  CHARACTER_COLUMNS,
  type CharacterRow,
  DOCUMENT_COLUMNS,
  type DocumentRow,
  NETWORK_FULL,
  RANDOM_PROBES,
  type TokenRow,
  accountKey,
  serviceKey,
  toAccount,
  toCharacter,
  toDocument,
  tokenCheck,
} from "./rows.js";
import {
  type Account,
  type AccountStorage,
  type Character,
  type CharacterStorage,
  type CreateResult,
  type Identity,
  type IdentityStorage,
  type IssuedToken,
  type SelectedCharacter,
  type Storage,
  type StorageOptions,
  type Sync,
  type TokenCheck,
  type TokenStorage,
  type WorldDocument,
  type WorldStorage,
  type WriteResult,
  TOKEN_FORMAT,
  hashToken,
  newToken,
  promised,
} from "./storage.js";

/** Opens (creating its folder) a SQLite file, or ":memory:", and brings its schema up to date. */
export function openSqliteDatabase(path: string): Database.Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    // WAL: a committed row is in the log before commit returns, so kill -9 cannot lose it.
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    migrateSqlite(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

const migrated = new WeakSet<Database.Database>();

/**
 * Applies the migrations a database lacks, in order, each in an IMMEDIATE transaction with its
 * `schema_migrations` row (a second process waits, better-sqlite3's 5 s busy timeout, then sees it applied). Returns the schema version.
 */
export function migrateSqlite(db: Database.Database): number {
  if (!migrated.has(db)) {
    db.exec(SCHEMA_MIGRATIONS_TABLE);
    const isApplied = db.prepare<[number], { one: number }>("SELECT 1 AS one FROM schema_migrations WHERE version = ?");
    const record = db.prepare<[number, string, number]>("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    refuseNewerSchema(db.prepare<[], { version: number }>("SELECT version FROM schema_migrations").all().map((row) => Number(row.version)));
    for (const migration of MIGRATIONS) {
      if (isApplied.get(migration.version) !== undefined) continue;
      db.transaction(() => {
        if (isApplied.get(migration.version) !== undefined) return;
        db.exec(migration.sqlite);
        record.run(migration.version, migration.name, Date.now());
      }).immediate();
    }
    migrated.add(db);
  }
  return sqliteSchemaVersion(db);
}

export function sqliteSchemaVersion(db: Database.Database): number {
  return db.prepare<[], { version: number | null }>("SELECT MAX(version) AS version FROM schema_migrations").get()?.version ?? 0;
}

/** Identities and their virtual IPs. */
export class SqliteIdentities implements Sync<IdentityStorage> {
  private readonly find: Database.Statement<[string, string], { id: number; virtual_ip: number }>;
  private readonly touch: Database.Statement<[number, number]>;
  private readonly taken: Database.Statement<[number], { one: number }>;
  private readonly insert: Database.Statement<[string, string, number, number, number]>;
  private readonly highest: Database.Statement<[number, number], { ip: number | null }>;
  private readonly identifyHashTx: Database.Transaction<(appKey: string, hash: string) => Identity>;

  constructor(
    db: Database.Database,
    private readonly network: VirtualNetwork,
    private readonly random: () => number,
  ) {
    migrateSqlite(db);
    this.find = db.prepare("SELECT id, virtual_ip FROM identities WHERE app_key = ? AND secret_hash = ?");
    this.touch = db.prepare("UPDATE identities SET last_seen = ? WHERE id = ?");
    this.taken = db.prepare("SELECT 1 AS one FROM identities WHERE virtual_ip = ?");
    this.insert = db.prepare("INSERT INTO identities (app_key, secret_hash, virtual_ip, created_at, last_seen) VALUES (?, ?, ?, ?, ?)");
    this.highest = db.prepare("SELECT MAX(virtual_ip) AS ip FROM identities WHERE virtual_ip BETWEEN ? AND ?");
    this.identifyHashTx = db.transaction((appKey: string, hash: string): Identity => this.identifyHash(appKey, hash));
  }

  identify(appKey: string, secret: string): Identity {
    return this.identifyHashTx.immediate(appKey, hashToken(secret));
  }

  accountIdentity(appKey: string, accountId: number): Identity {
    return this.identifyHashTx.immediate(appKey, accountKey(accountId));
  }

  serviceIdentity(appKey: string, name: string): Identity {
    return this.identifyHashTx.immediate(appKey, serviceKey(name));
  }

  private identifyHash(appKey: string, hash: string): Identity {
    const now = Date.now();
    const existing = this.find.get(appKey, hash);
    if (existing) {
      this.touch.run(now, existing.id);
      return { identityId: existing.id, virtualIp: existing.virtual_ip };
    }
    const virtualIp = this.freeAddress();
    const result = this.insert.run(appKey, hash, virtualIp, now, now);
    return { identityId: Number(result.lastInsertRowid), virtualIp };
  }

  private freeAddress(): number {
    const { network, random } = this;
    for (let probe = 0; probe < RANDOM_PROBES; probe++) {
      const ip = network.at(Math.floor(random() * network.size));
      if (this.taken.get(ip) === undefined) return ip;
    }
    // A crowded range: take the next address after the highest in use, then scan from the start.
    const top = this.highest.get(network.first, network.last)?.ip ?? network.first - 1;
    if (top < network.last) return top + 1;
    for (let ip = network.first; ip <= network.last; ip++) if (this.taken.get(ip) === undefined) return ip;
    throw new Error(NETWORK_FULL);
  }
}

/** Accounts: user names unique per app key compared case-insensitively (names are ASCII, so lower-casing is exact). */
export class SqliteAccounts implements Sync<AccountStorage> {
  private readonly insert: Database.Statement<[string, string, string, string | null, number, number], AccountRow>;
  private readonly byName: Database.Statement<[string, string], AccountRow>;
  private readonly byId: Database.Statement<[number], AccountRow>;
  private readonly touch: Database.Statement<[number, number]>;

  constructor(db: Database.Database) {
    migrateSqlite(db);
    this.insert = db.prepare(
      `INSERT INTO accounts (app_key, username, username_lower, password_hash, guest, created_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (app_key, username_lower) DO NOTHING RETURNING ${ACCOUNT_COLUMNS}`,
    );
    this.byName = db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE app_key = ? AND username_lower = ?`);
    this.byId = db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`);
    this.touch = db.prepare("UPDATE accounts SET last_login = ? WHERE id = ?");
  }

  /** A new account, or undefined when the name is taken in this app key (in any case). */
  create(appKey: string, username: string, passwordHash: string | null, now: number): Account | undefined {
    const row = this.insert.get(appKey, username, username.toLowerCase(), passwordHash, passwordHash === null ? 1 : 0, now);
    return row === undefined ? undefined : toAccount(row);
  }

  findByName(appKey: string, username: string): Account | undefined {
    const row = this.byName.get(appKey, username.toLowerCase());
    return row === undefined ? undefined : toAccount(row);
  }

  findById(id: number): Account | undefined {
    const row = this.byId.get(id);
    return row === undefined ? undefined : toAccount(row);
  }

  recordLogin(id: number, now: number): void {
    this.touch.run(now, id);
  }
}

/** Session token rows: only a token's SHA-256 is stored, with its account, app key, expiry and revoked flag. */
export class SqliteTokens implements Sync<TokenStorage> {
  private readonly insert: Database.Statement<[string, number, string, number, number]>;
  private readonly find: Database.Statement<[string], TokenRow>;
  private readonly revokeOne: Database.Statement<[string]>;
  private readonly deleteExpired: Database.Statement<[number]>;
  private readonly deleteRevoked: Database.Statement<[]>;

  constructor(db: Database.Database) {
    migrateSqlite(db);
    this.insert = db.prepare("INSERT INTO sessions (token_hash, account_id, app_key, created_at, expires_at) VALUES (?, ?, ?, ?, ?)");
    this.find = db.prepare("SELECT account_id, app_key, expires_at, revoked FROM sessions WHERE token_hash = ?");
    this.revokeOne = db.prepare("UPDATE sessions SET revoked = 1 WHERE token_hash = ?");
    this.deleteExpired = db.prepare("DELETE FROM sessions WHERE expires_at <= ?");
    this.deleteRevoked = db.prepare("DELETE FROM sessions WHERE revoked = 1");
  }

  issue(appKey: string, accountId: number, now: number, ttlMs: number): IssuedToken {
    const { token, tokenHash } = newToken();
    const expiresAt = now + ttlMs;
    this.insert.run(tokenHash, accountId, appKey, now, expiresAt);
    return { token, tokenHash, expiresAt };
  }

  check(appKey: string, token: string, now: number): TokenCheck {
    if (!TOKEN_FORMAT.test(token)) return { problem: "token_invalid" };
    const tokenHash = hashToken(token);
    return tokenCheck(this.find.get(tokenHash), appKey, tokenHash, now);
  }

  revoke(tokenHash: string): void {
    this.revokeOne.run(tokenHash);
  }

  sweep(now: number): number {
    return this.deleteExpired.run(now).changes + this.deleteRevoked.run().changes;
  }
}

/** Characters: names unique per app key compared case-insensitively; at most one selected per account. */
export class SqliteCharacters implements Sync<CharacterStorage> {
  private readonly insert: Database.Statement<[number, string, string, string, string, number], CharacterRow>;
  private readonly countOf: Database.Statement<[number], { n: number }>;
  private readonly ofAccount: Database.Statement<[number], CharacterRow>;
  private readonly one: Database.Statement<[number, number], CharacterRow>;
  private readonly selectedOf: Database.Statement<[number], { id: number; name: string }>;
  private readonly clearSelection: Database.Statement<[number]>;
  private readonly markSelected: Database.Statement<[number, number]>;
  private readonly deleteOne: Database.Statement<[number, number]>;
  private readonly createTx: (appKey: string, accountId: number, name: string, attributes: string, now: number, max: number) => CreateResult;
  private readonly selectTx: (accountId: number, characterId: number) => Character | undefined;

  constructor(db: Database.Database) {
    migrateSqlite(db);
    this.insert = db.prepare(
      `INSERT INTO characters (account_id, app_key, name, name_lower, attributes, created_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (app_key, name_lower) DO NOTHING RETURNING ${CHARACTER_COLUMNS}`,
    );
    this.countOf = db.prepare("SELECT COUNT(*) AS n FROM characters WHERE account_id = ?");
    this.ofAccount = db.prepare(`SELECT ${CHARACTER_COLUMNS} FROM characters WHERE account_id = ? ORDER BY id`);
    this.one = db.prepare(`SELECT ${CHARACTER_COLUMNS} FROM characters WHERE id = ? AND account_id = ?`);
    this.selectedOf = db.prepare("SELECT id, name FROM characters WHERE account_id = ? AND selected = 1");
    this.clearSelection = db.prepare("UPDATE characters SET selected = 0 WHERE account_id = ? AND selected = 1");
    this.markSelected = db.prepare("UPDATE characters SET selected = 1 WHERE id = ? AND account_id = ?");
    this.deleteOne = db.prepare("DELETE FROM characters WHERE id = ? AND account_id = ?");

    this.createTx = db.transaction((appKey: string, accountId: number, name: string, attributes: string, now: number, max: number): CreateResult => {
      if ((this.countOf.get(accountId)?.n ?? 0) >= max) return { problem: "too_many" };
      const row = this.insert.get(accountId, appKey, name, name.toLowerCase(), attributes, now);
      return row === undefined ? { problem: "name_taken" } : { character: toCharacter(row) };
    });
    this.selectTx = db.transaction((accountId: number, characterId: number): Character | undefined => {
      const row = this.one.get(characterId, accountId);
      if (row === undefined) return undefined;
      this.clearSelection.run(accountId);
      this.markSelected.run(characterId, accountId);
      return toCharacter({ ...row, selected: 1 });
    });
  }

  create(appKey: string, accountId: number, name: string, attributesJson: string, now: number, max: number): CreateResult {
    return this.createTx(appKey, accountId, name, attributesJson, now, max);
  }

  list(accountId: number): Character[] {
    return this.ofAccount.all(accountId).map(toCharacter);
  }

  select(accountId: number, characterId: number): Character | undefined {
    return this.selectTx(accountId, characterId);
  }

  deselect(accountId: number): void {
    this.clearSelection.run(accountId);
  }

  selected(accountId: number): SelectedCharacter | undefined {
    return this.selectedOf.get(accountId);
  }

  delete(accountId: number, characterId: number): boolean {
    return this.deleteOne.run(characterId, accountId).changes > 0;
  }
}

/** World documents: one row per (app key, name), written only over the version the writer read. */
export class SqliteWorld implements Sync<WorldStorage> {
  private readonly one: Database.Statement<[string, string], DocumentRow>;
  private readonly all: Database.Statement<[string], DocumentRow>;
  private readonly countOf: Database.Statement<[string], { n: number }>;
  private readonly upsert: Database.Statement<[string, string, string, number, number, string], DocumentRow>;
  private readonly writeTx: (appKey: string, name: string, valueJson: string, expectedVersion: number, now: number, by: string, max: number) => WriteResult;

  constructor(db: Database.Database) {
    migrateSqlite(db);
    this.one = db.prepare(`SELECT ${DOCUMENT_COLUMNS} FROM world_documents WHERE app_key = ? AND name = ?`);
    this.all = db.prepare(`SELECT ${DOCUMENT_COLUMNS} FROM world_documents WHERE app_key = ? ORDER BY name`);
    this.countOf = db.prepare("SELECT COUNT(*) AS n FROM world_documents WHERE app_key = ?");
    this.upsert = db.prepare(
      `INSERT INTO world_documents (app_key, name, value, version, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (app_key, name) DO UPDATE SET value = excluded.value, version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by
       RETURNING ${DOCUMENT_COLUMNS}`,
    );
    // The check and the write in one transaction: of two writers that read the same version exactly one succeeds.
    this.writeTx = db.transaction((appKey: string, name: string, valueJson: string, expectedVersion: number, now: number, by: string, max: number): WriteResult => {
      const current = Number(this.one.get(appKey, name)?.version ?? 0);
      if (current !== expectedVersion) return { problem: "conflict", version: current };
      if (current === 0 && (this.countOf.get(appKey)?.n ?? 0) >= max) return { problem: "too_many" };
      const row = this.upsert.get(appKey, name, valueJson, current + 1, now, by);
      return { document: toDocument(row!) };
    });
  }

  get(appKey: string, name: string): WorldDocument | undefined {
    const row = this.one.get(appKey, name);
    return row === undefined ? undefined : toDocument(row);
  }

  list(appKey: string): WorldDocument[] {
    return this.all.all(appKey).map(toDocument);
  }

  write(appKey: string, name: string, valueJson: string, expectedVersion: number, now: number, by: string, max: number): WriteResult {
    return this.writeTx(appKey, name, valueJson, expectedVersion, now, by, max);
  }
}

export interface SqliteStorageOptions extends StorageOptions {
  /** File path, or ":memory:". */
  readonly path: string;
}

/** The SQLite storage behind the asynchronous interface (each call runs synchronously, then resolves). */
export function openSqliteStorage(options: SqliteStorageOptions): Promise<Storage> {
  try {
    return Promise.resolve(sqliteStorageOf(openSqliteDatabase(options.path), options, true));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** The asynchronous storage over an open database (which others may share); `owned` closes it on close(). */
export function sqliteStorageOf(db: Database.Database, options: StorageOptions, owned = false): Storage {
  return {
    kind: "sqlite",
    identities: promised<IdentityStorage>(new SqliteIdentities(db, options.network, options.random)),
    accounts: promised<AccountStorage>(new SqliteAccounts(db)),
    tokens: promised<TokenStorage>(new SqliteTokens(db)),
    characters: promised<CharacterStorage>(new SqliteCharacters(db)),
    world: promised<WorldStorage>(new SqliteWorld(db)),
    schemaVersion: async () => sqliteSchemaVersion(db),
    close: async () => {
      if (owned && db.open) db.close();
    },
  };
}
