/** peek/poke, fill, copy, resize, used size, lifetime and argument errors. */
import { describe, expect, it } from "vitest";
import { GmnetError } from "../src/index.js";
import { fillOutcome, freshEngine, hexOf } from "./helpers.js";

const gm = freshEngine();
const {
  buffer_create, buffer_write, buffer_read, buffer_tell, buffer_seek, buffer_peek, buffer_poke, buffer_fill, buffer_copy,
  buffer_resize, buffer_get_size, buffer_get_used_size, buffer_set_used_size, buffer_delete, buffer_exists,
  buffer_fixed, buffer_grow, buffer_wrap, buffer_u8, buffer_u16, buffer_s16, buffer_u32, buffer_f32, buffer_string,
  buffer_text, buffer_seek_start, buffer_error_out_of_space, buffer_error_invalid_type,
} = gm;

const code = (c: string) => expect.objectContaining({ code: c });

describe("buffer_peek / buffer_poke", () => {
  it("work at absolute offsets without alignment and without moving seek", () => {
    const b = buffer_create(8, buffer_fixed, 4);
    buffer_write(b, buffer_u8, 1);
    expect(buffer_poke(b, 1, buffer_u16, 0xbeef)).toBe(0);
    expect(hexOf(gm, b)).toBe("01 ef be 00 00 00 00 00");
    expect(buffer_peek(b, 1, buffer_u16)).toBe(0xbeef);
    expect(buffer_tell(b)).toBe(1);
    expect(buffer_get_used_size(b)).toBe(3);
  });

  it("peek returns undefined outside the buffer and poke reports no space", () => {
    const b = buffer_create(4, buffer_fixed, 1);
    expect(buffer_peek(b, 3, buffer_u16)).toBeUndefined();
    expect(buffer_peek(b, -1, buffer_u8)).toBeUndefined();
    expect(buffer_peek(b, 4, buffer_u8)).toBeUndefined();
    expect(buffer_poke(b, 3, buffer_u16, 1)).toBe(buffer_error_out_of_space);
    expect(buffer_poke(b, -1, buffer_u8, 1)).toBe(buffer_error_out_of_space);
    expect(hexOf(gm, b)).toBe("00 00 00 00");
  });

  it("poke grows grow buffers and wraps offsets in wrap buffers", () => {
    const grow = buffer_create(2, buffer_grow, 1);
    expect(buffer_poke(grow, 5, buffer_u8, 7)).toBe(0);
    expect(buffer_get_size(grow)).toBe(8);
    expect(buffer_peek(grow, 5, buffer_u8)).toBe(7);
    const wrap = buffer_create(4, buffer_wrap, 1);
    expect(buffer_poke(wrap, 6, buffer_u8, 9)).toBe(0);
    expect(buffer_peek(wrap, 10, buffer_u8)).toBe(9);
  });

  it("peek and poke strings", () => {
    const b = buffer_create(8, buffer_fixed, 1);
    expect(buffer_poke(b, 2, buffer_string, "ok")).toBe(0);
    expect(hexOf(gm, b)).toBe("00 00 6f 6b 00 00 00 00");
    expect(buffer_peek(b, 2, buffer_string)).toBe("ok");
    expect(buffer_poke(b, 6, buffer_text, "abc")).toBe(buffer_error_out_of_space);
  });

  it("reject unknown data types", () => {
    const b = buffer_create(4, buffer_fixed, 1);
    expect(buffer_poke(b, 0, 99, 1)).toBe(buffer_error_invalid_type);
    expect(buffer_write(b, 0, 1)).toBe(buffer_error_invalid_type);
    expect(() => buffer_peek(b, 0, 99)).toThrow(code("E_INVALID_TYPE"));
    expect(() => buffer_read(b, 14)).toThrow(code("E_INVALID_TYPE"));
  });
});

