import { base64ToBytes, bytesToBase64 } from "../buffer/base64.js";
import type { FileStorage } from "./file-storage.js";

export interface BrowserStorageOptions {
  /** Key prefix, so several games on one origin keep separate files. Default "gmnet:". */
  prefix?: string;
  /** The Web Storage area; default `globalThis.localStorage`. */
  area?: Storage;
}

/**
 * Files as base64 strings in localStorage, as GameMaker's HTML5 runner keeps them: synchronous,
 * persistent across reloads, shared by the tabs of one origin, and limited by the browser's
 * quota (typically 5 MiB per origin, so about 3.7 MiB of file data). A full quota makes
 * buffer_save return -1 and buffer_save_async report status false.
 */
export function createBrowserStorage(options: BrowserStorageOptions = {}): FileStorage {
  const prefix = options.prefix ?? "gmnet:";
  const area = options.area ?? globalThis.localStorage;
  const readSync = (name: string): Uint8Array | undefined => {
    const stored = area.getItem(prefix + name);
    return stored === null ? undefined : base64ToBytes(stored);
  };
  const writeSync = (name: string, data: Uint8Array): void => {
    area.setItem(prefix + name, bytesToBase64(data));
  };
  return {
    kind: "localStorage",
    readSync,
    writeSync,
    read: async (name) => readSync(name),
    write: async (name, data) => writeSync(name, data),
  };
}
