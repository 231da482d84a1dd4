/**
 * Benchmark cases for sequential buffer_write / buffer_read, each paired with a baseline that does
 * the same work by hand: a DataView with manual position tracking for numbers, and
 * TextEncoder.encodeInto + NUL / indexOf(0) + TextDecoder for strings.
 *
 * One iteration of every case: seek to 0, write N values, seek to 0, read N values back and
 * return a checksum of what was read (so nothing is dead code). The engine is imported as users
 * get it, the built ESM package (npm run bench builds it and points tsx at bench/tsconfig.json, which
 * drops the root `paths`): the TypeScript sources through tsx would add tsx's export getters.
 */
import {
  buffer_create,
  buffer_f32,
  buffer_f64,
  buffer_fixed,
  buffer_peek,
  buffer_read,
  buffer_s32,
  buffer_seek,
  buffer_seek_start,
  buffer_string,
  buffer_u8,
  buffer_write,
} from "@gmnet/engine";

/** Values written and read per iteration. */
export const VALUES_PER_ITERATION = 1000;

export interface BenchCase {
  readonly name: string;
  /** A fixed-width number type (its baseline is a DataView loop), rather than a string. */
  readonly numeric: boolean;
  /** One iteration through gmnet's buffer_* functions; returns a checksum of the values read. */
  readonly gmnet: () => number;
  /** The same iteration written by hand; returns the same checksum. */
  readonly baseline: () => number;
  /** Runs both sides once and throws unless they read the same checksum and wrote the same bytes. */
  readonly verify: () => void;
}

/** A short ASCII name, the common case in game packets. */
export const SHORT_ASCII = "player_42";
/** 40 characters, one of them non-ASCII (ë, two bytes in UTF-8): 41 bytes + NUL. */
export const LONG_UTF8 = "Zoë joined the lobby on server 7, map 3!";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** Builds the benchmark cases, each with its own fixed-size gmnet buffer and baseline DataView. */
export function createCases(n: number = VALUES_PER_ITERATION): BenchCase[] {
  if (LONG_UTF8.length !== 40) throw new Error(`LONG_UTF8 must be 40 characters, not ${LONG_UTF8.length}`);

  const u8Values = Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
  const s32Values = Array.from({ length: n }, (_, i) => Math.imul(i + 1, 0x9e3779b1));
  const f32Values = Array.from({ length: n }, (_, i) => Math.fround((i - n / 2) * 0.37));
  const f64Values = Array.from({ length: n }, (_, i) => (i - n / 2) * Math.PI);

  return [
    numericCase("u8", n, u8Values, buffer_u8, 1),
    numericCase("s32", n, s32Values, buffer_s32, 4),
    numericCase("f32", n, f32Values, buffer_f32, 4),
    numericCase("f64", n, f64Values, buffer_f64, 8),
    stringCase(`string "${SHORT_ASCII}"`, n, SHORT_ASCII),
    stringCase("string 40 chars, non-ASCII", n, LONG_UTF8),
  ];
}

function numericCase(name: string, n: number, values: readonly number[], type: number, width: number): BenchCase {
  const size = n * width;
  const buffer = buffer_create(size, buffer_fixed, 1);
  const view = new DataView(new ArrayBuffer(size));

  const gmnet = (): number => {
    buffer_seek(buffer, buffer_seek_start, 0);
    for (let i = 0; i < n; i++) buffer_write(buffer, type, values[i]!);
    buffer_seek(buffer, buffer_seek_start, 0);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += buffer_read(buffer, type) as number;
    return sum;
  };

  const baseline = baselineLoops[type]!(view, values, n);
  return { name, numeric: true, gmnet, baseline, verify: () => verify(name, gmnet, baseline, buffer, new Uint8Array(view.buffer)) };
}

/**
 * Hand-written baselines: one closure per type, so every DataView call site is monomorphic and
 * the position is a local, the way a dedicated packet encoder would be written.
 */
const baselineLoops: Record<number, (view: DataView, values: readonly number[], n: number) => () => number> = {
  [buffer_u8]: (view, values, n) => () => {
    let pos = 0;
    for (let i = 0; i < n; i++) {
      view.setUint8(pos, values[i]!);
      pos += 1;
    }
    pos = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      sum += view.getUint8(pos);
      pos += 1;
    }
    return sum;
  },
  [buffer_s32]: (view, values, n) => () => {
    let pos = 0;
    for (let i = 0; i < n; i++) {
      view.setInt32(pos, values[i]!, true);
      pos += 4;
    }
    pos = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      sum += view.getInt32(pos, true);
      pos += 4;
    }
    return sum;
  },
  [buffer_f32]: (view, values, n) => () => {
    let pos = 0;
    for (let i = 0; i < n; i++) {
      view.setFloat32(pos, values[i]!, true);
      pos += 4;
    }
    pos = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      sum += view.getFloat32(pos, true);
      pos += 4;
    }
    return sum;
  },
  [buffer_f64]: (view, values, n) => () => {
    let pos = 0;
    for (let i = 0; i < n; i++) {
      view.setFloat64(pos, values[i]!, true);
      pos += 8;
    }
    pos = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      sum += view.getFloat64(pos, true);
      pos += 8;
    }
    return sum;
  },
};

/**
 * Outside the timed runs: one iteration of each side must read back the same checksum and leave
 * the same bytes, so the two sides really do the same work.
 */
function verify(name: string, gmnet: () => number, baseline: () => number, buffer: number, bytes: Uint8Array): void {
  const expected = baseline();
  const actual = gmnet();
  if (!Object.is(actual, expected)) throw new Error(`${name}: gmnet checksum ${actual} ≠ baseline ${expected}`);
  for (let i = 0; i < bytes.length; i++) {
    const byte = buffer_peek(buffer, i, buffer_u8);
    if (byte !== bytes[i]) throw new Error(`${name}: byte ${i} is ${String(byte)} in gmnet, ${bytes[i]} in the baseline`);
  }
}

function stringCase(name: string, n: number, text: string): BenchCase {
  const size = n * (encoder.encode(text).length + 1);
  const buffer = buffer_create(size, buffer_fixed, 1);
  const bytes = new Uint8Array(size);

  const gmnet = (): number => {
    buffer_seek(buffer, buffer_seek_start, 0);
    for (let i = 0; i < n; i++) buffer_write(buffer, buffer_string, text);
    buffer_seek(buffer, buffer_seek_start, 0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const read = buffer_read(buffer, buffer_string) as string;
      sum += read.length + read.charCodeAt(read.length - 1);
    }
    return sum;
  };

  const baseline = (): number => {
    let pos = 0;
    for (let i = 0; i < n; i++) {
      pos += encoder.encodeInto(text, bytes.subarray(pos)).written;
      bytes[pos++] = 0;
    }
    pos = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const end = bytes.indexOf(0, pos);
      const read = decoder.decode(bytes.subarray(pos, end));
      pos = end + 1;
      sum += read.length + read.charCodeAt(read.length - 1);
    }
    return sum;
  };

  return { name, numeric: false, gmnet, baseline, verify: () => verify(name, gmnet, baseline, buffer, bytes) };
}
