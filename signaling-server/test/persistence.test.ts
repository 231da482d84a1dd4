/**
 * Identities survive restarts and crashes, and the CLI drains on SIGTERM. The child-process
 * tests run the built CLI (signaling-server/dist, built by `npm ci` and `npm run test:unit`);
 * they build nothing themselves.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Channel, CloseCode, ControlType, Drain } from "@gmnet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectIdentitiesSurviveRestart } from "./support/identities-survive.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { startServer } from "./support/harness.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gmnet-persist-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("identity store", () => {
  it("gives an identity the same virtual IP after close() and a new server on the same file", async () => {
    const db = join(dir, "restart.sqlite");
    await expectIdentitiesSurviveRestart(() => startServer({ db }));
  });
});

interface Child {
  readonly process: ChildProcess;
  readonly wsUrl: string;
  readonly url: string;
  readonly stdout: string[];
  /** Resolves with [exit code, signal]. */
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** The environment without PORT and GMNET_* variables, which the CLI reads. */
const cleanEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== "PORT" && !key.startsWith("GMNET_")));

/** Runs the built CLI and resolves once it logs the URL it listens on (port 0 picks a free one). */
function startCli(args: string[]): Promise<Child> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: the server is built by \`npm ci\` (prepare) and \`npm run test:unit\``);
  const env = cleanEnv();
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  let stderr = "";
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("exit", (code, signal) => resolve([code, signal])));
  return new Promise((resolve, reject) => {
    let pending = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        stdout.push(line);
        let entry: { msg?: string; url?: string } = {};
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          continue; // not a log line
        }
        if (entry.msg === "gmnet server listening" && entry.url) {
          resolve({ process: child, url: entry.url, wsUrl: entry.url.replace(/^http/, "ws") + "/ws", stdout, exited });
        }
      }
    });
    void exited.then(([code, signal]) => reject(new Error(`gmnet-server exited (${code ?? signal}) before listening: ${stderr}`)));
  });
}

describe("gmnet-server CLI", () => {
  it("keeps identities across kill -9", async () => {
    const db = join(dir, "crash.sqlite");
    const args = ["--port", "0", "--host", "127.0.0.1", "--db", db, "--log-level", "info"];
    const first = await startCli(args);
    const client = await ProtocolClient.connect(first.wsUrl, { appKey: "crash" });
    const neighbour = await ProtocolClient.connect(first.wsUrl, { appKey: "crash" });

    first.process.kill("SIGKILL");
    expect(await first.exited).toEqual([null, "SIGKILL"]);
    expect(await client.closed()).toBe(1006);

    const second = await startCli(args);
    try {
      const again = await ProtocolClient.connect(second.wsUrl, { appKey: "crash", secret: client.secret });
      const neighbourAgain = await ProtocolClient.connect(second.wsUrl, { appKey: "crash", secret: neighbour.secret });
      expect(again.welcome.virtualIp).toBe(client.welcome.virtualIp);
      expect(neighbourAgain.welcome.virtualIp).toBe(neighbour.welcome.virtualIp);
    } finally {
      second.process.kill("SIGTERM");
      expect((await second.exited)[0]).toBe(0);
    }
  });

  it("drains on SIGTERM: DRAIN, close code 4000, exit code 0", async () => {
    const child = await startCli(["--port", "0", "--host", "127.0.0.1", "--db", join(dir, "drain.sqlite"), "--log-level", "info", "--drain-retry-after", "750"]);
    const client = await ProtocolClient.connect(child.wsUrl);
    child.process.kill("SIGTERM");
    expect(await client.nextMessage(Channel.CONTROL, ControlType.DRAIN, Drain)).toEqual({ retryAfterMs: 750 });
    expect(await client.closed()).toBe(CloseCode.SERVER_SHUTDOWN);
    expect(await child.exited).toEqual([0, null]);
    expect(child.stdout.some((line) => line.includes("gmnet server stopped"))).toBe(true);
  });

  it("exits 2 with a clear message on a bad option", async () => {
    const run = async (args: string[]): Promise<[number | null, string]> => {
      const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      return [code, stderr];
    };
    const results = await Promise.all([["--port", "http"], ["--no-such-flag", "1"], ["--tls-cert", "x.pem"]].map(run));
    for (const [code, stderr] of results) {
      expect(code).toBe(2);
      expect(stderr).toMatch(/^gmnet-server: .*\n/);
    }
  });
});
