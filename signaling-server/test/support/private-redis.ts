/**
 * A private Redis for tests: redis-server on a free port (never 6379, never a shared instance),
 * listening on 127.0.0.1 only, with persistence off (`--save "" --appendonly no`) and its working
 * folder a fresh temp folder. stop() shuts it down (SHUTDOWN NOSAVE, else a kill) and deletes the
 * folder; an exit hook does the same if the test process ends without calling it. restart() starts
 * it again on the same port and folder, with its keys (a snapshot saved on shutdown) or without.
 *
 * The binary: GMNET_REDIS_SERVER, else redis-server on the PATH. scripts/ensure-redis.sh installs
 * it (`npm run test:unit` runs it first).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Redis } from "ioredis";
import { isExecutableFile, startOnFreePort, startPrivateService } from "./private-service.js";

export interface PrivateRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Milliseconds from spawning redis-server to its first PONG. */
  readonly startMs: number;
  /** Runs one command on a client of the test's own (what a test checks or plants in Redis). */
  call(command: string, ...args: Array<string | number>): Promise<unknown>;
  /**
   * Shuts redis-server down and starts it again on the same port and folder. `keepData`: saved
   * on shutdown (SHUTDOWN SAVE) and loaded again, as a Redis with persistence; else every key is
   * lost, as a Redis without it. `whileDown` runs between the two (the outage a test observes).
   */
  restart(options?: { keepData?: boolean; whileDown?: () => Promise<void> }): Promise<void>;
  stop(): Promise<void>;
}

/** The redis-server binary, or a readable error. */
export function findRedisServer(): string {
  const fromEnv = process.env.GMNET_REDIS_SERVER;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!isExecutableFile(fromEnv)) throw new Error(`GMNET_REDIS_SERVER=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const candidate = join(dir, "redis-server");
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new Error("redis-server was not found; run `bash scripts/ensure-redis.sh` (npm run test:unit does) or set GMNET_REDIS_SERVER");
}

/** Shuts `child` down (SHUTDOWN SAVE or NOSAVE, else a kill) and waits for it to exit. */
async function shutdown(port: number, child: ChildProcess, save: boolean): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const admin = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  admin.on("error", () => undefined);
  try {
    await admin.connect();
    // The server closes the connection instead of answering.
    await admin.call("SHUTDOWN", save ? "SAVE" : "NOSAVE").catch(() => undefined);
  } catch {
    child.kill("SIGKILL");
  } finally {
    admin.disconnect();
  }
  const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(kill);
}

/** Resolves at the first PONG; rejects if redis-server exits first. */
async function waitForPing(port: number, child: ChildProcess, output: () => string): Promise<void> {
  let exited: string | undefined;
  const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    exited = `redis-server exited (${signal ?? code}):\n${output().trim()}`;
  };
  child.once("exit", onExit);
  try {
    for (;;) {
      if (exited !== undefined) throw new Error(exited);
      const probe = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        if ((await probe.ping()) === "PONG") return;
      } catch {
        // Not listening yet: redis-server logs "Ready to accept connections" when it is; wait for more output.
        await new Promise<void>((resolve) => {
          const done = (): void => {
            child.stdout?.off("data", done);
            child.off("exit", done);
            clearTimeout(timer);
            resolve();
          };
          // A fallback in case the output came before we listened: try again in a moment.
          const timer = setTimeout(done, 50);
          child.stdout?.once("data", done);
          child.once("exit", done);
        });
      } finally {
        probe.disconnect();
      }
    }
  } finally {
    child.off("exit", onExit);
  }
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const started = performance.now();
  const binary = findRedisServer();
  let child: ChildProcess | undefined;
  return startPrivateService(tmpdir(), "gmnet-redis-", () => child?.kill("SIGKILL"), async (dir, stopping) => {
    let output = "";
    const spawnOnPort = (port: number): ChildProcess => {
      const spawned = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
      spawned.stdout!.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
      spawned.stderr!.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
      return spawned;
    };
    const { port, started: first } = await startOnFreePort(async (candidate) => {
      output = "";
      const spawned = (child = spawnOnPort(candidate));
      try {
        await waitForPing(candidate, spawned, () => output);
      } catch (error) {
        spawned.kill("SIGKILL");
        throw error;
      }
      return spawned;
    });
    const startMs = performance.now() - started;
    let process_ = first;
    let stopped = false;
    let client: Redis | undefined;
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      dir,
      startMs,
      call(command, ...args) {
        if (stopped) return Promise.reject(new Error("the private Redis was stopped"));
        if (client === undefined) {
          client = new Redis({ host: "127.0.0.1", port });
          // It reconnects by itself after restart(); meanwhile its commands wait.
          client.on("error", () => undefined);
        }
        return client.call(command, ...args);
      },
      async restart(options = {}) {
        if (stopped) throw new Error("the private Redis was stopped");
        await shutdown(port, process_, options.keepData === true);
        // A snapshot an earlier restart saved would bring old keys back.
        if (options.keepData !== true) rmSync(join(dir, "dump.rdb"), { force: true });
        await options.whileDown?.();
        // The same port: nothing else should take it in the moment between (a free port picked at random).
        child = process_ = spawnOnPort(port);
        await waitForPing(port, process_, () => output);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        stopping();
        client?.disconnect();
        await shutdown(port, process_, false);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
