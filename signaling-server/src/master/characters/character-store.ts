/**
 * Characters (PROTOCOL.md §16.9), in the identity store's SQLite database next to the accounts:
 * one row per character, names unique per app key compared case-insensitively (names are ASCII,
 * so lower-casing is exact), attributes kept as the JSON text the client sent. At most one
 * character of an account is selected; the selection is the account's, so it outlives logins.
 */
import type Database from "better-sqlite3";

export interface Character {
  readonly id: number;
  readonly accountId: number;
  /** As created (the case the player chose). */
  readonly name: string;
  /** A JSON object, as stored. */
  readonly attributes: Record<string, unknown>;
  readonly selected: boolean;
  readonly createdAt: number;
}

/** Who a character's owner has selected, for presence and chat. */
export interface SelectedCharacter {
  readonly id: number;
  readonly name: string;
}

interface CharacterRow {
  id: number;
  account_id: number;
  name: string;
  attributes: string;
  selected: number;
  created_at: number;
}

const COLUMNS = "id, account_id, name, attributes, selected, created_at";

export type CreateResult = { readonly character: Character } | { readonly problem: "name_taken" | "too_many" };

export class CharacterStore {
  private readonly insert: Database.Statement<[number, string, string, string, string, number]>;
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
    // AUTOINCREMENT: a deleted character's id is never given to another, so a stale id finds nothing.
    db.exec(`
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
    `);
    this.insert = db.prepare(
      `INSERT INTO characters (account_id, app_key, name, name_lower, attributes, created_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (app_key, name_lower) DO NOTHING RETURNING ${COLUMNS}`,
    );
    this.countOf = db.prepare("SELECT COUNT(*) AS n FROM characters WHERE account_id = ?");
    this.ofAccount = db.prepare(`SELECT ${COLUMNS} FROM characters WHERE account_id = ? ORDER BY id`);
    this.one = db.prepare(`SELECT ${COLUMNS} FROM characters WHERE id = ? AND account_id = ?`);
    this.selectedOf = db.prepare("SELECT id, name FROM characters WHERE account_id = ? AND selected = 1");
    this.clearSelection = db.prepare("UPDATE characters SET selected = 0 WHERE account_id = ? AND selected = 1");
    this.markSelected = db.prepare("UPDATE characters SET selected = 1 WHERE id = ? AND account_id = ?");
    this.deleteOne = db.prepare("DELETE FROM characters WHERE id = ? AND account_id = ?");

    this.createTx = db.transaction((appKey: string, accountId: number, name: string, attributes: string, now: number, max: number): CreateResult => {
      if ((this.countOf.get(accountId)?.n ?? 0) >= max) return { problem: "too_many" };
      const row = this.insert.get(accountId, appKey, name, name.toLowerCase(), attributes, now) as CharacterRow | undefined;
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

  /** A new character of the account (not selected), unless the account has `max` already or the name is taken in this app key (in any case). */
  create(appKey: string, accountId: number, name: string, attributesJson: string, now: number, max: number): CreateResult {
    return this.createTx(appKey, accountId, name, attributesJson, now, max);
  }

  /** The account's characters, oldest first. */
  list(accountId: number): Character[] {
    return this.ofAccount.all(accountId).map(toCharacter);
  }

  /** Selects one of the account's characters (and no other); undefined when the account has no such character. */
  select(accountId: number, characterId: number): Character | undefined {
    return this.selectTx(accountId, characterId);
  }

  /** Selects none of the account's characters. */
  deselect(accountId: number): void {
    this.clearSelection.run(accountId);
  }

  /** The account's selected character, if any. */
  selected(accountId: number): SelectedCharacter | undefined {
    return this.selectedOf.get(accountId);
  }

  /** Deletes one of the account's characters; false when the account has no such character. */
  delete(accountId: number, characterId: number): boolean {
    return this.deleteOne.run(characterId, accountId).changes > 0;
  }
}

function toCharacter(row: CharacterRow): Character {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    selected: row.selected === 1,
    createdAt: row.created_at,
  };
}
