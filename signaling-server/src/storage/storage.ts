/**
 * The server's durable state behind one asynchronous interface with two implementations: SQLite
 * (embedded, the default; sqlite-storage.ts) and PostgreSQL (shared by several server processes;
 * postgres-storage.ts). Both pass the same conformance suite (test/storage/).
 *
 * The parts mirror the stores the server uses today, method for method: identities and virtual IPs
 * (services/identity-store.ts), accounts (master/accounts/account-store.ts), session token rows
 * (master/accounts/token-store.ts, whose token generation and sweeper timer stay there), characters
 * (master/characters/character-store.ts) and world documents (master/world/world-store.ts). Times
 * are Unix milliseconds passed in by the caller, as the stores take them today.
 *
 * Phase 1: the storage layer exists; the server still uses the synchronous SQLite stores.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Identity } from "../services/identity-store.js";
import type { Account } from "../master/accounts/account-store.js";
import type { IssuedToken, TokenCheck } from "../master/accounts/token-store.js";
import type { Character, CreateResult, SelectedCharacter } from "../master/characters/character-store.js";
import type { WorldDocument, WriteResult } from "../master/world/world-store.js";
import type { VirtualNetwork } from "../services/virtual-network.js";

export type { Identity, Account, IssuedToken, TokenCheck, Character, CreateResult, SelectedCharacter, WorldDocument, WriteResult };

export interface IdentityStorage {
  /** The identity owning `secret` in `appKey`, created with a fresh, unique virtual IP the first time. */
  identify(appKey: string, secret: string): Promise<Identity>;
  /** The permanent identity (and virtual IP) of a master account, created the first time. */
  accountIdentity(appKey: string, accountId: number): Promise<Identity>;
  /** The permanent identity (and virtual IP) of a server-side endpoint such as a GameMaker bridge, created the first time. */
  serviceIdentity(appKey: string, name: string): Promise<Identity>;
}

export interface AccountStorage {
  /** A new account, or undefined when the name is taken in this app key (in any case). */
  create(appKey: string, username: string, passwordHash: string | null, now: number): Promise<Account | undefined>;
  findByName(appKey: string, username: string): Promise<Account | undefined>;
  findById(id: number): Promise<Account | undefined>;
  recordLogin(id: number, now: number): Promise<void>;
}

export interface TokenStorage {
  /** Issues a new random token valid until `now + ttlMs`; only its hash is stored. */
  issue(appKey: string, accountId: number, now: number, ttlMs: number): Promise<IssuedToken>;
  /** The account a token stands for in `appKey` at `now`, or why it does not (a malformed token is not looked up). */
  check(appKey: string, token: string, now: number): Promise<TokenCheck>;
  /** Revokes a token by its hash; nothing happens for an unknown one. */
  revoke(tokenHash: string): Promise<void>;
  /** Deletes the rows expired at `now` and the revoked ones; returns how many. */
  sweep(now: number): Promise<number>;
}

export interface CharacterStorage {
  /** A new character of the account (not selected), unless the account has `max` already or the name is taken in this app key (in any case). */
  create(appKey: string, accountId: number, name: string, attributesJson: string, now: number, max: number): Promise<CreateResult>;
  /** The account's characters, oldest first. */
  list(accountId: number): Promise<Character[]>;
  /** Selects one of the account's characters (and no other); undefined when the account has no such character. */
  select(accountId: number, characterId: number): Promise<Character | undefined>;
  /** Selects none of the account's characters. */
  deselect(accountId: number): Promise<void>;
  /** The account's selected character, if any. */
  selected(accountId: number): Promise<SelectedCharacter | undefined>;
  /** Deletes one of the account's characters; false when the account has no such character. */
  delete(accountId: number, characterId: number): Promise<boolean>;
}

export interface WorldStorage {
  get(appKey: string, name: string): Promise<WorldDocument | undefined>;
  /** The app key's documents, by name (code point order). */
  list(appKey: string): Promise<WorldDocument[]>;
  /**
   * Writes version `expectedVersion + 1` if the document's version is `expectedVersion` (0: it
   * does not exist, and the app key has fewer than `max` documents). Of two writers naming the
   * same version, exactly one succeeds.
   */
  write(appKey: string, name: string, valueJson: string, expectedVersion: number, now: number, by: string, max: number): Promise<WriteResult>;
}

export interface Storage {
  readonly kind: "sqlite" | "postgres";
  readonly identities: IdentityStorage;
  readonly accounts: AccountStorage;
  readonly tokens: TokenStorage;
  readonly characters: CharacterStorage;
  readonly world: WorldStorage;
  /** The schema version of the database (the highest migration applied). */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

/** What every storage needs besides where its database is. */
export interface StorageOptions {
  /** Virtual IPs are allocated in this range. */
  readonly network: VirtualNetwork;
  /** Uniform random in [0, 1); injected so tests can force collisions. */
  readonly random: () => number;
}

/** The synchronous twin of an async interface (what the SQLite code implements). */
export type Sync<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : T[K] };

/** Wraps a synchronous implementation so every call resolves, or rejects, on a promise (a throw never escapes synchronously). */
export function promised<T extends object>(target: Sync<T>): T {
  const out: Record<string, unknown> = {};
  let proto: object | null = target;
  while (proto !== null && proto !== Object.prototype) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const value = (target as Record<string, unknown>)[key];
      if (key === "constructor" || key in out || typeof value !== "function") continue;
      out[key] = (...args: unknown[]) => {
        try {
          return Promise.resolve((value as (...a: unknown[]) => unknown).apply(target, args));
        } catch (error) {
          return Promise.reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return out as T;
}

/** Bytes of a session token (PROTOCOL.md §16.3): 32 random bytes, base64url (43 characters). */
export const TOKEN_BYTES = 32;
/** What a token issue produces: 43 base64url characters, nothing else. */
export const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** The stored form of a token (and of an identity's secret): SHA-256, hex. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A new random session token and its hash. */
export function newToken(): { token: string; tokenHash: string } {
  const token = randomBytes(TOKEN_BYTES).toString("base64url");
  return { token, tokenHash: hashToken(token) };
}
