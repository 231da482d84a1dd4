/**
 * Accounts (PROTOCOL.md §16.3), in the identity store's SQLite database: one row per account,
 * user names unique per app key compared case-insensitively (names are ASCII, so lower-casing
 * is exact). Guests have no password hash.
 */
import type Database from "better-sqlite3";

export interface Account {
  readonly id: number;
  readonly appKey: string;
  /** As registered (the case the user chose). */
  readonly username: string;
  /** Null for guests: they hold only a token. */
  readonly passwordHash: string | null;
  readonly guest: boolean;
  readonly createdAt: number;
}

interface AccountRow {
  id: number;
  app_key: string;
  username: string;
  password_hash: string | null;
  guest: number;
  created_at: number;
}

const COLUMNS = "id, app_key, username, password_hash, guest, created_at";

export class AccountStore {
  private readonly insert: Database.Statement<[string, string, string, string | null, number, number]>;
  private readonly byName: Database.Statement<[string, string], AccountRow>;
  private readonly byId: Database.Statement<[number], AccountRow>;
  private readonly touch: Database.Statement<[number, number]>;

  constructor(db: Database.Database) {
    // AUTOINCREMENT: an id is never reused, since it names the account's permanent virtual IP.
    db.exec(`
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
      )`);
    this.insert = db.prepare(
      `INSERT INTO accounts (app_key, username, username_lower, password_hash, guest, created_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (app_key, username_lower) DO NOTHING RETURNING ${COLUMNS}`,
    );
    this.byName = db.prepare(`SELECT ${COLUMNS} FROM accounts WHERE app_key = ? AND username_lower = ?`);
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM accounts WHERE id = ?`);
    this.touch = db.prepare("UPDATE accounts SET last_login = ? WHERE id = ?");
  }

  /** A new account, or undefined when the name is taken in this app key (in any case). */
  create(appKey: string, username: string, passwordHash: string | null, now: number): Account | undefined {
    const row = this.insert.get(appKey, username, username.toLowerCase(), passwordHash, passwordHash === null ? 1 : 0, now) as AccountRow | undefined;
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

function toAccount(row: AccountRow): Account {
  return { id: row.id, appKey: row.app_key, username: row.username, passwordHash: row.password_hash, guest: row.guest === 1, createdAt: row.created_at };
}