describe("buffer_fill", () => {
  it("repeats a value over a byte range, zeroing alignment gaps, without moving seek", () => {
    const b = buffer_create(10, buffer_fixed, 4);
    gm.buffer_fill(b, 0, buffer_u8, 0xff, 10);
    expect(hexOf(gm, b)).toBe("ff 00 00 00 ff 00 00 00 ff 00");
    expect(buffer_tell(b)).toBe(0);
    // The gap after the last item (byte 9, cut at the range's end) is zeroed, so it counts as used.
    expect(buffer_get_used_size(b)).toBe(10);
  });

  // Fixtures from GameMaker's HTML5 runner (yyb_fill with gaps filled).
  it("zeroes the leading alignment gap also when the alignment is not larger than the item", () => {
    const b = buffer_create(8, buffer_fixed, 2);
    buffer_poke(b, 1, buffer_u8, 255);
    expect(fillOutcome(gm, b, 1, buffer_u16, 0x1234, 5)).toEqual({ returned: 0, hex: "00 00 34 12 34 12 00 00", used: 6 });
  });

  it("counts the alignment gaps it zeroes in the used size", () => {
    expect(fillOutcome(gm, buffer_create(16, buffer_fixed, 4), 0, buffer_s16, 1, 8)).toEqual({ returned: 0, hex: "01 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00", used: 8 });
  });

  it("stops before an item that does not fit and clamps to fixed buffers", () => {
    expect(fillOutcome(gm, buffer_create(7, buffer_fixed, 1), 1, buffer_u16, 0x0102, 100)).toMatchObject({ returned: 0, hex: "00 02 01 02 01 02 01" });
  });

  it("grows grow buffers to the end of the range and fills strings", () => {
    const b = buffer_create(1, buffer_grow, 1);
    buffer_fill(b, 0, buffer_string, "ab", 7);
    expect(buffer_get_size(b)).toBe(8);
    expect(hexOf(gm, b)).toBe("61 62 00 61 62 00 00 00");
  });

  it("fills bytes fast when the value is one aligned byte", () => {
    const b = buffer_create(5, buffer_fixed, 1);
    buffer_fill(b, 1, buffer_u8, 7, 3);
    expect(hexOf(gm, b)).toBe("00 07 07 07 00");
  });
});

