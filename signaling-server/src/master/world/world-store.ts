/**
 * World documents (PROTOCOL.md §16.10), in the identity store's SQLite database: one row per
 * (app key, name), the value kept as the JSON text the writer sent, a version that starts at 1
 * and grows by one with every write. A write names the version it read; the check and the write
 * are one transaction, so of two writers that read the same version exactly one succeeds.
 */
import type Database from "better-sqlite3";

export interface WorldDocument {
  readonly name: string;
  /** A JSON object, as stored. */
  readonly value: Record<string, unknown>;
  readonly version: number;
  readonly updatedAt: number;
  /** The user name of the account that wrote this version. */
  readonly updatedBy: string;
}

interface DocumentRow {
  name: string;
  value: string;
  version: number;
  updated_at: number;
  updated_by: string;
}

const COLUMNS = "name, value, version, updated_at, updated_by";

export type WriteResult = { readonly document: WorldDocument } | { readonly problem: "conflict"; readonly version: number } | { readonly problem: "too_many" };

export class WorldStore {
  private readonly one: Database.Statement<[string, string], DocumentRow>;
  private readonly all: Database.Statement<[string], DocumentRow>;
  private readonly countOf: Database.Statement<[string], { n: number }>;
  private readonly upsert: Database.Statement<[string, string, string, number, number, string], DocumentRow>;
  private readonly writeTx: (appKey: string, name: string, valueJson: string, expectedVersion: number, now: number, by: string, max: number) => WriteResult;

  constructor(db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS world_documents (
        app_key     TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        value       TEXT    NOT NULL,
        version     INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        updated_by  TEXT    NOT NULL,
        PRIMARY KEY (app_key, name)
      ) WITHOUT ROWID;
    `);
    this.one = db.prepare(`SELECT ${COLUMNS} FROM world_documents WHERE app_key = ? AND name = ?`);
    this.all = db.prepare(`SELECT ${COLUMNS} FROM world_documents WHERE app_key = ? ORDER BY name`);
    this.countOf = db.prepare("SELECT COUNT(*) AS n FROM world_documents WHERE app_key = ?");
    this.upsert = db.prepare(
      `INSERT INTO world_documents (app_key, name, value, version, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (app_key, name) DO UPDATE SET value = excluded.value, version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by
       RETURNING ${COLUMNS}`,
    );
    this.writeTx = db.transaction((appKey: string, name: string, valueJson: string, expectedVersion: number, now: number, by: string, max: number): WriteResult => {
      const current = this.one.get(appKey, name)?.version ?? 0;
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

  /** The app key's documents, by name (code point order). */
  list(appKey: string): WorldDocument[] {
    return this.all.all(appKey).map(toDocument);
  }

  /**
   * Writes version `expectedVersion + 1` if the document's version is `expectedVersion` (0: it
   * does not exist, and the app key has fewer than `max` documents).
   */
  write(appKey: string, name: string, valueJson: string, expectedVersion: number, now: number, by: string, max: number): WriteResult {
    return this.writeTx(appKey, name, valueJson, expectedVersion, now, by, max);
  }
}

function toDocument(row: DocumentRow): WorldDocument {
  return { name: row.name, value: JSON.parse(row.value) as Record<string, unknown>, version: row.version, updatedAt: row.updated_at, updatedBy: row.updated_by };
}
