/**
 * Identities and their virtual IPs, kept in SQLite so an identity gets the same address across
 * reconnects, server restarts and crashes. A client proves its identity with a secret only it
 * keeps; the server stores a SHA-256 of it (the secret is random and long, so a slow password
 * hash would add nothing). The SQL is in storage/sqlite-storage.ts.
 */
import type Database from "better-sqlite3";
import { SqliteIdentities, openSqliteDatabase } from "../storage/sqlite-storage.js";
import type { VirtualNetwork } from "./virtual-network.js";

export interface Identity {
  readonly identityId: number;
  readonly virtualIp: number;
}

export interface IdentityStore {
  /** The identity owning `secret` in `appKey`, created with a fresh virtual IP the first time. */
  identify(appKey: string, secret: string): Identity;
  /** The permanent identity (and virtual IP) of a master account, created the first time. */
  accountIdentity(appKey: string, accountId: number): Identity;
  /** The permanent identity (and virtual IP) of a server-side endpoint such as a GameMaker bridge, created the first time. */
  serviceIdentity(appKey: string, name: string): Identity;
  /** The database, shared with the master services' tables. */
  readonly db: Database.Database;
  close(): void;
}

export interface IdentityStoreOptions {
  /** File path, or ":memory:". */
  path: string;
  network: VirtualNetwork;
  /** Uniform random in [0, 1); injected so tests can force collisions. */
  random: () => number;
}

/** Opens the database (applying its migrations, storage/migrations.ts) and the identities in it. */
export function openIdentityStore(options: IdentityStoreOptions): IdentityStore {
  const db = openSqliteDatabase(options.path);
  const identities = new SqliteIdentities(db, options.network, options.random);
  return {
    identify: (appKey, secret) => identities.identify(appKey, secret),
    serviceIdentity: (appKey, name) => identities.serviceIdentity(appKey, name),
    accountIdentity: (appKey, accountId) => identities.accountIdentity(appKey, accountId),
    db,
    close: () => db.close(),
  };
}
