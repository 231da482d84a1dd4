/**
 * Where buffer_save / buffer_load (and later http_get_file) keep files. GameMaker's API is
 * synchronous, so every backend offers sync calls; the async variants exist for buffer_*_async and
 * may be truly asynchronous where the platform allows.
 *
 * Backends receive names already checked by `checkFileName`: relative, '/'-separated, no '..'.
 * A backend reports "no such file" with `undefined` and a refusal (quota, disk, permissions) by throwing.
 */
import { ErrorCode, GmnetError } from "../errors.js";

export interface FileStorage {
  /** Short name shown in diagnostics: "memory", "localStorage", "filesystem". */
  readonly kind: string;
  readSync(name: string): Uint8Array | undefined;
  writeSync(name: string, data: Uint8Array): void;
  read(name: string): Promise<Uint8Array | undefined>;
  write(name: string, data: Uint8Array): Promise<void>;
}

const DRIVE_PREFIX = /^[A-Za-z]:/;

/**
 * Normalises a script's file name ("saves\\slot1.sav" → "saves/slot1.sav") and rejects names that
 * could reach outside the storage area. GameMaker sandboxes files the same way.
 */
export function checkFileName(name: unknown, fn: string): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new GmnetError(ErrorCode.INVALID_FILENAME, `${fn}: the file name must be a non-empty string`);
  }
  const normalized = name.replace(/\\/g, "/");
  const parts = normalized.split("/").filter((part) => part !== "" && part !== ".");
  if (
    normalized.startsWith("/") ||
    DRIVE_PREFIX.test(normalized) ||
    normalized.includes("\0") ||
    parts.includes("..") ||
    parts.length === 0
  ) {
    throw new GmnetError(ErrorCode.INVALID_FILENAME, `${fn}: ${JSON.stringify(name)} must be a relative path inside the save area`);
  }
  return parts.join("/");
}
