/**
 * What the encryption tests check the engine against, written from PROTOCOL.md §18 with
 * node:crypto (the independent oracle), and the small helpers both test files use.
 */
import { pbkdf2Sync } from "node:crypto";
import type { Engine } from "../../src/index.js";
import { bufferOf } from "./support.js";

/** The shared-mode key, as node:crypto derives it from the documented parameters. */
export const oracleKey = (secret: string, appKey: string): Buffer => pbkdf2Sync(secret, `gmnet-e2e-v1:${appKey}`, 100_000, 32, "sha256");

/** The documented 18 bytes of additional data. */
export function aad(version: number, kind: number, senderIp: number, seq: bigint, a: number, b: number): Buffer {
  const out = Buffer.alloc(18);
  out[0] = version;
  out[1] = kind;
  out.writeUInt32LE(senderIp >>> 0, 2);
  out.writeBigUInt64LE(seq, 6);
  out.writeUInt16LE(a, 14);
  out.writeUInt16LE(b, 16);
  return out;
}

/** `size` bytes that differ with `seed` (a linear congruential sequence), so a lost or moved byte shows. */
export function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Sends `bytes` on a stream socket as a packet (or raw). */
export function sendBytes(gm: Engine, socket: number, bytes: Uint8Array, raw = false): number {
  const buffer = bufferOf(gm, bytes);
  try {
    return raw ? gm.network_send_raw(socket, buffer, bytes.length) : gm.network_send_packet(socket, buffer, bytes.length);
  } finally {
    gm.buffer_delete(buffer);
  }
}
