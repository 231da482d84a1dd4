/**
 * buffer_* constants. Values follow design seed 004, which numbers some data types differently
 * from GameMaker (GameMaker: f16=7, f32=8, f64=9, bool=10, string=11, u64=12). Scripts that use the
 * names are unaffected; only raw numbers ported from GameMaker need translating (docs/BUFFERS.md).
 */

/** Buffer types (same values as GameMaker). */
export const buffer_fixed = 0;
export const buffer_grow = 1;
export const buffer_wrap = 2;
export const buffer_fast = 3;
export const buffer_vbuffer = 4;

/** Data types (seed 004 values). */
export const buffer_u8 = 1;
export const buffer_s8 = 2;
export const buffer_u16 = 3;
export const buffer_s16 = 4;
export const buffer_u32 = 5;
export const buffer_s32 = 6;
export const buffer_u64 = 7;
export const buffer_f16 = 8;
export const buffer_f32 = 9;
export const buffer_f64 = 10;
export const buffer_bool = 11;
export const buffer_string = 12;
export const buffer_text = 13;

/** Seek bases (same values as GameMaker). */
export const buffer_seek_start = 0;
export const buffer_seek_relative = 1;
export const buffer_seek_end = 2;

/**
 * Error values returned by writing functions (same values as GameMaker).
 * The explicit literal types work around a TypeScript declaration-emit bug that prints negative
 * literals re-exported through another module as garbage (`-:`); test/consumer checks the output.
 */
export const buffer_error_general = -1 as -1;
export const buffer_error_out_of_space = -2 as -2;
export const buffer_error_invalid_type = -4 as -4;

/** Largest buffer GameMaker allows is just under 2 GiB; gmnet keeps the same limit. */
export const BUFFER_MAX_SIZE = 2 ** 31 - 1;

/** Largest alignment GameMaker accepts. */
export const BUFFER_MAX_ALIGNMENT = 1024;

/**
 * Byte width of each fixed-size data type, indexed by the data type constant;
 * 0 marks strings (variable width) and unknown types.
 */
export const DATA_TYPE_WIDTH: readonly number[] = [0, 1, 1, 2, 2, 4, 4, 8, 2, 4, 8, 1, 0, 0];

export const DATA_TYPE_NAMES: readonly string[] = [
  "",
  "buffer_u8",
  "buffer_s8",
  "buffer_u16",
  "buffer_s16",
  "buffer_u32",
  "buffer_s32",
  "buffer_u64",
  "buffer_f16",
  "buffer_f32",
  "buffer_f64",
  "buffer_bool",
  "buffer_string",
  "buffer_text",
];

export const BUFFER_TYPE_NAMES: readonly string[] = [
  "buffer_fixed",
  "buffer_grow",
  "buffer_wrap",
  "buffer_fast",
  "buffer_vbuffer",
];

export function isDataType(type: unknown): type is number {
  return typeof type === "number" && type >= buffer_u8 && type <= buffer_text && Number.isInteger(type);
}

export function isBufferType(type: unknown): type is number {
  return typeof type === "number" && type >= buffer_fixed && type <= buffer_vbuffer && Number.isInteger(type);
}
