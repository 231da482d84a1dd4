/**
 * Identities and their virtual IPs, kept in SQLite so an identity gets the same address across
 * reconnects, server restarts and crashes. A client proves its identity with a secret only it
 * keeps; the server stores a SHA-256 of it (the secret is random and long, so a slow password
 * hash would add nothing).
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
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

/** Random probes before falling back to a scan for a free address. */
const RANDOM_PROBES = 32;

export function openIdentityStore(options: IdentityStoreOptions): IdentityStore {
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  // WAL: a committed row is in the log before commit returns, so kill -9 cannot lose it.
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`
    CREATE TABLE IF NOT EXISTS identities (
      id          INTEGER PRIMARY KEY,
      app_key     TEXT    NOT NULL,
      secret_hash TEXT    NOT NULL,
      virtual_ip  INTEGER NOT NULL UNIQUE,
      created_at  INTEGER NOT NULL,
      last_seen   INTEGER NOT NULL,
      UNIQUE (app_key, secret_hash)
    )`);
  const find = db.prepare<[string, string], { id: number; virtual_ip: number }>("SELECT id, virtual_ip FROM identities WHERE app_key = ? AND secret_hash = ?");
  const touch = db.prepare<[number, number]>("UPDATE identities SET last_seen = ? WHERE id = ?");
  const taken = db.prepare<[number], { one: number }>("SELECT 1 AS one FROM identities WHERE virtual_ip = ?");
  const insert = db.prepare<[string, string, number, number, number]>(
    "INSERT INTO identities (app_key, secret_hash, virtual_ip, created_at, last_seen) VALUES (?, ?, ?, ?, ?)",
  );
  const highest = db.prepare<[number, number], { ip: number | null }>("SELECT MAX(virtual_ip) AS ip FROM identities WHERE virtual_ip BETWEEN ? AND ?");
  const { network, random } = options;

  const freeAddress = (): number => {
    for (let probe = 0; probe < RANDOM_PROBES; probe++) {
      const ip = network.at(Math.floor(random() * network.size));
      if (taken.get(ip) === undefined) return ip;
    }
    // A crowded range: take the next address after the highest in use, then scan from the start.
    const top = highest.get(network.first, network.last)?.ip ?? network.first - 1;
    if (top < network.last) return top + 1;
    for (let ip = network.first; ip <= network.last; ip++) if (taken.get(ip) === undefined) return ip;
    throw new Error("the virtual network has no free address left; configure a larger --virtual-network");
  };

  const identify = db.transaction((appKey: string, secret: string): Identity => identifyHash(appKey, createHash("sha256").update(secret).digest("hex")));

  const identifyHash = (appKey: string, hash: string): Identity => {
    const now = Date.now();
    const existing = find.get(appKey, hash);
    if (existing) {
      touch.run(now, existing.id);
      return { identityId: existing.id, virtualIp: existing.virtual_ip };
    }
    const virtualIp = freeAddress();
    const result = insert.run(appKey, hash, virtualIp, now, now);
    return { identityId: Number(result.lastInsertRowid), virtualIp };
  };

  // An account's row uses "account:<id>" in place of a hash: never 64 hex digits, so no client
  // secret can ever hash to it, and the address stays the account's across devices and restarts.
  const accountIdentity = db.transaction((appKey: string, accountId: number): Identity => identifyHash(appKey, `account:${accountId}`));

  // Likewise "service:<name>": no client secret can claim a bridge's address.
  const serviceIdentity = db.transaction((appKey: string, name: string): Identity => identifyHash(appKey, `service:${name}`));

  return {
    identify: (appKey, secret) => identify.immediate(appKey, secret),
    serviceIdentity: (appKey, name) => serviceIdentity.immediate(appKey, name),
    accountIdentity: (appKey, accountId) => accountIdentity.immediate(appKey, accountId),
    db,
    close: () => db.close(),
  };
}