describe("buffer_copy", () => {
  /** A fixed 4-byte buffer holding 01 02 03 04, written (so its seek is at 4). */
  const source = (): number => {
    const src = buffer_create(4, buffer_fixed, 1);
    buffer_write(src, buffer_u32, 0x04030201);
    return src;
  };

  it("copies without moving either seek position and updates the destination's used size", () => {
    const src = source();
    const dst = buffer_create(6, buffer_fixed, 1);
    expect(buffer_copy(src, 1, 2, dst, 3)).toBe(2);
    expect(hexOf(gm, dst)).toBe("00 00 00 02 03 00");
    expect([buffer_tell(src), buffer_tell(dst), buffer_get_used_size(dst)]).toEqual([4, 0, 5]);
  });

  it("grows grow destinations, truncates fixed ones, wraps wrap ones", () => {
    const src = source();
    const grow = buffer_create(2, buffer_grow, 1);
    expect(buffer_copy(src, 0, 4, grow, 2)).toBe(4);
    expect(hexOf(gm, grow)).toBe("00 00 01 02 03 04 00 00");
    const fixed = buffer_create(3, buffer_fixed, 1);
    expect(buffer_copy(src, 0, 4, fixed, 1)).toBe(2);
    expect(hexOf(gm, fixed)).toBe("00 01 02");
    const wrap = buffer_create(3, buffer_wrap, 1);
    expect(buffer_copy(src, 0, 4, wrap, 1)).toBe(4);
    expect(hexOf(gm, wrap)).toBe("03 04 02");
  });

  it("clamps the source range and copies within one buffer like memmove", () => {
    const b = buffer_create(6, buffer_fixed, 1);
    for (let i = 1; i <= 6; i++) buffer_write(b, buffer_u8, i);
    expect(buffer_copy(b, 0, 4, b, 2)).toBe(4);
    expect(hexOf(gm, b)).toBe("01 02 01 02 03 04");
    expect(buffer_copy(b, 4, 100, b, 0)).toBe(2);
    expect(hexOf(gm, b)).toBe("03 04 01 02 03 04");
  });

  it("copying 0 bytes leaves the destination's size and used size unchanged", () => {
    // A negative size copies nothing (buffer_copy clamps it to 0).
    const wrap = buffer_create(16, buffer_wrap, 1);
    expect(buffer_copy(wrap, 0, -1, wrap, 12)).toBe(0);
    expect([buffer_get_size(wrap), buffer_get_used_size(wrap)]).toEqual([16, 0]);
    expect(hexOf(gm, wrap)).toBe("00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
    const src = buffer_create(4, buffer_fixed, 1);
    const grow = buffer_create(8, buffer_grow, 1);
    expect(buffer_copy(src, 0, -1, grow, 10)).toBe(0);
    expect([buffer_get_size(grow), buffer_get_used_size(grow)]).toEqual([8, 0]);
    expect(buffer_copy(src, 0, 0, grow, 10)).toBe(0);
    expect(buffer_copy(src, 4, 4, grow, 10)).toBe(0);
    expect([buffer_get_size(grow), buffer_get_used_size(grow)]).toEqual([8, 0]);
    expect(hexOf(gm, grow)).toBe("00 00 00 00 00 00 00 00");
  });
});

describe("buffer_resize and used size", () => {
  it("keeps content, zero-fills new space and clamps seek and used size", () => {
    const b = buffer_create(4, buffer_fixed, 1);
    buffer_write(b, buffer_u32, 0xffffffff);
    buffer_resize(b, 6);
    expect(hexOf(gm, b)).toBe("ff ff ff ff 00 00");
    buffer_resize(b, 2);
    expect([buffer_get_size(b), buffer_tell(b), buffer_get_used_size(b)]).toEqual([2, 2, 2]);
    expect(() => buffer_resize(b, -1)).toThrow(code("E_INVALID_ARGUMENT"));
  });

  it("buffer_set_used_size clamps into [0, size] and limits string reads", () => {
    const b = buffer_create(8, buffer_fixed, 1);
    buffer_write(b, buffer_text, "abcdef");
    buffer_set_used_size(b, 3);
    buffer_seek(b, buffer_seek_start, 0);
    expect(buffer_read(b, buffer_text)).toBe("abc");
    buffer_set_used_size(b, 100);
    expect(buffer_get_used_size(b)).toBe(8);
  });
});

describe("lifetime and misuse", () => {
  it("deleted and unknown ids give E_INVALID_BUFFER; buffer_exists says false", () => {
    const b = buffer_create(1, buffer_fixed, 1);
    expect(buffer_exists(b)).toBe(true);
    buffer_delete(b);
    expect(buffer_exists(b)).toBe(false);
    expect(() => buffer_write(b, buffer_u8, 1)).toThrow(GmnetError);
    expect(() => buffer_read(b, buffer_u8)).toThrow(code("E_INVALID_BUFFER"));
    expect(() => buffer_delete(b)).toThrow(code("E_INVALID_BUFFER"));
    expect(() => gm.buffer_md5(12345, 0, 1)).toThrow(code("E_INVALID_BUFFER"));
  });

  it("ids are never reused, so a stale id cannot reach a newer buffer", () => {
    const first = buffer_create(1, buffer_fixed, 1);
    buffer_delete(first);
    const second = buffer_create(1, buffer_fixed, 1);
    expect(second).not.toBe(first);
    expect(buffer_exists(first)).toBe(false);
  });

  it("buffer_create rejects bad sizes, types and alignments with typed errors", () => {
    expect(() => buffer_create(-1, buffer_fixed, 1)).toThrow(code("E_INVALID_ARGUMENT"));
    expect(() => buffer_create(1.5, buffer_fixed, 1)).toThrow(code("E_INVALID_ARGUMENT"));
    expect(() => buffer_create(2 ** 31, buffer_fixed, 1)).toThrow(code("E_INVALID_ARGUMENT"));
    expect(() => buffer_create(1, 9, 1)).toThrow(code("E_INVALID_TYPE"));
    expect(() => buffer_create(1, buffer_fixed, 0)).toThrow(code("E_INVALID_ARGUMENT"));
    expect(() => buffer_create(1, buffer_fixed, 2048)).toThrow(code("E_INVALID_ARGUMENT"));
    expect(() => gm.buffer_sizeof(0)).toThrow(code("E_INVALID_TYPE"));
  });

  it("values of the wrong kind are refused with E_INVALID_VALUE, nothing written", () => {
    const b = buffer_create(4, buffer_fixed, 1);
    expect(() => buffer_write(b, buffer_u16, "12" as unknown as number)).toThrow(code("E_INVALID_VALUE"));
    expect(() => buffer_write(b, buffer_f32, undefined as unknown as number)).toThrow(code("E_INVALID_VALUE"));
    expect(() => buffer_write(b, buffer_string, {} as unknown as string)).toThrow(code("E_INVALID_VALUE"));
    expect(buffer_tell(b)).toBe(0);
    expect(buffer_get_used_size(b)).toBe(0);
  });

  it("numeric arguments must be numbers", () => {
    const b = buffer_create(4, buffer_fixed, 1);
    expect(() => buffer_seek(b, buffer_seek_start, "2" as unknown as number)).toThrow(code("E_INVALID_ARGUMENT"));
    expect(() => buffer_peek(b, Number.NaN, buffer_u8)).toThrow(code("E_INVALID_ARGUMENT"));
  });

  it("integer types wrap like C casts; bools and bigints are accepted as numbers", () => {
    const b = buffer_create(8, buffer_fixed, 1);
    buffer_write(b, buffer_u8, 257);
    buffer_write(b, buffer_s16, 40000);
    buffer_write(b, buffer_u8, true as unknown as number);
    buffer_write(b, buffer_u8, 3n as unknown as number);
    buffer_write(b, buffer_u8, 2.9);
    buffer_seek(b, buffer_seek_start, 0);
    expect([buffer_read(b, buffer_u8), buffer_read(b, buffer_s16), buffer_read(b, buffer_u8), buffer_read(b, buffer_u8), buffer_read(b, buffer_u8)]).toEqual([1, -25536, 1, 3, 2]);
  });

  it("messages name the function and the offending value", () => {
    try {
      buffer_read(-7, buffer_u32);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GmnetError);
      expect((error as GmnetError).message).toBe("E_INVALID_BUFFER: buffer_read: -7 is not a live buffer");
    }
  });
});
