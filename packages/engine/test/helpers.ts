import { createEngine, createMemoryStorage } from "../src/index.js";
import type { Engine } from "../src/index.js";

/** A fresh engine with in-memory files, so tests never share state or touch disk. */
export function freshEngine(): Engine {
  return createEngine({ storage: createMemoryStorage() });
}

/** The buffer's bytes [0, size) as lowercase hex pairs separated by spaces. */
export function hexOf(gm: Engine, buffer: number, size = gm.buffer_get_size(buffer)): string {
  const parts: string[] = [];
  for (let i = 0; i < size; i++) parts.push((gm.buffer_peek(buffer, i, gm.buffer_u8) as number).toString(16).padStart(2, "0"));
  return parts.join(" ");
}

/** The buffer's bytes as a Uint8Array copy (read through the public API). */
export function bytesOf(gm: Engine, buffer: number, size = gm.buffer_get_size(buffer)): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = gm.buffer_peek(buffer, i, gm.buffer_u8) as number;
  return out;
}

/** A new grow buffer holding `bytes`, seek at 0. */
export function bufferFrom(gm: Engine, bytes: Uint8Array): number {
  const buffer = gm.buffer_create(bytes.length, gm.buffer_fixed, 1);
  bytes.forEach((byte) => gm.buffer_write(buffer, gm.buffer_u8, byte));
  gm.buffer_seek(buffer, gm.buffer_seek_start, 0);
  return buffer;
}
