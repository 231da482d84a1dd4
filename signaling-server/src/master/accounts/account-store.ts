/**
 * Accounts (PROTOCOL.md §16.3), in the identity store's SQLite database: one row per account,
 * user names unique per app key compared case-insensitively (names are ASCII, so lower-casing
 * is exact). Guests have no password hash. The SQL is in storage/sqlite-storage.ts.
 */
import { SqliteAccounts } from "../../storage/sqlite-storage.js";

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

/** `new AccountStore(db)`: the accounts of an open database (its migrations applied first). */
export class AccountStore extends SqliteAccounts {}
