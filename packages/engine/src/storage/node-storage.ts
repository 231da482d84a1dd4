// Type-only imports: erased at build time, so browser bundles never see "node:*".
import type * as NodeFs from "node:fs";
import type * as NodePath from "node:path";
import type { FileStorage } from "./file-storage.js";

export interface NodeStorageOptions {
  /** Folder the files live under; created on the first write. Default "data/files" in the working directory. */
  root?: string;
}


interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown;
  cwd(): string;
}

/** The running Node process, if any; found without importing "node:*" so browser bundles stay clean. */
export function nodeProcess(): NodeProcess | undefined {
  const candidate = (globalThis as { process?: NodeProcess }).process;
  return typeof candidate?.getBuiltinModule === "function" ? candidate : undefined;
}

/** Files under a folder on disk, for Node bots, headless hosts and tests. */
export function createNodeStorage(options: NodeStorageOptions = {}): FileStorage {
  const proc = nodeProcess();
  if (proc === undefined) throw new Error("createNodeStorage needs Node.js 20.16 or newer (process.getBuiltinModule)");
  const fs = proc.getBuiltinModule!("node:fs") as typeof NodeFs;
  const path = proc.getBuiltinModule!("node:path") as typeof NodePath;
  const root = path.resolve(proc.cwd(), options.root ?? "data/files");
  const locate = (name: string): string => path.join(root, ...name.split("/"));
  const missing = (error: unknown): boolean => (error as { code?: string }).code === "ENOENT";

  return {
    kind: "filesystem",
    readSync(name) {
      try {
        return new Uint8Array(fs.readFileSync(locate(name)));
      } catch (error) {
        if (missing(error)) return undefined;
        throw error;
      }
    },
    writeSync(name, data) {
      const file = locate(name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, data);
    },
    async read(name) {
      try {
        return new Uint8Array(await fs.promises.readFile(locate(name)));
      } catch (error) {
        if (missing(error)) return undefined;
        throw error;
      }
    },
    async write(name, data) {
      const file = locate(name);
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await fs.promises.writeFile(file, data);
    },
  };
}
