/**
 * Pure encoders and decoders of one fixed-width value at a byte offset, little-endian as GameMaker.
 * No bounds logic lives here: callers (GmBuffer) have already checked the position.
 */
import { getFloat16, setFloat16 } from "@petamoriken/float16";
import { ErrorCode, GmnetError } from "../errors.js";
import { DATA_TYPE_NAMES, buffer_u64 } from "./constants.js";

const TWO_POW_32 = 4294967296;
/** u64 values whose high word is below this fit in a double exactly (≤ 2^53 − 1). */
const SAFE_HIGH_WORD = 0x200000;

/**
 * Script values written as numbers: numbers as they are, booleans as 0/1, bigints converted.
 * Anything else is a script bug, reported with a stable code rather than written as NaN→0.
 */
export function toNumber(value: unknown, type: number): number {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "bigint") return Number(value);
  throw new GmnetError(
    ErrorCode.INVALID_VALUE,
    `cannot write ${describe(value)} as ${DATA_TYPE_NAMES[type] ?? `data type ${type}`}`,
  );
}

function describe(value: unknown): string {
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  return value === null ? "null" : typeof value;
}

/**
 * u64 accepts numbers and bigints. Integers are stored modulo 2^64, the rule every other integer
 * type follows: negative values wrap to two's complement, 2^64 + 5 stores 5, fractions truncate,
 * NaN and ±Infinity store 0 (as a DataView does for u32). Not GameMaker's HTML5 saturation: it
 * clamps to the *signed* range, so it would corrupt the valid u64 values 2^63 … 2^64 − 1.
 */
export function writeU64(view: DataView, offset: number, value: unknown): void {
  if (typeof value === "number" && value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
    const integer = Math.trunc(value);
    view.setUint32(offset, integer % TWO_POW_32, true);
    view.setUint32(offset + 4, Math.floor(integer / TWO_POW_32), true);
    return;
  }
  let big: bigint;
  if (typeof value === "bigint") big = value;
  else {
    const number = toNumber(value, buffer_u64);
    big = Number.isFinite(number) ? BigInt(Math.trunc(number)) : 0n;
  }
  view.setBigUint64(offset, BigInt.asUintN(64, big), true);
}

/** Values up to 2^53 − 1 come back as numbers, larger ones as bigints, so every u64 is exact. */
export function readU64(view: DataView, offset: number): number | bigint {
  const high = view.getUint32(offset + 4, true);
  if (high < SAFE_HIGH_WORD) return high * TWO_POW_32 + view.getUint32(offset, true);
  return view.getBigUint64(offset, true);
}

/*
 * The switches below use literal case labels (with the constant's name beside each): V8 compiles
 * a switch over imported bindings into a chain of compares, and over literals into a jump table,
 * which made buffer_write/buffer_read about 1.5× faster (npm run bench). The constants test pins
 * the numbers.
 */

/** Writes a fixed-width value; `type` must be a fixed-width data type. */
export function writeFixed(view: DataView, offset: number, type: number, value: unknown): void {
  if (type === 7 /* buffer_u64 */) return writeU64(view, offset, value);
  const number = typeof value === "number" ? value : type === 11 /* buffer_bool */ && typeof value === "boolean" ? +value : toNumber(value, type);
  switch (type) {
    case 1: // buffer_u8
      return view.setUint8(offset, number);
    case 2: // buffer_s8
      return view.setInt8(offset, number);
    case 3: // buffer_u16
      return view.setUint16(offset, number, true);
    case 4: // buffer_s16
      return view.setInt16(offset, number, true);
    case 5: // buffer_u32
      return view.setUint32(offset, number, true);
    case 6: // buffer_s32
      return view.setInt32(offset, number, true);
    case 8: // buffer_f16
      return setFloat16(view, offset, number, true);
    case 9: // buffer_f32
      return view.setFloat32(offset, number, true);
    case 10: // buffer_f64
      return view.setFloat64(offset, number, true);
    case 11: // buffer_bool: GML's truth rule, a real is true when > 0.5 (−1, 0.3, 0.5 and NaN store 0)
      return view.setUint8(offset, number > 0.5 ? 1 : 0);
  }
}

/** Reads a fixed-width value; `type` must be a fixed-width data type. */
export function readFixed(view: DataView, offset: number, type: number): number | bigint | boolean {
  switch (type) {
    case 1: // buffer_u8
      return view.getUint8(offset);
    case 2: // buffer_s8
      return view.getInt8(offset);
    case 3: // buffer_u16
      return view.getUint16(offset, true);
    case 4: // buffer_s16
      return view.getInt16(offset, true);
    case 5: // buffer_u32
      return view.getUint32(offset, true);
    case 6: // buffer_s32
      return view.getInt32(offset, true);
    case 7: // buffer_u64
      return readU64(view, offset);
    case 8: // buffer_f16
      return getFloat16(view, offset, true);
    case 9: // buffer_f32
      return view.getFloat32(offset, true);
    case 10: // buffer_f64
      return view.getFloat64(offset, true);
    default:
      return view.getUint8(offset) !== 0;
  }
}
