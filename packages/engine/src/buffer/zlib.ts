/**
 * zlib streams (RFC 1950: 2-byte header, deflate data, Adler-32), the format GameMaker's
 * buffer_compress writes, through pako.
 */
import { Inflate, deflate } from "pako";
import { concatBytes } from "@gmnet/protocol";

/** Deflate window of a zlib stream; fixes the format to RFC 1950 rather than auto-detecting gzip. */
const ZLIB_WINDOW_BITS = 15;

export function zlibCompress(bytes: Uint8Array): Uint8Array {
  return deflate(bytes);
}

class OutputLimitExceeded extends Error {}

/**
 * Inflates a zlib stream; `undefined` for anything that is not one (bad header, corrupt data,
 * wrong checksum, truncated) or whose output would exceed `maxOutput` bytes — a small packet
 * must not be able to make the game allocate gigabytes.
 */
export function zlibDecompress(bytes: Uint8Array, maxOutput: number): Uint8Array | undefined {
  const inflater = new Inflate({ windowBits: ZLIB_WINDOW_BITS });
  const chunks: Uint8Array[] = [];
  let total = 0;
  inflater.onData = (chunk) => {
    total += chunk.length;
    if (total > maxOutput) throw new OutputLimitExceeded();
    chunks.push(chunk);
  };
  let finished = false;
  inflater.onEnd = (status) => {
    finished = status === 0;
  };
  try {
    inflater.push(bytes, true);
  } catch {
    // pako throws only for the output limit above; either way the data is not usable.
    return undefined;
  }
  if (!finished || !inflater.ended) return undefined;
  return concatBytes(chunks, total);
}
