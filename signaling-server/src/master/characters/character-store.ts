/**
 * Characters (PROTOCOL.md §16.9), in the identity store's SQLite database next to the accounts:
 * one row per character, names unique per app key compared case-insensitively (names are ASCII,
 * so lower-casing is exact), attributes kept as the JSON text the client sent. At most one
 * character of an account is selected; the selection is the account's, so it outlives logins.
 * The SQL is in storage/sqlite-storage.ts.
 */
import { SqliteCharacters } from "../../storage/sqlite-storage.js";

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

export type CreateResult = { readonly character: Character } | { readonly problem: "name_taken" | "too_many" };

/** `new CharacterStore(db)`: the characters of an open database (its migrations applied first). */
export class CharacterStore extends SqliteCharacters {}
