/**
 * The PostgreSQL storage (node-postgres): one database shared by several server processes. Every
 * rule the SQLite storage keeps inside one writer holds here across processes:
 *
 * - Virtual IPs: the UNIQUE constraint on identities.virtual_ip decides. An allocator picks a free
 *   address, inserts with ON CONFLICT DO NOTHING and, when it lost a race (for the address or for
 *   the very identity), looks again; no two identities ever share an address.
 * - Characters and world documents: their read-check-write transactions first take a transaction
 *   advisory lock on the account (characters) or the app key (world), so the count limits, the one
 *   selected character and "of two writers of the same version exactly one succeeds" hold.
 * - Migrations: applied under a session advisory lock, so processes starting together apply each once.
 */
import pg from "pg";
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
  type TokenCheck,
  type TokenStorage,
  type WorldDocument,
  type WorldStorage,
  type WriteResult,
  TOKEN_FORMAT,
  hashToken,
  newToken,
} from "./storage.js";

type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

/** The session advisory lock held while migrating ("gmnet" in ASCII). */
const MIGRATION_LOCK = "443721172340";
/** Namespaces of the transaction advisory locks (the first key of pg_advisory_xact_lock(int, int)). */
const LOCK_ACCOUNT_CHARACTERS = 0x676d01;
const LOCK_APP_WORLD = 0x676d02;
/** Lost races for an address before giving up (each lost race means another allocation succeeded). */
const MAX_ALLOCATION_ATTEMPTS = 1000;

/** True for postgres:// and postgresql:// URLs (what --database takes). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** Applies the migrations the database lacks, in order, each in a transaction with its `schema_migrations` row. Returns the schema version. */
export async function migratePostgres(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1::bigint)", [MIGRATION_LOCK]);
    try {
      await client.query(SCHEMA_MIGRATIONS_TABLE);
      const applied = new Set((await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map((row) => Number(row.version)));
      refuseNewerSchema(applied);
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await client.query("BEGIN");
        try {
          await client.query(migration.postgres);
          await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [migration.version, migration.name, Date.now()]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw error;
        }
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
  return postgresSchemaVersion(pool);
}

export async function postgresSchemaVersion(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ version: number | null }>("SELECT MAX(version) AS version FROM schema_migrations");
  return Number(rows[0]?.version ?? 0);
}

/** Runs `body` in a transaction, first taking the advisory lock (namespace, hashtext(key)) when given. */
async function transaction<T>(pool: pg.Pool, lock: readonly [number, string] | undefined, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      if (lock !== undefined) await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [lock[0], lock[1]]);
      const result = await body(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    }
  } finally {
    // A connection that could not roll back is not given to anyone else.
    client.release(broken);
  }
}

class PostgresIdentities implements IdentityStorage {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: StorageOptions,
  ) {}

  identify(appKey: string, secret: string): Promise<Identity> {
    return this.identifyHash(appKey, hashToken(secret));
  }

  accountIdentity(appKey: string, accountId: number): Promise<Identity> {
    return this.identifyHash(appKey, accountKey(accountId));
  }

  serviceIdentity(appKey: string, name: string): Promise<Identity> {
    return this.identifyHash(appKey, serviceKey(name));
  }

  private async identifyHash(appKey: string, hash: string): Promise<Identity> {
    for (let attempt = 0; attempt < MAX_ALLOCATION_ATTEMPTS; attempt++) {
      const now = Date.now();
      const existing = await this.pool.query<{ id: string; virtual_ip: string }>(
        "UPDATE identities SET last_seen = $1 WHERE app_key = $2 AND secret_hash = $3 RETURNING id, virtual_ip",
        [now, appKey, hash],
      );
      const found = existing.rows[0];
      if (found !== undefined) return { identityId: Number(found.id), virtualIp: Number(found.virtual_ip) };
      const virtualIp = await this.freeAddress();
      // Either unique constraint may refuse the row: the address was just taken, or another process
      // just created this identity. Both are answered by looking again.
      const inserted = await this.pool.query<{ id: string }>(
        "INSERT INTO identities (app_key, secret_hash, virtual_ip, created_at, last_seen) VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING RETURNING id",
        [appKey, hash, virtualIp, now],
      );
      const row = inserted.rows[0];
      if (row !== undefined) return { identityId: Number(row.id), virtualIp };
    }
    throw new Error(`no virtual IP could be allocated after ${MAX_ALLOCATION_ATTEMPTS} attempts (every one lost a race)`);
  }

  /** A currently free address (another process may take it before the insert; the caller retries). */
  private async freeAddress(): Promise<number> {
    const { network, random } = this.options;
    const candidates = Array.from({ length: RANDOM_PROBES }, () => network.at(Math.floor(random() * network.size)));
    const { rows: taken } = await this.pool.query<{ virtual_ip: string }>("SELECT virtual_ip FROM identities WHERE virtual_ip = ANY($1::bigint[])", [candidates]);
    const takenSet = new Set(taken.map((row) => Number(row.virtual_ip)));
    const free = candidates.find((ip) => !takenSet.has(ip));
    if (free !== undefined) return free;
    // A crowded range: the next address after the highest in use, else the lowest gap.
    const { rows } = await this.pool.query<{ top: string | null }>("SELECT MAX(virtual_ip) AS top FROM identities WHERE virtual_ip BETWEEN $1 AND $2", [network.first, network.last]);
    const top = rows[0]?.top == null ? network.first - 1 : Number(rows[0].top);
    if (top < network.last) return top + 1;
    const gap = await this.pool.query<{ ip: string | null }>(
      `SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM identities WHERE virtual_ip = $1) THEN $1::bigint
         ELSE (SELECT i.virtual_ip + 1 FROM identities i
               WHERE i.virtual_ip >= $1 AND i.virtual_ip < $2 AND NOT EXISTS (SELECT 1 FROM identities j WHERE j.virtual_ip = i.virtual_ip + 1)
               ORDER BY i.virtual_ip LIMIT 1) END AS ip`,
      [network.first, network.last],
    );
    const ip = gap.rows[0]?.ip;
    if (ip == null) throw new Error(NETWORK_FULL);
    return Number(ip);
  }
}

