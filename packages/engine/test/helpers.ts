import { GmnetError, createEngine, createMemoryStorage } from "../src/index.js";
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

/** buffer_fill(buffer, ...fill), and the outcome: what it returned, then the buffer's bytes (as hexOf) and used size. */
export function fillOutcome(gm: Engine, buffer: number, ...fill: [offset: number, type: number, value: Parameters<Engine["buffer_fill"]>[3], size: number]): { returned: number; hex: string; used: number } {
  const returned = gm.buffer_fill(buffer, ...fill);
  return { returned, hex: hexOf(gm, buffer), used: gm.buffer_get_used_size(buffer) };
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

/** The GmnetError code `call` throws, or "no error"; any other throw fails the test as it is. */
export function thrownCode(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    if (error instanceof GmnetError) return error.code;
    throw error;
  }
  return "no error";
}

/** The parts one after another in a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
