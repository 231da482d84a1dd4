/**
 * What the private services of the tests (private-postgres.ts, private-redis.ts) share: finding an
 * executable, a fresh temp folder that goes with the service, the cleanup that runs at process exit
 * when a test never stopped its service (or straight away when the start fails), and the start on a
 * free port with a retry.
 */
import { accessSync, constants, mkdtempSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./free-port.js";

/** An executable file (not a folder) at `path`. */
export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Cleanups of the services not stopped yet, run at process exit. */
const running = new Set<() => void>();
let exitHook = false;

/**
 * Starts a private service in a fresh folder `prefix…` below `root`. `killSync` ends the service's
 * processes at once; with the removal of the folder it runs at process exit if the test never
 * stopped the service, and straight away if `start` throws. `start` gets the folder and `stopping`,
 * which its handle's stop() calls before it stops the service properly and removes the folder itself.
 */
export async function startPrivateService<T>(root: string, prefix: string, killSync: (dir: string) => void, start: (dir: string, stopping: () => void) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(root, prefix));
  const cleanup = (): void => {
    killSync(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const clean of running) clean();
    });
  }
  running.add(cleanup);
  const stopping = (): void => {
    running.delete(cleanup);
  };
  try {
    return await start(dir, stopping);
  } catch (error) {
    stopping();
    cleanup();
    throw error;
  }
}

/**
 * Runs `start` on a free port and resolves with that port and what `start` resolved with. Another
 * process may take the port between the probe and the service's bind, so a failed start is tried
 * again on another port, three times in all; the last failure is thrown.
 */
export async function startOnFreePort<T>(start: (port: number) => Promise<T>): Promise<{ port: number; started: T }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { port, started: await start(port) };
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}
