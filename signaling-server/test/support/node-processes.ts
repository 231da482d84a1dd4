/**
 * gmnet nodes as child processes, and a round-robin TCP balancer in front of them: what
 * `npm run cluster` runs, and what a fault test needs to `kill -9` a node (a node in the test's
 * own process cannot be killed without killing the test).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { type Server, type Socket, connect, createServer } from "node:net";
import { freePort } from "./free-port.js";

export interface NodeProcess {
  readonly id: number;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
}

export interface SpawnNodeOptions {
  readonly id: number;
  readonly redisUrl: string;
  readonly databaseUrl: string;
  /** The script node runs and its arguments (scripts/start.mjs, or signaling-server/dist/cli.js with flags). */
  readonly args: readonly string[];
  /** More environment for the node (over this process's, under the node's own settings). */
  readonly env?: Readonly<Record<string, string>>;
  /** Its own process group, so a terminal's Ctrl-C reaches the parent only (npm run cluster). */
  readonly detached?: boolean;
  /** Where its output goes, line by line; unset: discarded. */
  readonly output?: (line: string, stream: "stdout" | "stderr") => void;
  /** How long it may take to answer /healthz (default 30 s). */
  readonly startTimeoutMs?: number;
}

/** Starts a node on a free port of 127.0.0.1 and resolves once its /healthz answers 200. */
export async function spawnNode(options: SpawnNodeOptions): Promise<NodeProcess> {
  const port = await freePort();
  const env = {
    GMNET_LOG_LEVEL: "warn",
    ...process.env,
    ...options.env,
    PORT: String(port),
    GMNET_HOST: "127.0.0.1",
    GMNET_NODE_ID: String(options.id),
    GMNET_REDIS_URL: options.redisUrl,
    GMNET_DATABASE_URL: options.databaseUrl,
  };
  const child = spawn(process.execPath, [...options.args], { env, detached: options.detached ?? false, stdio: ["ignore", "pipe", "pipe"] });
  for (const name of ["stdout", "stderr"] as const) eachLine(child[name]!, (line) => options.output?.(line, name));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code ?? 0)));
  const node: NodeProcess = { id: options.id, port, url: `http://127.0.0.1:${port}`, child, exited };
  try {
    await untilHealthy(node, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return node;
}

/** Calls `line` for each line of `stream`. */
function eachLine(stream: NodeJS.ReadableStream, line: (text: string) => void): void {
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    for (const text of lines) line(text);
  });
  stream.on("end", () => pending !== "" && line(pending));
}

/** Polls the node's /healthz until it answers 200; fails when the process exits or time runs out. */
async function untilHealthy(node: NodeProcess, timeoutMs: number): Promise<void> {
  let gone: number | string | undefined;
  void node.exited.then((code) => (gone = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone !== undefined) throw new Error(`node ${node.id} exited (${gone}) while starting`);
    const ok = await fetch(`${node.url}/healthz`).then((response) => response.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`node ${node.id} did not answer ${node.url}/healthz within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether the process has exited or was killed. */
export const hasExited = (node: NodeProcess): boolean => node.child.exitCode !== null || node.child.signalCode !== null;

/**
 * A round-robin TCP balancer over `nodes()` (read per connection): a node that refuses the
 * connection (killed) is skipped for the next one, as a balancer's passive health check does.
 * Bytes pass as they are, so WebSocket upgrades work. It hands out nothing until `nodes()` has some.
 */
export function createBalancer(nodes: () => readonly { readonly port: number }[]): Server {
  let turn = 0;
  return createServer((client) => {
    const pool = nodes();
    if (pool.length === 0) return void client.destroy();
    client.pause();
    client.on("error", () => undefined);
    const tryNode = (tries: number): void => {
      const node = pool[turn++ % pool.length]!;
      const upstream: Socket = connect(node.port, "127.0.0.1");
      const refused = (): void => (tries > 1 ? tryNode(tries - 1) : void client.destroy());
      upstream.once("error", refused);
      upstream.once("connect", () => {
        upstream.off("error", refused);
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    tryNode(pool.length);
  });
}
