/**
 * Builds the playground for production (the root vite.config.ts, into a fresh temporary folder)
 * and serves it with `vite preview` on a port the OS picks, so parallel runs never collide.
 * Returns the teardown that stops the server and removes the build.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, preview } from "vite";
import { BASE_URL_ENV } from "./env.js";

const configFile = fileURLToPath(new URL("../vite.config.ts", import.meta.url));

export default async function globalSetup(): Promise<() => Promise<void>> {
  const outDir = await mkdtemp(join(tmpdir(), "gmnet-e2e-"));
  const shared = { configFile, logLevel: "warn", build: { outDir, emptyOutDir: true } } as const;
  try {
    await build(shared);
    const server = await preview({ ...shared, preview: { host: "127.0.0.1", port: 0, strictPort: false, open: false } });
    const url = server.resolvedUrls?.local[0];
    if (url === undefined) {
      await server.close();
      throw new Error("vite preview is not listening on a local address");
    }
    process.env[BASE_URL_ENV] = url;
    return async () => {
      await server.close();
      await rm(outDir, { recursive: true, force: true });
    };
  } catch (error) {
    await rm(outDir, { recursive: true, force: true });
    throw error;
  }
}
