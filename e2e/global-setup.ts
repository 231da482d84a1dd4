/**
 * Builds the playground for production (the root vite.config.ts, into a fresh temporary folder),
 * with the docs site in its docs/ folder (scripts/build-docs.mjs: VitePress, in a child process
 * while Vite builds), and serves it the way `npm start` does: from the real signaling server
 * (@gmnet/signaling-server, its dist build) with `staticDir` set to that folder, on a port the OS
 * picks, so parallel runs never collide. The pages, /ws, /healthz, /metrics and /api are all at that one origin, and
 * ws://<page host>/ws is the engine's default signaling URL. The server has an MCP endpoint at /mcp
 * for the pages' app key, with a random token per run (MCP_TOKEN_ENV). Returns the teardown that
 * stops the server and removes the build.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type GmnetServer, createServer } from "@gmnet/signaling-server";
import { build } from "vite";
import { BASE_URL_ENV, MCP_APP_KEY, MCP_TOKEN_ENV, STATIC_DIR_ENV } from "./env.js";

const configFile = fileURLToPath(new URL("../vite.config.ts", import.meta.url));
const buildDocs = fileURLToPath(new URL("../scripts/build-docs.mjs", import.meta.url));

export default async function globalSetup(): Promise<() => Promise<void>> {
  let server: GmnetServer | undefined;
  let outDir: string | undefined;
  const teardown = async (): Promise<void> => {
    await server?.close();
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
  };
  try {
    outDir = await mkdtemp(join(tmpdir(), "gmnet-e2e-"));
    // Built before the server starts: it lists staticDir once, at startup. Vite empties outDir
    // before it writes, so the docs site goes to a folder of its own and moves in afterwards.
    const docsDir = await mkdtemp(join(tmpdir(), "gmnet-e2e-docs-"));
    try {
      // Settles with what went wrong, if anything, so a Vite failure first leaves no rejection unhandled.
      const docs = promisify(execFile)(process.execPath, [buildDocs, docsDir], { maxBuffer: 16 * 1024 * 1024 }).then(
        () => undefined,
        (error: Error & { stdout?: string; stderr?: string }) => `${error.message}\n${error.stdout ?? ""}${error.stderr ?? ""}`,
      );
      await build({ configFile, logLevel: "warn", build: { outDir, emptyOutDir: true } });
      const failure = await docs;
      if (failure !== undefined) throw new Error(`the docs site did not build: ${failure}`);
      await rename(docsDir, join(outDir, "docs"));
    } finally {
      await rm(docsDir, { recursive: true, force: true });
    }
    const mcpToken = randomBytes(24).toString("hex");
    server = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent", staticDir: outDir, mcpTokens: [`${MCP_APP_KEY}=${mcpToken}`] });
    await server.ready;
    process.env[BASE_URL_ENV] = `${server.address().url}/`;
    process.env[STATIC_DIR_ENV] = outDir;
    process.env[MCP_TOKEN_ENV] = mcpToken;
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}
