/**
 * A private PostgreSQL for one test file (support/private-postgres.ts): usePrivatePostgres()
 * starts it before the file's tests and stops it after them, and gives each test that asks a
 * fresh database of its own.
 */
import { afterAll, beforeAll } from "vitest";
import { type PrivatePostgres, startPrivatePostgres } from "./private-postgres.js";

export interface TestPostgres {
  /** The running server (after beforeAll). */
  readonly server: PrivatePostgres;
  /** Creates a new database and resolves with its postgres:// URL. */
  freshDatabase(): Promise<string>;
}

/** `prefix`: the databases' names are `<prefix>_1`, `<prefix>_2`, … */
export function usePrivatePostgres(prefix: string): TestPostgres {
  let server: PrivatePostgres | undefined;
  let databases = 0;
  // initdb and the start take seconds on a busy machine, more than a hook's default limit.
  beforeAll(async () => {
    server = await startPrivatePostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);
  const started = (): PrivatePostgres => {
    if (server === undefined) throw new Error("the private PostgreSQL did not start");
    return server;
  };
  return {
    get server() {
      return started();
    },
    freshDatabase: () => started().createDatabase(`${prefix}_${++databases}`),
  };
}
