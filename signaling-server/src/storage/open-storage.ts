/**
 * Which storage the server runs on: PostgreSQL when `database` is set (--database,
 * GMNET_DATABASE_URL), else the SQLite file `db`. Opening applies the migrations the database
 * lacks. The server builds its services before the storage is open (server.ts), so they get a
 * storage whose every call first waits for the opening (storageWhenOpen); it listens only once the
 * opening succeeded, so in practice no call waits.
 */
import { openPostgresStorage } from "./postgres-storage.js";
import { openSqliteStorage } from "./sqlite-storage.js";
import type { Storage, StorageOptions } from "./storage.js";

export interface OpenStorageOptions extends StorageOptions {
  /** The SQLite file (or ":memory:") when `database` is undefined. */
  readonly db: string;
  /** A postgres:// URL, or undefined for SQLite. */
  readonly database: string | undefined;
  /** An idle pooled PostgreSQL connection failed (the pool replaces it). */
  readonly onError?: (error: Error) => void;
}

export function openStorage(options: OpenStorageOptions): Promise<Storage> {
  const { db, database, onError, ...common } = options;
  if (database !== undefined) return openPostgresStorage({ ...common, url: database, onError });
  return openSqliteStorage({ ...common, path: db });
}

const PARTS = ["identities", "accounts", "tokens", "characters", "world"] as const;

/** A storage whose calls wait for `opening` (and reject as it does); close() closes it once open. */
export function storageWhenOpen(opening: Promise<Storage>, kind: Storage["kind"]): Storage {
  // Nobody may be waiting yet: an opening that fails is reported by whoever awaits `opening`.
  opening.catch(() => undefined);
  const part = (name: (typeof PARTS)[number]): object =>
    new Proxy(
      {},
      {
        // Not thenable: awaiting a part itself must not call into it.
        get: (_target, method) =>
          method === "then"
            ? undefined
            : async (...args: unknown[]): Promise<unknown> => {
            const storage = await opening;
            const target = storage[name] as unknown as Record<string | symbol, (...a: unknown[]) => Promise<unknown>>;
            return target[method]!.apply(target, args);
          },
      },
    );
  const parts = Object.fromEntries(PARTS.map((name) => [name, part(name)])) as Pick<Storage, (typeof PARTS)[number]>;
  return {
    kind,
    ...parts,
    schemaVersion: async () => (await opening).schemaVersion(),
    close: () => opening.then((storage) => storage.close(), () => undefined),
  };
}
