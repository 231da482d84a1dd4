/**
 * Starts the real signaling server (@gmnet/signaling-server, from its dist build) on a port the
 * OS picks, builds the playground for production (the root vite.config.ts, into a fresh temporary
 * folder) and serves it with `vite preview` on another free port, so parallel runs never collide.
 * The preview server proxies /ws (WebSocket upgrades included), /healthz, /metrics and /api to the
 * signaling server: pages reach it at their own origin, which is the engine's default signaling
 * URL (ws://<page host>/ws). Returns the teardown that stops both servers and removes the build.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type GmnetServer, createServer } from "@gmnet/signaling-server";
import { type Logger, type PreviewServer, build, createLogger, preview } from "vite";
import { BASE_URL_ENV } from "./env.js";

const configFile = fileURLToPath(new URL("../vite.config.ts", import.meta.url));

/**
 * Vite's logger, less the proxy's reports of a WebSocket cut by the browser: a test that closes a
 * page or context resets its /ws connection (ECONNRESET, EPIPE), which is the point, not a fault.
 */
function previewLogger(): Logger {
  const logger = createLogger("warn");
  const error = logger.error.bind(logger);
  logger.error = (message, options) => {
    const code = (options?.error as NodeJS.ErrnoException | undefined)?.code;
    if (message.includes("ws proxy") && (code === "ECONNRESET" || code === "EPIPE")) return;
    error(message, options);
  };
  return logger;
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  let signaling: GmnetServer | undefined;
  let server: PreviewServer | undefined;
  let outDir: string | undefined;
  const teardown = async (): Promise<void> => {
    // Preview first: it holds the proxied WebSockets of any page still open.
    await server?.close();
    await signaling?.close();
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
  };
  try {
    signaling = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent" });
    await signaling.ready;
    const target = signaling.address().url;

    outDir = await mkdtemp(join(tmpdir(), "gmnet-e2e-"));
    const shared = { configFile, logLevel: "warn", build: { outDir, emptyOutDir: true } } as const;
    await build(shared);
    server = await preview({
      ...shared,
      customLogger: previewLogger(),
      preview: {
        host: "127.0.0.1",
        port: 0,
        strictPort: false,
        open: false,
        proxy: {
          "/ws": { target, ws: true },
          "/healthz": { target },
          "/metrics": { target },
          "/api": { target },
        },
      },
    });
    const url = server.resolvedUrls?.local[0];
    if (url === undefined) throw new Error("vite preview is not listening on a local address");
    process.env[BASE_URL_ENV] = url;
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}
