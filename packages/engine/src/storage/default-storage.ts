import { createBrowserStorage } from "./browser-storage.js";
import type { FileStorage } from "./file-storage.js";
import { createMemoryStorage } from "./memory-storage.js";
import { createNodeStorage, nodeProcess } from "./node-storage.js";

/**
 * The storage a new engine uses when none is given: localStorage in a browser, files under
 * $GMNET_FILES_DIR (default ./data/files) in Node, and memory anywhere else.
 */
export function createDefaultStorage(): FileStorage {
  if (hasLocalStorage()) return createBrowserStorage();
  const proc = nodeProcess() as { env?: Record<string, string | undefined> } | undefined;
  if (proc !== undefined) {
    const root = proc.env?.GMNET_FILES_DIR;
    return createNodeStorage(root === undefined ? {} : { root });
  }
  return createMemoryStorage();
}

function hasLocalStorage(): boolean {
  try {
    return typeof globalThis.localStorage?.getItem === "function";
  } catch {
    // Sandboxed iframes and some privacy modes throw on access.
    return false;
  }
}
