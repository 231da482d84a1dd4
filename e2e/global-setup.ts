/**
 * Builds the playground for production (the root vite.config.ts, into a fresh temporary folder)
 * and serves it the way `npm start` does: from the real signaling server (@gmnet/signaling-server,
 * its dist build) with `staticDir` set to that folder, on a port the OS picks, so parallel runs
 * never collide. The pages, /ws, /healthz, /metrics and /api are all at that one origin, and
 * ws://<page host>/ws is the engine's default signaling URL. Returns the teardown that stops the
 * server and removes the build.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type GmnetServer, createServer } from "@gmnet/signaling-server";
import { build } from "vite";
import { BASE_URL_ENV } from "./env.js";

const configFile = fileURLToPath(new URL("../vite.config.ts", import.meta.url));

export default async function globalSetup(): Promise<() => Promise<void>> {
  let server: GmnetServer | undefined;
  let outDir: string | undefined;
  const teardown = async (): Promise<void> => {
    await server?.close();
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
  };
  try {
    outDir = await mkdtemp(join(tmpdir(), "gmnet-e2e-"));
    // Built before the server starts: it lists staticDir once, at startup.
    await build({ configFile, logLevel: "warn", build: { outDir, emptyOutDir: true } });
    server = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent", staticDir: outDir });
    await server.ready;
    process.env[BASE_URL_ENV] = `${server.address().url}/`;
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}
