/**
 * Rows as both backends return them, and their conversion to the storage's objects. PostgreSQL
 * hands BIGINT columns back as strings (node-postgres keeps 64-bit integers exact); every value
 * here is far below 2^53, so Number() is exact, and a no-op for SQLite's numbers.
 */
import type { Account, Character, TokenCheck, WorldDocument } from "./storage.js";

type Int = number | string;

export interface AccountRow {
  id: Int;
  app_key: string;
  username: string;
  password_hash: string | null;
  guest: Int;
  created_at: Int;
}

export const ACCOUNT_COLUMNS = "id, app_key, username, password_hash, guest, created_at";

export function toAccount(row: AccountRow): Account {
  return { id: Number(row.id), appKey: row.app_key, username: row.username, passwordHash: row.password_hash, guest: Number(row.guest) === 1, createdAt: Number(row.created_at) };
}

export interface TokenRow {
  account_id: Int;
  app_key: string;
  expires_at: Int;
  revoked: Int;
}

/** What a token's row (or its absence) says about it in `appKey` at `now`. */
export function tokenCheck(row: TokenRow | undefined, appKey: string, tokenHash: string, now: number): TokenCheck {
  if (row === undefined || Number(row.revoked) !== 0 || row.app_key !== appKey) return { problem: "token_invalid" };
  const expiresAt = Number(row.expires_at);
  if (expiresAt <= now) return { problem: "token_expired" };
  return { accountId: Number(row.account_id), tokenHash, expiresAt };
}

export interface CharacterRow {
  id: Int;
  account_id: Int;
  name: string;
  attributes: string;
  selected: Int;
  created_at: Int;
}

export const CHARACTER_COLUMNS = "id, account_id, name, attributes, selected, created_at";

export function toCharacter(row: CharacterRow): Character {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    name: row.name,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    selected: Number(row.selected) === 1,
    createdAt: Number(row.created_at),
  };
}

export interface DocumentRow {
  name: string;
  value: string;
  version: Int;
  updated_at: Int;
  updated_by: string;
}

export const DOCUMENT_COLUMNS = "name, value, version, updated_at, updated_by";

export function toDocument(row: DocumentRow): WorldDocument {
  return { name: row.name, value: JSON.parse(row.value) as Record<string, unknown>, version: Number(row.version), updatedAt: Number(row.updated_at), updatedBy: row.updated_by };
}

/** The secret_hash of an account's identity: never 64 hex digits, so no client secret can hash to it. */
export const accountKey = (accountId: number): string => `account:${accountId}`;
/** Likewise for a server-side endpoint such as a GameMaker bridge. */
export const serviceKey = (name: string): string => `service:${name}`;

/** Random probes for a free virtual IP before falling back to the highest-plus-one and a scan. */
export const RANDOM_PROBES = 32;

export const NETWORK_FULL = "the virtual network has no free address left; configure a larger --virtual-network";
