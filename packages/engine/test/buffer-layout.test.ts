/** Byte-exact fixtures: where GameMaker puts each byte, and where the seek position ends up. */
import { describe, expect, it } from "vitest";
import { freshEngine, hexOf } from "./helpers.js";

const gm = freshEngine();
const {
  buffer_create, buffer_write, buffer_read, buffer_tell, buffer_seek, buffer_get_size, buffer_get_used_size,
  buffer_fixed, buffer_grow, buffer_wrap, buffer_fast, buffer_vbuffer,
  buffer_u8, buffer_s8, buffer_u16, buffer_s16, buffer_u32, buffer_s32, buffer_u64, buffer_f16, buffer_f32, buffer_f64,
  buffer_bool, buffer_string, buffer_text, buffer_seek_start, buffer_seek_relative, buffer_seek_end,
  buffer_error_out_of_space, buffer_error_invalid_type,
} = gm;

/** Writes `writes` (type, value) into `b` in order and returns `measure(b)` after each one. */
const afterEachWrite = (b: number, writes: Array<[type: number, value: Parameters<typeof buffer_write>[2]]>, measure: (buffer: number) => number): number[] =>
  writes.map(([type, value]) => {
    buffer_write(b, type, value);
    return measure(b);
  });

describe("constants", () => {
  it("use seed 004's numbering", () => {
    expect([buffer_fixed, buffer_grow, buffer_wrap, buffer_fast, buffer_vbuffer]).toEqual([0, 1, 2, 3, 4]);
    expect([buffer_u8, buffer_s8, buffer_u16, buffer_s16, buffer_u32, buffer_s32, buffer_u64]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect([buffer_f16, buffer_f32, buffer_f64, buffer_bool, buffer_string, buffer_text]).toEqual([8, 9, 10, 11, 12, 13]);
    expect([buffer_seek_start, buffer_seek_relative, buffer_seek_end]).toEqual([0, 1, 2]);
    expect([gm.buffer_error_general, buffer_error_out_of_space, buffer_error_invalid_type]).toEqual([-1, -2, -4]);
  });

  it("report each data type's width through buffer_sizeof", () => {
    const widths = [buffer_u8, buffer_s8, buffer_u16, buffer_s16, buffer_u32, buffer_s32, buffer_u64, buffer_f16, buffer_f32, buffer_f64, buffer_bool, buffer_string, buffer_text].map(gm.buffer_sizeof);
    expect(widths).toEqual([1, 1, 2, 2, 4, 4, 8, 2, 4, 8, 1, 0, 0]);
  });
});

describe("creation", () => {
  it("zero-fills and starts with seek 0 and used size 0", () => {
    const b = buffer_create(6, buffer_fixed, 1);
    expect(hexOf(gm, b)).toBe("00 00 00 00 00 00");
    expect([buffer_tell(b), buffer_get_used_size(b), buffer_get_size(b)]).toEqual([0, 0, 6]);
    expect([gm.buffer_get_type(b), gm.buffer_get_alignment(b)]).toEqual([buffer_fixed, 1]);
  });

  it("rounds alignment up to a power of two", () => {
    expect(gm.buffer_get_alignment(buffer_create(1, buffer_fixed, 3))).toBe(4);
    expect(gm.buffer_get_alignment(buffer_create(1, buffer_fixed, 1024))).toBe(1024);
  });
});

describe("little-endian layout", () => {
  it("writes every fixed-width type little-endian", () => {
    const b = buffer_create(1, buffer_grow, 1);
    buffer_write(b, buffer_u8, 0xab);
    buffer_write(b, buffer_s8, -2);
    buffer_write(b, buffer_u16, 0x1234);
    buffer_write(b, buffer_s16, -2);
    buffer_write(b, buffer_u32, 0xdeadbeef);
    buffer_write(b, buffer_s32, -1);
    buffer_write(b, buffer_u64, 0x0102030405060708n);
    buffer_write(b, buffer_f16, 1.5);
    buffer_write(b, buffer_f32, 1);
    buffer_write(b, buffer_f64, -2);
    buffer_write(b, buffer_bool, true);
    expect(hexOf(gm, b, buffer_get_used_size(b))).toBe(
      "ab fe 34 12 fe ff ef be ad de ff ff ff ff 08 07 06 05 04 03 02 01 00 3e 00 00 80 3f 00 00 00 00 00 00 00 c0 01",
    );
  });

  it("stores u64 values above 2^53 exactly and reads them back as bigint", () => {
    const b = buffer_create(32, buffer_fixed, 1);
    buffer_write(b, buffer_u64, 2 ** 53 - 1);
    buffer_write(b, buffer_u64, 18446744073709551615n);
    buffer_write(b, buffer_u64, -1);
    buffer_seek(b, buffer_seek_start, 0);
    expect(buffer_read(b, buffer_u64)).toBe(9007199254740991);
    expect(buffer_read(b, buffer_u64)).toBe(18446744073709551615n);
    expect(buffer_read(b, buffer_u64)).toBe(18446744073709551615n);
    expect(hexOf(gm, b, 8)).toBe("ff ff ff ff ff ff 1f 00");
  });
});

describe("alignment", () => {
  it("pads before each write, as the manual's 1 → 5 example", () => {
    const b = buffer_create(16, buffer_fixed, 4);
    expect(afterEachWrite(b, [[buffer_u8, 1], [buffer_u8, 2], [buffer_u16, 0x0304], [buffer_string, "ab"]], buffer_tell)).toEqual([1, 5, 10, 15]);
    expect(hexOf(gm, b)).toBe("01 00 00 00 02 00 00 00 04 03 00 00 61 62 00 00");
    expect(buffer_get_used_size(b)).toBe(15);
  });

  it("pads before each read the same way", () => {
    const b = buffer_create(16, buffer_fixed, 8);
    buffer_write(b, buffer_u8, 7);
    buffer_write(b, buffer_f64, 0.5);
    expect(hexOf(gm, b)).toBe("07 00 00 00 00 00 00 00 00 00 00 00 00 00 e0 3f");
    buffer_seek(b, buffer_seek_start, 0);
    expect([buffer_read(b, buffer_u8), buffer_read(b, buffer_f64), buffer_tell(b)]).toEqual([7, 0.5, 16]);
  });
});

describe("strings", () => {
  it("buffer_string ends with a NUL, buffer_text does not", () => {
    const b = buffer_create(0, buffer_grow, 1);
    buffer_write(b, buffer_string, "hi");
    buffer_write(b, buffer_text, "hi");
    expect(hexOf(gm, b, buffer_get_used_size(b))).toBe("68 69 00 68 69");
  });

  it("advances 12 bytes for \"Hello World\" as the manual says", () => {
    const b = buffer_create(64, buffer_fixed, 1);
    buffer_write(b, buffer_string, "Hello World");
    expect(buffer_tell(b)).toBe(12);
  });

  it("encodes UTF-8, including 4-byte sequences", () => {
    const b = buffer_create(0, buffer_grow, 1);
    buffer_write(b, buffer_string, "é€😀");
    expect(hexOf(gm, b, buffer_get_used_size(b))).toBe("c3 a9 e2 82 ac f0 9f 98 80 00");
    buffer_seek(b, buffer_seek_start, 0);
    expect(buffer_read(b, buffer_string)).toBe("é€😀");
    expect(buffer_tell(b)).toBe(10);
  });

  it("reads text up to the used size and strings up to their NUL", () => {
    const b = buffer_create(32, buffer_fixed, 1);
    buffer_write(b, buffer_string, "one");
    buffer_write(b, buffer_text, "two");
    buffer_seek(b, buffer_seek_start, 0);
    expect(buffer_read(b, buffer_string)).toBe("one");
    expect(buffer_read(b, buffer_text)).toBe("two");
    expect(buffer_tell(b)).toBe(7);
    expect(buffer_read(b, buffer_string)).toBe("");
  });

  it("writes numbers given as string values in their decimal form", () => {
    const b = buffer_create(0, buffer_grow, 1);
    buffer_write(b, buffer_text, 42);
    expect(hexOf(gm, b, buffer_get_used_size(b))).toBe("34 32");
  });
});

describe("grow buffers", () => {
  it("double their size until the write fits", () => {
    const b = buffer_create(4, buffer_grow, 1);
    for (let i = 0; i < 5; i++) buffer_write(b, buffer_u8, i);
    expect(buffer_get_size(b)).toBe(8);
    buffer_write(b, buffer_u32, 0xffffffff);
    expect(buffer_get_size(b)).toBe(16);
    expect(hexOf(gm, b)).toBe("00 01 02 03 04 ff ff ff ff 00 00 00 00 00 00 00");
  });

  it("grow from size 0", () => {
    const b = buffer_create(0, buffer_grow, 1);
    expect(afterEachWrite(b, [[buffer_u8, 1], [buffer_u32, 2], [buffer_string, "a long string that needs room"]], buffer_get_size)).toEqual([1, 8, 64]);
    expect(buffer_get_used_size(b)).toBe(5 + 30);
  });
});

describe("fixed, fast and vertex buffers", () => {
  it("refuse writes past the end with buffer_error_out_of_space and stay put", () => {
    const b = buffer_create(3, buffer_fixed, 1);
    expect(buffer_write(b, buffer_u16, 1)).toBe(0);
    expect(buffer_write(b, buffer_u16, 2)).toBe(buffer_error_out_of_space);
    expect(buffer_write(b, buffer_string, "x")).toBe(buffer_error_out_of_space);
    expect(buffer_tell(b)).toBe(2);
    expect(buffer_write(b, buffer_text, "x")).toBe(0);
    expect(hexOf(gm, b)).toBe("01 00 78");
  });

  it("buffer_fast holds only u8", () => {
    const b = buffer_create(4, buffer_fast, 1);
    expect(buffer_write(b, buffer_u8, 9)).toBe(0);
    expect(buffer_write(b, buffer_u16, 9)).toBe(buffer_error_invalid_type);
    expect(() => buffer_read(b, buffer_s32)).toThrow(expect.objectContaining({ code: "E_INVALID_TYPE" }));
    expect(() => buffer_create(4, buffer_fast, 4)).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
  });

  it("buffer_fast refuses string reads with E_INVALID_TYPE and stays put", () => {
    const empty = buffer_create(0, buffer_fast, 1);
    expect(() => buffer_read(empty, buffer_text)).toThrow(expect.objectContaining({ code: "E_INVALID_TYPE" }));
    expect(() => buffer_read(empty, buffer_string)).toThrow(expect.objectContaining({ code: "E_INVALID_TYPE" }));
    const b = buffer_create(4, buffer_fast, 1);
    buffer_write(b, buffer_u8, 0x68);
    buffer_write(b, buffer_u8, 0x69);
    buffer_seek(b, buffer_seek_start, 0);
    expect(() => buffer_read(b, buffer_string)).toThrow(expect.objectContaining({ code: "E_INVALID_TYPE" }));
    expect(() => buffer_read(b, buffer_text)).toThrow(expect.objectContaining({ code: "E_INVALID_TYPE" }));
    expect(buffer_tell(b)).toBe(0);
    expect(hexOf(gm, b)).toBe("68 69 00 00");
  });

  it("buffer_vbuffer keeps its size like a fixed buffer", () => {
    const b = buffer_create(2, buffer_vbuffer, 1);
    expect(buffer_write(b, buffer_u16, 5)).toBe(0);
    expect(buffer_write(b, buffer_u8, 5)).toBe(buffer_error_out_of_space);
    expect(buffer_get_size(b)).toBe(2);
  });
});

describe("wrap buffers", () => {
  it("continue writing at the start when a value does not fit", () => {
    const b = buffer_create(4, buffer_wrap, 1);
    for (let i = 1; i <= 5; i++) buffer_write(b, buffer_u8, i);
    expect(hexOf(gm, b)).toBe("05 02 03 04");
    expect(buffer_tell(b)).toBe(1);
    buffer_write(b, buffer_u16, 0x0a0b);
    expect(buffer_tell(b)).toBe(3);
    buffer_write(b, buffer_u16, 0x0c0d);
    expect(hexOf(gm, b)).toBe("0d 0c 0a 04");
    expect(buffer_tell(b)).toBe(2);
    expect(buffer_get_used_size(b)).toBe(4);
  });

  it("wrap reads the same way", () => {
    const b = buffer_create(4, buffer_wrap, 1);
    buffer_write(b, buffer_u16, 0x0201);
    buffer_write(b, buffer_u16, 0x0403);
    expect(buffer_tell(b)).toBe(0);
    buffer_seek(b, buffer_seek_start, 3);
    expect(buffer_read(b, buffer_u16)).toBe(0x0201);
    expect(buffer_tell(b)).toBe(2);
  });

  // Fixture from GameMaker's HTML5 runner: an aligned string read landing on the end wraps.
  it("wrap a string read whose aligned position is exactly the end", () => {
    const b = buffer_create(8, buffer_wrap, 4);
    expect(buffer_write(b, buffer_string, "hi")).toBe(0);
    expect(hexOf(gm, b)).toBe("68 69 00 00 00 00 00 00");
    expect(buffer_seek(b, buffer_seek_start, 7)).toBe(7);
    expect(buffer_read(b, buffer_string)).toBe("hi");
    expect(buffer_tell(b)).toBe(3);
    buffer_seek(b, buffer_seek_start, 5);
    expect(buffer_read(b, buffer_text)).toBe("hi");
    expect(buffer_tell(b)).toBe(3);
  });

  it("refuse a single value larger than the whole buffer", () => {
    const b = buffer_create(2, buffer_wrap, 1);
    expect(buffer_write(b, buffer_u32, 1)).toBe(buffer_error_out_of_space);
    expect(buffer_read(b, buffer_u32)).toBeUndefined();
  });
});

describe("buffer_seek", () => {
  it("clamps non-wrap buffers to [0, size]", () => {
    const b = buffer_create(8, buffer_grow, 1);
    expect(buffer_seek(b, buffer_seek_start, 100)).toBe(8);
    expect(buffer_seek(b, buffer_seek_start, -5)).toBe(0);
    expect(buffer_seek(b, buffer_seek_end, -2)).toBe(6);
    expect(buffer_seek(b, buffer_seek_relative, -1)).toBe(5);
    expect(buffer_seek(b, buffer_seek_relative, 1)).toBe(6);
    expect(buffer_tell(b)).toBe(6);
  });

  it("wraps wrap buffers in both directions", () => {
    const b = buffer_create(8, buffer_wrap, 1);
    expect(buffer_seek(b, buffer_seek_start, 10)).toBe(2);
    expect(buffer_seek(b, buffer_seek_start, -1)).toBe(7);
    expect(buffer_seek(b, buffer_seek_end, 3)).toBe(3);
  });

  it("rejects an unknown base", () => {
    const b = buffer_create(8, buffer_grow, 1);
    expect(() => buffer_seek(b, 7, 0)).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
  });
});

describe("reading past the end", () => {
  it("returns undefined and leaves the seek position alone", () => {
    const b = buffer_create(2, buffer_fixed, 1);
    expect(buffer_read(b, buffer_u32)).toBeUndefined();
    expect(buffer_tell(b)).toBe(0);
    buffer_seek(b, buffer_seek_end, 0);
    expect(buffer_read(b, buffer_u8)).toBeUndefined();
    expect(buffer_read(b, buffer_string)).toBe("");
  });
});