class PostgresAccounts implements AccountStorage {
  constructor(private readonly pool: pg.Pool) {}

  async create(appKey: string, username: string, passwordHash: string | null, now: number): Promise<Account | undefined> {
    const { rows } = await this.pool.query<AccountRow>(
      `INSERT INTO accounts (app_key, username, username_lower, password_hash, guest, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (app_key, username_lower) DO NOTHING RETURNING ${ACCOUNT_COLUMNS}`,
      [appKey, username, username.toLowerCase(), passwordHash, passwordHash === null ? 1 : 0, now],
    );
    return rows[0] === undefined ? undefined : toAccount(rows[0]);
  }

  async findByName(appKey: string, username: string): Promise<Account | undefined> {
    const { rows } = await this.pool.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE app_key = $1 AND username_lower = $2`, [appKey, username.toLowerCase()]);
    return rows[0] === undefined ? undefined : toAccount(rows[0]);
  }

  async findById(id: number): Promise<Account | undefined> {
    const { rows } = await this.pool.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : toAccount(rows[0]);
  }

  async recordLogin(id: number, now: number): Promise<void> {
    await this.pool.query("UPDATE accounts SET last_login = $1 WHERE id = $2", [now, id]);
  }
}

class PostgresTokens implements TokenStorage {
  constructor(private readonly pool: pg.Pool) {}

  async issue(appKey: string, accountId: number, now: number, ttlMs: number): Promise<IssuedToken> {
    const { token, tokenHash } = newToken();
    const expiresAt = now + ttlMs;
    await this.pool.query("INSERT INTO sessions (token_hash, account_id, app_key, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)", [tokenHash, accountId, appKey, now, expiresAt]);
    return { token, tokenHash, expiresAt };
  }

  async check(appKey: string, token: string, now: number): Promise<TokenCheck> {
    if (!TOKEN_FORMAT.test(token)) return { problem: "token_invalid" };
    const tokenHash = hashToken(token);
    const { rows } = await this.pool.query<TokenRow>("SELECT account_id, app_key, expires_at, revoked FROM sessions WHERE token_hash = $1", [tokenHash]);
    return tokenCheck(rows[0], appKey, tokenHash, now);
  }

  async revoke(tokenHash: string): Promise<void> {
    await this.pool.query("UPDATE sessions SET revoked = 1 WHERE token_hash = $1", [tokenHash]);
  }

  async sweep(now: number): Promise<number> {
    const result = await this.pool.query("DELETE FROM sessions WHERE expires_at <= $1 OR revoked = 1", [now]);
    return result.rowCount ?? 0;
  }
}

class PostgresCharacters implements CharacterStorage {
  constructor(private readonly pool: pg.Pool) {}

  create(appKey: string, accountId: number, name: string, attributesJson: string, now: number, max: number): Promise<CreateResult> {
    return transaction(this.pool, [LOCK_ACCOUNT_CHARACTERS, String(accountId)], async (client) => {
      const { rows: counted } = await client.query<{ n: string }>("SELECT COUNT(*) AS n FROM characters WHERE account_id = $1", [accountId]);
      if (Number(counted[0]?.n ?? 0) >= max) return { problem: "too_many" };
      const { rows } = await client.query<CharacterRow>(
        `INSERT INTO characters (account_id, app_key, name, name_lower, attributes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (app_key, name_lower) DO NOTHING RETURNING ${CHARACTER_COLUMNS}`,
        [accountId, appKey, name, name.toLowerCase(), attributesJson, now],
      );
      return rows[0] === undefined ? { problem: "name_taken" } : { character: toCharacter(rows[0]) };
    });
  }

  async list(accountId: number): Promise<Character[]> {
    const { rows } = await this.pool.query<CharacterRow>(`SELECT ${CHARACTER_COLUMNS} FROM characters WHERE account_id = $1 ORDER BY id`, [accountId]);
    return rows.map(toCharacter);
  }

  select(accountId: number, characterId: number): Promise<Character | undefined> {
    return transaction(this.pool, [LOCK_ACCOUNT_CHARACTERS, String(accountId)], async (client) => {
      const { rows } = await client.query<CharacterRow>(`SELECT ${CHARACTER_COLUMNS} FROM characters WHERE id = $1 AND account_id = $2`, [characterId, accountId]);
      const row = rows[0];
      if (row === undefined) return undefined;
      await client.query("UPDATE characters SET selected = 0 WHERE account_id = $1 AND selected = 1", [accountId]);
      await client.query("UPDATE characters SET selected = 1 WHERE id = $1 AND account_id = $2", [characterId, accountId]);
      return toCharacter({ ...row, selected: 1 });
    });
  }

  async deselect(accountId: number): Promise<void> {
    await transaction(this.pool, [LOCK_ACCOUNT_CHARACTERS, String(accountId)], (client) => client.query("UPDATE characters SET selected = 0 WHERE account_id = $1 AND selected = 1", [accountId]));
  }

  async selected(accountId: number): Promise<SelectedCharacter | undefined> {
    const { rows } = await this.pool.query<{ id: string; name: string }>("SELECT id, name FROM characters WHERE account_id = $1 AND selected = 1", [accountId]);
    return rows[0] === undefined ? undefined : { id: Number(rows[0].id), name: rows[0].name };
  }

  async delete(accountId: number, characterId: number): Promise<boolean> {
    const result = await this.pool.query("DELETE FROM characters WHERE id = $1 AND account_id = $2", [characterId, accountId]);
    return (result.rowCount ?? 0) > 0;
  }
}

class PostgresWorld implements WorldStorage {
  constructor(private readonly pool: pg.Pool) {}

  async get(appKey: string, name: string): Promise<WorldDocument | undefined> {
    const { rows } = await this.pool.query<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM world_documents WHERE app_key = $1 AND name = $2`, [appKey, name]);
    return rows[0] === undefined ? undefined : toDocument(rows[0]);
  }

