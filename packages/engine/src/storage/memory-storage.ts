import type { FileStorage } from "./file-storage.js";

/** Files in a Map: for tests, and for platforms with no persistent storage. */
export function createMemoryStorage(): FileStorage {
  const files = new Map<string, Uint8Array>();
  return {
    kind: "memory",
    readSync: (name) => files.get(name)?.slice(),
    writeSync: (name, data) => {
      files.set(name, data.slice());
    },
    read: async (name) => files.get(name)?.slice(),
    write: async (name, data) => {
      files.set(name, data.slice());
    },
  };
}
