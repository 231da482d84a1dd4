/**
 * The server under test in a child process of its own (relay.bench.ts, cluster.bench.ts), so its
 * CPU time excludes the clients: the child's side (serveChild: a bare `ws` forwarder or gmnet, and
 * an optional CPU profile of the measured time) and the parent's handle on it (ServerChild).
 */
import { type ChildProcess, fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Session as InspectorSession } from "node:inspector";
import { type WebSocket, WebSocketServer } from "ws";
import type { ServerKind, ServerOverrides } from "./config.js";

export type ToChild = { type: "cpu" } | { type: "exit" };
export type FromChild = { type: "ready"; url: string } | { type: "cpu"; micros: number } | { type: "failed"; message: string };

/**
 * Runs in the child: starts the server (defaults plus `overrides`) and answers the parent's IPC
 * requests. With `profilePath`, the V8 CPU profiler runs from the first CPU reading to the second
 * (exactly the measured time) and the profile is written there (.cpuprofile, for Chrome DevTools).
 */
export async function serveChild(kind: ServerKind, overrides: ServerOverrides, profilePath?: string): Promise<void> {
  const send = (message: FromChild): void => {
    process.send?.(message);
  };
  process.on("disconnect", () => process.exit(0));
  let url: string;
  try {
    url = kind === "bare" ? await startBareServer() : await startGmnetServer(overrides);
  } catch (error) {
    send({ type: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  }
  const profiler = profilePath === undefined ? undefined : new MeasuredProfile(profilePath);
  process.on("message", (message: ToChild) => {
    if (message.type === "cpu") {
      const usage = process.cpuUsage();
      send({ type: "cpu", micros: usage.user + usage.system });
      profiler?.next();
    } else if (message.type === "exit") void (profiler?.written ?? Promise.resolve()).then(() => process.exit(0));
  });
  send({ type: "ready", url });
}

/** The CPU profile of the measured time: started by the first call of next(), stopped and written by the second. */
export class MeasuredProfile {
  private readonly session = new InspectorSession();
  private calls = 0;
  written: Promise<void> | undefined;

  constructor(private readonly path: string) {
    this.session.connect();
    this.session.post("Profiler.enable");
    this.session.post("Profiler.setSamplingInterval", { interval: 200 });
  }

  next(): void {
    const call = ++this.calls;
    if (call === 1) this.session.post("Profiler.start");
    else if (call === 2) {
      this.written = new Promise((resolve) =>
        this.session.post("Profiler.stop", (error, result) => {
          if (error === null) writeFileSync(this.path, JSON.stringify(result.profile));
          else console.error(`relay benchmark: the server's CPU profile failed: ${error.message}`);
          resolve();
        }),
      );
    }
  }
}

/** The baseline: a WebSocketServer that forwards every message from a pair's A to its B, nothing more. */
export async function startBareServer(): Promise<string> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: 1024 * 1024 });
  const pairs = new Map<string, { b?: WebSocket }>();
  wss.on("connection", (ws, req) => {
    ws.on("error", () => undefined);
    const query = new URL(req.url ?? "/", "http://localhost").searchParams;
    const id = query.get("pair") ?? "";
    let pair = pairs.get(id);
    if (pair === undefined) pairs.set(id, (pair = {}));
    const entry = pair;
    if (query.get("role") === "b") entry.b = ws;
    else ws.on("message", (data: Buffer, isBinary) => entry.b?.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  const address = wss.address();
  if (address === null || typeof address === "string") throw new Error("the forwarding server has no TCP address");
  return `ws://127.0.0.1:${address.port}/`;
}

/** gmnet from source (tsx): its defaults (rate limit included), plus the configuration's overrides. */
export async function startGmnetServer(overrides: ServerOverrides): Promise<string> {
  const { createServer } = await import("../../src/index.js");
  const server = createServer({ ...overrides, host: "127.0.0.1", port: 0, db: ":memory:", logLevel: "silent" });
  await server.ready;
  return server.address().wsUrl;
}

/** The parent's handle on a server child. */
export class ServerChild {
  private readonly replies: Array<(message: FromChild) => void> = [];
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.on("message", (message: FromChild) => this.replies.shift()?.(message));
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  static start(script: string, kind: ServerKind, overrides: ServerOverrides, profilePath: string | undefined): Promise<ServerChild> {
    // Same node flags as this process (--import tsx), stdout/stderr shared so crashes are visible.
    const args = ["--serve", kind, "--overrides", JSON.stringify(overrides), ...(profilePath === undefined ? [] : ["--profile", profilePath])];
    const child = fork(script, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`${kind} server did not start within 30 s`));
      }, 30_000);
      child.once("exit", (code) => reject(new Error(`${kind} server exited with ${code} before it was ready`)));
      child.once("message", (message: FromChild) => {
        clearTimeout(timer);
        if (message.type === "ready") resolve(new ServerChild(child, message.url));
        else reject(new Error(`${kind} server failed to start: ${message.type === "failed" ? message.message : message.type}`));
      });
    });
  }

  /** The child's user+system CPU time so far, in microseconds. */
  cpuMicros(): Promise<number> {
    return new Promise((resolve) => {
      this.replies.push((message) => resolve(message.type === "cpu" ? message.micros : NaN));
      this.child.send({ type: "cpu" } satisfies ToChild);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) this.child.send({ type: "exit" } satisfies ToChild);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
