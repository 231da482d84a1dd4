/**
 * The server's durable state behind one asynchronous interface with two implementations: SQLite
 * (embedded, the default; sqlite-storage.ts) and PostgreSQL (shared by several server processes;
 * postgres-storage.ts). Both pass the same conformance suite (test/storage/). The server opens one
 * (server.ts: PostgreSQL when config.database is set, else SQLite at config.db) and every service
 * reaches it through ServerContext.storage.
 *
 * The parts: identities and virtual IPs, accounts, session token rows (token generation is here,
 * the sweeper timer in master/accounts/token-store.ts), characters and world documents. Times are
 * Unix milliseconds passed in by the caller.
 */
import { createHash, randomBytes } from "node:crypto";
import type { VirtualNetwork } from "../services/virtual-network.js";

/** An identity and its virtual IP: a client's (proven by its secret), an account's or a server-side endpoint's. */
export interface Identity {
  readonly identityId: number;
  readonly virtualIp: number;
}

/** A master account (PROTOCOL.md §16.3): user names unique per app key compared case-insensitively. */
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

export type TokenProblem = "token_invalid" | "token_expired";

export interface IssuedToken {
  readonly token: string;
  readonly tokenHash: string;
  /** Unix time in ms. */
  readonly expiresAt: number;
}

export type TokenCheck = { readonly accountId: number; readonly tokenHash: string; readonly expiresAt: number } | { readonly problem: TokenProblem };

/** A character (PROTOCOL.md §16.9): names unique per app key (any case); at most one selected per account. */
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

/** A world document (PROTOCOL.md §16.10): a JSON object whose version starts at 1 and grows by one per write. */
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
