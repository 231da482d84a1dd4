/**
 * A private PostgreSQL server for tests: initdb into a fresh temp folder, postgres on a free port
 * (never 5432, never a shared instance) listening on 127.0.0.1 with its unix socket in that folder,
 * trust authentication, durability off (a throwaway cluster). stop() shuts it down and deletes the
 * folder; an exit hook does the same if the test process ends without calling it. halt() and start()
 * take it down and bring it back on the same port and data (a database outage).
 *
 * postgres refuses to run as root: under root (CI) initdb and postgres run as an unprivileged user,
 * GMNET_POSTGRES_USER, else `nobody`, else a system user `gmnet-postgres` created with useradd, and
 * the temp folder is that user's.
 *
 * The binaries: GMNET_POSTGRES_BIN, else initdb on the PATH (with pg_ctl next to the file it links to),
 * else the newest /usr/lib/postgresql/<version>/bin (Debian). scripts/ensure-postgres.sh installs them
 * (`npm run test:unit` runs it first).
 */
import { type SpawnOptions, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, parse } from "node:path";
import pg from "pg";
import { isExecutableFile, startOnFreePort, startPrivateService } from "./private-service.js";

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The user postgres runs as. */
  readonly user: string;
  /** Milliseconds initdb and the start took. */
  readonly startMs: number;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Shuts postgres down (fast: connections are ended) and keeps its data folder, for start() (an outage in a test). */
  halt(): Promise<void>;
  /** Starts postgres again after halt(), on the same port and data. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Runs one statement on `url` over a connection of its own (not a server's pool); resolves with its rows. */
export async function queryOnce<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** The folder with initdb, pg_ctl and postgres, or a readable error. */
export function findPostgresBin(): string {
  const fromEnv = process.env.GMNET_POSTGRES_BIN;
  const complete = (dir: string): boolean => ["initdb", "pg_ctl", "postgres"].every((tool) => isExecutableFile(join(dir, tool)));
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!complete(fromEnv)) throw new Error(`GMNET_POSTGRES_BIN=${fromEnv} lacks initdb, pg_ctl or postgres`);
    return fromEnv;
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const initdb = join(dir, "initdb");
    if (!isExecutableFile(initdb)) continue;
    // /usr/local/bin/initdb → /usr/lib/postgresql/15/bin/initdb: pg_ctl and postgres are next to the target.
    const real = dirname(realpathSync(initdb));
    if (complete(real)) return real;
    if (complete(dir)) return dir;
  }
  const debian = "/usr/lib/postgresql";
  const versions = existsSync(debian) ? readdirSync(debian).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) if (complete(join(debian, version, "bin"))) return join(debian, version, "bin");
  throw new Error("PostgreSQL's initdb, pg_ctl and postgres were not found; run `bash scripts/ensure-postgres.sh` (npm run test:unit does) or set GMNET_POSTGRES_BIN");
}

interface RunAs {
  readonly name: string;
  readonly uid?: number;
  readonly gid?: number;
}

/** Who runs postgres: ourselves, or an unprivileged user when we are root. */
function postgresUser(): RunAs {
  if (process.getuid?.() !== 0) return { name: process.env.USER ?? "current user" };
  const wanted = process.env.GMNET_POSTGRES_USER;
  const candidates = wanted !== undefined && wanted !== "" ? [wanted] : ["nobody", "gmnet-postgres"];
  for (const name of candidates) {
    const found = lookupUser(name);
    if (found !== undefined && found.uid !== 0) return found;
  }
  if (wanted !== undefined && wanted !== "") throw new Error(`GMNET_POSTGRES_USER=${wanted}: no such unprivileged user`);
  execFileSync("useradd", ["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "gmnet-postgres"], { stdio: "pipe" });
  const created = lookupUser("gmnet-postgres");
  if (created === undefined) throw new Error("useradd gmnet-postgres did not create the user");
  return created;
}

function lookupUser(name: string): RunAs | undefined {
  let passwd: string;
  try {
    passwd = execFileSync("getent", ["passwd", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    try {
      passwd = readFileSync("/etc/passwd", "utf8").split("\n").find((line) => line.startsWith(`${name}:`)) ?? "";
    } catch {
      return undefined;
    }
  }
  const fields = passwd.trim().split(":");
  if (fields.length < 4 || fields[0] !== name) return undefined;
  return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** A temp root the unprivileged user can reach (every ancestor searchable by others), else /tmp. */
function reachableTmp(runAs: RunAs): string {
  if (runAs.uid === undefined) return tmpdir();
  let dir = realpathSync(tmpdir());
  const root = parse(dir).root;
  let ok = true;
  for (let at = dir; ; at = dirname(at)) {
    if ((statSync(at).mode & 0o001) === 0) ok = false;
    if (at === root) break;
  }
  if (!ok) dir = "/tmp";
  return dir;
}


function run(command: string, args: readonly string[], runAs: RunAs, cwd: string): Promise<void> {
  const options: SpawnOptions = {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C", TZ: "UTC" },
  };
  // libuv drops the supplementary groups along with uid and gid.
  if (runAs.uid !== undefined) Object.assign(options, { uid: runAs.uid, gid: runAs.gid });
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, options);
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} (as ${runAs.name}) failed (${signal ?? code}):\n${output.trim()}`));
    });
  });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const started = performance.now();
  const bin = findPostgresBin();
  const runAs = postgresUser();
  const pgCtl = join(bin, "pg_ctl");
  const killSync = (dir: string): void => {
    try {
      execFileSync(pgCtl, ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"], { cwd: dir, stdio: "ignore", ...(runAs.uid === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }) });
    } catch {
      // Not running (any more).
    }
  };
  return startPrivateService(reachableTmp(runAs), "gmnet-pg-", killSync, async (dir, stopping) => {
    const data = join(dir, "data");
    const log = join(dir, "postgres.log");
    if (runAs.uid !== undefined) chownSync(dir, runAs.uid, runAs.gid!);
    await run(join(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], runAs, dir);
    const options = (port: number): string => `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100`;
    const startPostgres = (port: number): Promise<void> => run(pgCtl, ["-D", data, "-l", log, "-o", options(port), "-w", "-t", "60", "start"], runAs, dir);
    let port: number;
    try {
      ({ port } = await startOnFreePort(startPostgres));
    } catch (error) {
      let tail = "";
      try {
        tail = readFileSync(log, "utf8").slice(-2000);
      } catch {
        // No log.
      }
      throw new Error(`${(error as Error).message}\n${tail}`, { cause: error });
    }
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const startMs = performance.now() - started;
    let stopped = false;
    /** postgres is running (not halted). */
    let up = true;
    return {
      url,
      port,
      dir,
      user: runAs.name,
      startMs,
      async createDatabase(name) {
        if (!DATABASE_NAME.test(name)) throw new Error(`database name ${JSON.stringify(name)}: lower-case letters, digits and _`);
        await queryOnce(url, `CREATE DATABASE ${name}`);
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      async halt() {
        if (stopped) throw new Error("the private PostgreSQL was stopped");
        await run(pgCtl, ["-D", data, "-m", "fast", "-w", "stop"], runAs, dir);
        up = false;
      },
      async start() {
        if (stopped) throw new Error("the private PostgreSQL was stopped");
        await startPostgres(port);
        up = true;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        stopping();
        try {
          if (up) await run(pgCtl, ["-D", data, "-m", "fast", "-w", "stop"], runAs, dir);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  });
}
