/**
 * World documents (PROTOCOL.md §16.10), in the identity store's SQLite database: one row per
 * (app key, name), the value kept as the JSON text the writer sent, a version that starts at 1
 * and grows by one with every write. A write names the version it read; the check and the write
 * are one transaction, so of two writers that read the same version exactly one succeeds.
 * The SQL is in storage/sqlite-storage.ts.
 */
import { SqliteWorld } from "../../storage/sqlite-storage.js";

export interface WorldDocument {
  readonly name: string;
  /** A JSON object, as stored. */
  readonly value: Record<string, unknown>;
  readonly version: number;
  readonly updatedAt: number;
  /** The user name of the account that wrote this version. */
  readonly updatedBy: string;
}

export type WriteResult = { readonly document: WorldDocument } | { readonly problem: "conflict"; readonly version: number } | { readonly problem: "too_many" };

/** `new WorldStore(db)`: the world documents of an open database (its migrations applied first). */
export class WorldStore extends SqliteWorld {}