  async list(appKey: string): Promise<WorldDocument[]> {
    const { rows } = await this.pool.query<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM world_documents WHERE app_key = $1 ORDER BY name`, [appKey]);
    return rows.map(toDocument);
  }

  write(appKey: string, name: string, valueJson: string, expectedVersion: number, now: number, by: string, max: number): Promise<WriteResult> {
    return transaction(this.pool, [LOCK_APP_WORLD, appKey], async (client) => {
      const { rows: current } = await client.query<{ version: string }>("SELECT version FROM world_documents WHERE app_key = $1 AND name = $2", [appKey, name]);
      const version = Number(current[0]?.version ?? 0);
      if (version !== expectedVersion) return { problem: "conflict", version };
      if (version === 0) {
        const { rows: counted } = await client.query<{ n: string }>("SELECT COUNT(*) AS n FROM world_documents WHERE app_key = $1", [appKey]);
        if (Number(counted[0]?.n ?? 0) >= max) return { problem: "too_many" };
      }
      const { rows } = await client.query<DocumentRow>(
        `INSERT INTO world_documents (app_key, name, value, version, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (app_key, name) DO UPDATE SET value = excluded.value, version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by
         RETURNING ${DOCUMENT_COLUMNS}`,
        [appKey, name, valueJson, version + 1, now, by],
      );
      return { document: toDocument(rows[0]!) };
    });
  }
}

export interface PostgresStorageOptions extends StorageOptions {
  /** postgres:// or postgresql:// connection URL. */
  readonly url: string;
  /** Connections in the pool (default 10). */
  readonly maxConnections?: number;
  /** An idle pooled connection failed (the pool replaces it; the next query reports any lasting problem). */
  readonly onError?: (error: Error) => void;
}

/** Connects, applies the migrations the database lacks, and returns the storage. */
export async function openPostgresStorage(options: PostgresStorageOptions): Promise<Storage> {
  if (!isPostgresUrl(options.url)) throw new Error("the PostgreSQL storage takes a postgres:// or postgresql:// URL");
  // A database that does not answer a connection attempt fails the call after 5 s instead of holding it.
  const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 10, connectionTimeoutMillis: 5000 });
  pool.on("error", (error) => options.onError?.(error));
  try {
    await migratePostgres(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    kind: "postgres",
    identities: new PostgresIdentities(pool, options),
    accounts: new PostgresAccounts(pool),
    tokens: new PostgresTokens(pool),
    characters: new PostgresCharacters(pool),
    world: new PostgresWorld(pool),
    schemaVersion: () => postgresSchemaVersion(pool),
    close: () => (closing ??= pool.end()),
  };
}
