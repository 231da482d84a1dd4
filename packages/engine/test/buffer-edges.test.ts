/**
 * Buffer edge behaviours gmnet decides where GameMaker's manual is silent (docs/BUFFERS.md,
 * "Edges" and "Differences from GameMaker's HTML5 runner"): buffer_fill outside the buffer and on
 * wrap buffers, invalid UTF-8, wrapped ranges, negative and wrapped offsets, u64 out of range.
 * Expected bytes are written out by hand from the documented rule; hashes, base64 and zlib come
 * from node:crypto, Buffer and node:zlib, never from the code under test.
 */
import { createHash } from "node:crypto";
import { crc32 as zlibCrc32, inflateSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bytesOf, fillOutcome, freshEngine, hexOf } from "./helpers.js";

const gm = freshEngine();
const {
  buffer_create, buffer_write, buffer_read, buffer_peek, buffer_poke, buffer_fill, buffer_copy, buffer_seek,
  buffer_get_size, buffer_get_used_size, buffer_fixed, buffer_grow, buffer_wrap, buffer_u8, buffer_u16, buffer_u32,
  buffer_u64, buffer_string, buffer_text, buffer_seek_start, buffer_error_out_of_space,
} = gm;

/** A buffer of `type` holding `bytes` (written with poke, so seek stays 0 and used size = length). */
const make = (type: number, bytes: number[], alignment = 1): number => {
  const b = buffer_create(bytes.length, type, alignment);
  bytes.forEach((byte, i) => buffer_poke(b, i, buffer_u8, byte));
  return b;
};
const md5 = (bytes: number[]): string => createHash("md5").update(Uint8Array.from(bytes)).digest("hex");
const sha1 = (bytes: number[]): string => createHash("sha1").update(Uint8Array.from(bytes)).digest("hex");

describe("1. buffer_fill outside the buffer and on wrap buffers", () => {
  it("a negative size fills to the buffer's end (as GameMaker); grow buffers do not grow for it", () => {
    expect(fillOutcome(gm, buffer_create(6, buffer_fixed, 1), 2, buffer_u8, 0xaa, -1)).toEqual({ returned: 0, hex: "00 00 aa aa aa aa", used: 6 });
    const grow = buffer_create(4, buffer_grow, 1);
    expect(fillOutcome(gm, grow, 1, buffer_u16, 0x0102, -1)).toMatchObject({ returned: 0, hex: "00 02 01 00" });
    expect([buffer_get_size(grow), buffer_get_used_size(grow)]).toEqual([4, 3]);
  });

  it("a negative offset fills nothing and returns -2 on fixed and grow buffers", () => {
    for (const type of [buffer_fixed, buffer_grow]) {
      const b = buffer_create(4, type, 1);
      expect(buffer_fill(b, -1, buffer_u8, 9, 3)).toBe(buffer_error_out_of_space);
      expect(buffer_fill(b, -Infinity, buffer_u8, 9, 3)).toBe(buffer_error_out_of_space);
      expect([hexOf(gm, b), buffer_get_size(b), buffer_get_used_size(b)]).toEqual(["00 00 00 00", 4, 0]);
    }
  });

  it("an offset at or past the end returns -2, unless a grow buffer grows to reach it", () => {
    const fixed = buffer_create(4, buffer_fixed, 1);
    expect(buffer_fill(fixed, 4, buffer_u8, 9, 2)).toBe(buffer_error_out_of_space);
    expect(fillOutcome(gm, fixed, 4, buffer_u8, 9, -1)).toMatchObject({ returned: buffer_error_out_of_space, hex: "00 00 00 00" });
    const grow = buffer_create(4, buffer_grow, 1);
    expect(fillOutcome(gm, grow, 6, buffer_u8, 9, 2)).toEqual({ returned: 0, hex: "00 00 00 00 00 00 09 09", used: 8 });
    // Nothing to fill: no growth, so the offset stays outside.
    expect(buffer_fill(grow, 9, buffer_u8, 9, 0)).toBe(buffer_error_out_of_space);
    expect(buffer_get_size(grow)).toBe(8);
  });

  it("wrap buffers wrap the offset both ways and continue the fill at their start", () => {
    expect(fillOutcome(gm, buffer_create(6, buffer_wrap, 1), 4, buffer_u8, 7, 4)).toEqual({ returned: 0, hex: "07 07 00 00 07 07", used: 6 });
    expect(fillOutcome(gm, buffer_create(4, buffer_wrap, 1), -1, buffer_u8, 9, 2)).toMatchObject({ returned: 0, hex: "09 00 00 09" });
    expect(fillOutcome(gm, buffer_create(4, buffer_wrap, 1), 9, buffer_u8, 5, 1)).toEqual({ returned: 0, hex: "00 05 00 00", used: 2 });
  });

  it("on wrap buffers an item may straddle the end: its bytes continue at the start", () => {
    expect(fillOutcome(gm, buffer_create(5, buffer_wrap, 1), 4, buffer_u16, 0xbbaa, 4)).toMatchObject({ returned: 0, hex: "bb aa bb 00 aa" });
  });

  it("on wrap buffers a fill covers each byte at most once, and a negative size stops at the end", () => {
    const w = buffer_create(5, buffer_wrap, 1);
    expect(buffer_fill(w, 1, buffer_u16, 0xbbaa, 100)).toBe(0);
    // Five bytes from offset 1: items at 1 and 3; the third would need bytes 5 and 6 of a 5-byte lap.
    expect(hexOf(gm, w)).toBe("00 aa bb aa bb");
    expect(fillOutcome(gm, buffer_create(4, buffer_wrap, 1), 2, buffer_u8, 1, -1)).toMatchObject({ returned: 0, hex: "00 00 01 01" });
  });

  it("on wrap buffers alignment counts on past the end, as if the buffer repeated", () => {
    const w = make(buffer_wrap, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 4);
    expect(buffer_fill(w, 4, buffer_u16, 0x0201, 6)).toBe(0);
    // Item at 4–5; positions 6–7 (bytes 0–1) are the gap to 8; item at 8–9 (bytes 2–3).
    expect(hexOf(gm, w)).toBe("00 00 01 02 01 02");
  });

  it("never hangs: empty text, a size that is not a multiple of the item, a 0-byte wrap buffer", () => {
    expect(fillOutcome(gm, make(buffer_fixed, [1, 1, 1, 1, 1, 1, 1, 1]), 0, buffer_text, "", 8)).toMatchObject({ returned: 0, hex: "01 01 01 01 01 01 01 01" });
    expect(fillOutcome(gm, buffer_create(8, buffer_fixed, 1), 0, buffer_u32, 0x04030201, 6)).toEqual({ returned: 0, hex: "01 02 03 04 00 00 00 00", used: 4 });
    const empty = buffer_create(0, buffer_wrap, 1);
    expect(buffer_fill(empty, 0, buffer_u8, 1, 4)).toBe(buffer_error_out_of_space);
  });
});

describe("2. invalid UTF-8 in string reads", () => {
  /** Reads a buffer_string from a buffer holding `hex`, and peeks the same. */
  const decode = (hex: string): string => {
    const b = make(buffer_fixed, hex.split(" ").map((h) => parseInt(h, 16)));
    const peeked = buffer_peek(b, 0, buffer_string);
    const read = buffer_read(b, buffer_string);
    expect(peeked).toBe(read);
    return read as string;
  };
  const R = "\uFFFD";

  it.each([
    ["c3 28", `${R}(`], // a lead byte followed by a non-continuation
    ["e2 82", R], // truncated 3-byte sequence: one U+FFFD for the whole maximal subpart
    ["f0 9f 98", R], // truncated 4-byte sequence
    ["80", R], // lone continuation byte
    ["ff", R], // byte that never occurs in UTF-8
    ["c0 af", R + R], // overlong encoding: C0 never starts a sequence
    ["e0 80 af", R + R + R], // overlong 3-byte form
    ["ed a0 80", R + R + R], // a surrogate half encoded on its own
    ["ed a0 bd ed b8 80", R.repeat(6)], // CESU-8 of U+1F600 (what GameMaker's HTML5 runner writes)
    ["f4 90 80 80", R.repeat(4)], // above U+10FFFF
    ["41 ff 42", `A${R}B`], // the bytes around a bad one decode normally
    ["f0 9f 98 80", "\u{1F600}"], // real UTF-8 of the same character
  ])("%s reads as the expected text", (hex, text) => {
    expect(decode(hex)).toBe(text);
  });

  it("long invalid strings decode the same way (no short-string shortcut involved)", () => {
    expect(decode(Array(40).fill("ff").join(" "))).toBe(R.repeat(40));
  });

  it("a truncated sequence never swallows the NUL that ends the string", () => {
    const b = make(buffer_fixed, [0xe2, 0x82, 0x00, 0x41, 0x00]);
    expect(buffer_read(b, buffer_string)).toBe(R);
    expect(buffer_read(b, buffer_string)).toBe("A");
  });

  it("a leading U+FEFF is kept as a character, so it reads back as written", () => {
    expect(decode("ef bb bf 41")).toBe("\uFEFFA");
    const b = buffer_create(16, buffer_fixed, 1);
    buffer_write(b, buffer_string, "\uFEFFhi");
    buffer_seek(b, buffer_seek_start, 0);
    expect(buffer_read(b, buffer_string)).toBe("\uFEFFhi");
  });
});

describe("3. hash, base64, compress and save ranges on wrap buffers", () => {
  const w = make(buffer_wrap, [1, 2, 3, 4]);

  it("a size longer than the buffer goes round once: the range is one buffer length", () => {
    expect(gm.buffer_md5(w, 2, 100)).toBe(md5([3, 4, 1, 2]));
    expect(gm.buffer_sha1(w, 2, 100)).toBe(sha1([3, 4, 1, 2]));
    expect(gm.buffer_crc32(w, 2, 100)).toBe(zlibCrc32(Uint8Array.from([3, 4, 1, 2])));
    expect(gm.buffer_base64_encode(w, 2, 100)).toBe("AwQBAg==");
    expect(gm.buffer_base64_encode(w, 2, Infinity)).toBe("AwQBAg==");
  });

  it("the offset wraps both ways; a negative size runs to the end without wrapping", () => {
    expect(gm.buffer_md5(w, 6, 2)).toBe(md5([3, 4]));
    expect(gm.buffer_md5(w, -1, 2)).toBe(md5([4, 1]));
    expect(gm.buffer_md5(w, -7, 3)).toBe(md5([2, 3, 4]));
    expect(gm.buffer_md5(w, 1, -1)).toBe(md5([2, 3, 4]));
    expect(gm.buffer_base64_encode(w, 5, -1)).toBe("AgME");
  });

  it("a non-finite offset or a 0-byte wrap buffer gives the empty range", () => {
    expect(gm.buffer_md5(w, Infinity, 2)).toBe(md5([]));
    expect(gm.buffer_md5(w, -Infinity, 2)).toBe(md5([]));
    const empty = buffer_create(0, buffer_wrap, 1);
    expect(gm.buffer_md5(empty, 3, 5)).toBe("d41d8cd98f00b204e9800998ecf8427e");
    expect(gm.buffer_crc32(empty, 0, -1)).toBe(0);
    expect(gm.buffer_base64_encode(empty, 0, 9)).toBe("");
  });

  it("buffer_compress and buffer_save_ext take the same wrapped range", () => {
    const compressed = gm.buffer_compress(w, 3, 9);
    expect(inflateSync(bytesOf(gm, compressed))).toEqual(Buffer.from([4, 1, 2, 3]));
    expect(gm.buffer_save_ext(w, "wrapped.bin", 3, 9)).toBe(0);
    expect(hexOf(gm, gm.buffer_load("wrapped.bin"))).toBe("04 01 02 03");
  });

  it("property: every wrapped range equals node's hash over the bytes taken modulo the size", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: -300, max: 300 }),
        fc.integer({ min: -1, max: 300 }),
        (bytes, offset, size) => {
          const n = bytes.length;
          const start = ((offset % n) + n) % n;
          const count = size < 0 ? n - start : Math.min(size, n);
          const range = Uint8Array.from({ length: count }, (_, i) => bytes[(start + i) % n]!);
          const b = make(buffer_wrap, [...bytes]);
          expect(gm.buffer_md5(b, offset, size)).toBe(createHash("md5").update(range).digest("hex"));
          expect(gm.buffer_sha1(b, offset, size)).toBe(createHash("sha1").update(range).digest("hex"));
          expect(gm.buffer_crc32(b, offset, size)).toBe(zlibCrc32(range));
          expect(gm.buffer_base64_encode(b, offset, size)).toBe(Buffer.from(range).toString("base64"));
          gm.buffer_delete(b);
        },
      ),
    );
  });
});

describe("4. copy, poke and decode_ext with negative offsets, and wrap buffers with offsets past the end", () => {
  it("buffer_copy: a negative offset counts as 0 in fixed and grow buffers (as GameMaker)", () => {
    const src = make(buffer_fixed, [1, 2, 3]);
    const fixed = buffer_create(5, buffer_fixed, 1);
    expect(buffer_copy(src, 0, 3, fixed, -2)).toBe(3);
    expect(hexOf(gm, fixed)).toBe("01 02 03 00 00");
    const grow = buffer_create(1, buffer_grow, 1);
    expect(buffer_copy(src, -5, 2, grow, -1)).toBe(2);
    expect(hexOf(gm, grow)).toBe("01 02");
  });

  it("buffer_copy: wrap destinations wrap the offset both ways", () => {
    const src = make(buffer_fixed, [1, 2, 3]);
    const back = buffer_create(4, buffer_wrap, 1);
    expect(buffer_copy(src, 0, 3, back, -1)).toBe(3);
    expect(hexOf(gm, back)).toBe("02 03 00 01");
    expect(buffer_get_used_size(back)).toBe(4);
    const past = buffer_create(4, buffer_wrap, 1);
    expect(buffer_copy(src, 0, 2, past, 9)).toBe(2);
    expect(hexOf(gm, past)).toBe("00 01 02 00");
    expect(buffer_get_used_size(past)).toBe(3);
    expect(buffer_copy(src, 0, 2, past, Infinity)).toBe(0);
    expect(hexOf(gm, past)).toBe("00 01 02 00");
  });

  it("buffer_copy: wrap sources wrap the offset and give at most one buffer length", () => {
    const src = make(buffer_wrap, [1, 2, 3, 4]);
    const a = buffer_create(2, buffer_fixed, 1);
    expect(buffer_copy(src, -1, 2, a, 0)).toBe(2);
    expect(hexOf(gm, a)).toBe("04 01");
    const grow = buffer_create(1, buffer_grow, 1);
    expect(buffer_copy(src, 5, 10, grow, 0)).toBe(4);
    expect(hexOf(gm, grow, 4)).toBe("02 03 04 01");
    expect(buffer_get_used_size(grow)).toBe(4);
  });

  it("buffer_poke: wrap buffers wrap negative offsets like peek; values are never split", () => {
    const w = buffer_create(4, buffer_wrap, 1);
    expect(buffer_poke(w, -1, buffer_u8, 9)).toBe(0);
    expect(buffer_poke(w, -6, buffer_u8, 8)).toBe(0);
    expect(hexOf(gm, w)).toBe("00 00 08 09");
    expect(buffer_peek(w, -2, buffer_u8)).toBe(8);
    expect(buffer_poke(w, -1, buffer_u16, 0x0102)).toBe(buffer_error_out_of_space);
    expect(buffer_poke(w, 7, buffer_u16, 0x0102)).toBe(buffer_error_out_of_space);
    expect(buffer_poke(w, -4, buffer_u16, 0x0102)).toBe(0);
    expect(hexOf(gm, w)).toBe("02 01 08 09");
    expect(buffer_peek(w, 3, buffer_u16)).toBeUndefined();
  });

  it("buffer_poke: other buffers refuse a negative offset with -2 (grow buffers do not grow)", () => {
    const grow = buffer_create(2, buffer_grow, 1);
    expect(buffer_poke(grow, -1, buffer_u8, 1)).toBe(buffer_error_out_of_space);
    expect(buffer_poke(grow, -0.5, buffer_u8, 1)).toBe(buffer_error_out_of_space);
    expect([hexOf(gm, grow), buffer_get_size(grow), buffer_get_used_size(grow)]).toEqual(["00 00", 2, 0]);
  });

  it("buffer_base64_decode_ext places bytes like buffer_copy", () => {
    const fixed = buffer_create(5, buffer_fixed, 1);
    expect(gm.buffer_base64_decode_ext(fixed, "AQID", -3)).toBe(3);
    expect(hexOf(gm, fixed)).toBe("01 02 03 00 00");
    const back = buffer_create(4, buffer_wrap, 1);
    expect(gm.buffer_base64_decode_ext(back, "AQID", -2)).toBe(3);
    expect(hexOf(gm, back)).toBe("03 00 01 02");
    const past = buffer_create(4, buffer_wrap, 1);
    expect(gm.buffer_base64_decode_ext(past, "AQID", 5)).toBe(3);
    expect(hexOf(gm, past)).toBe("00 01 02 03");
  });

  it("buffer_load_ext and buffer_load_partial place bytes like buffer_copy", () => {
    expect(gm.buffer_save(make(buffer_fixed, [1, 2, 3]), "three.bin")).toBe(0);
    const wrap = buffer_create(4, buffer_wrap, 1);
    expect(gm.buffer_load_ext(wrap, "three.bin", -1)).toBe(3);
    expect(hexOf(gm, wrap)).toBe("02 03 00 01");
    const fixed = buffer_create(4, buffer_fixed, 1);
    expect(gm.buffer_load_partial(fixed, "three.bin", -4, 2, -1)).toBe(2);
    expect(hexOf(gm, fixed)).toBe("01 02 00 00");
    expect(gm.buffer_load_partial(wrap, "three.bin", 1, -1, 6)).toBe(2);
    expect(hexOf(gm, wrap)).toBe("02 03 02 03");
  });
});

describe("5. buffer_u64 outside 0 … 2^64 − 1 wraps modulo 2^64", () => {
  /** The 8 bytes buffer_u64 stores for `value`, and what reading them back gives. */
  const u64 = (value: number | bigint): [string, unknown] => {
    const b = buffer_create(8, buffer_fixed, 1);
    expect(buffer_write(b, buffer_u64, value)).toBe(0);
    const stored: [string, unknown] = [hexOf(gm, b), buffer_peek(b, 0, buffer_u64)];
    gm.buffer_delete(b);
    return stored;
  };

  it.each<[string, number | bigint, string, number | bigint]>([
    ["2^63 (GameMaker's HTML5 runner saturates it to 2^63 − 1)", 2 ** 63, "00 00 00 00 00 00 00 80", 9223372036854775808n],
    ["2^64 − 2048, the largest double below 2^64", 2 ** 64 - 2048, "00 f8 ff ff ff ff ff ff", 18446744073709549568n],
    ["2^64", 2 ** 64, "00 00 00 00 00 00 00 00", 0],
    ["2^64 + 4096", 2 ** 64 + 4096, "00 10 00 00 00 00 00 00", 4096],
    ["1.5 × 2^64", 1.5 * 2 ** 64, "00 00 00 00 00 00 00 80", 9223372036854775808n],
    ["1e20 (0x5_6BC7_5E2D_6310_0000)", 1e20, "00 00 10 63 2d 5e c7 6b", 7766279631452241920n],
    ["2^117, a multiple of 2^64", 2 ** 117, "00 00 00 00 00 00 00 00", 0],
    ["Number.MAX_VALUE, a multiple of 2^64", Number.MAX_VALUE, "00 00 00 00 00 00 00 00", 0],
    ["−1", -1, "ff ff ff ff ff ff ff ff", 18446744073709551615n],
    ["−1.9 (truncates to −1)", -1.9, "ff ff ff ff ff ff ff ff", 18446744073709551615n],
    ["−0.5 (truncates to 0)", -0.5, "00 00 00 00 00 00 00 00", 0],
    ["−2^63", -(2 ** 63), "00 00 00 00 00 00 00 80", 9223372036854775808n],
    ["−2^64", -(2 ** 64), "00 00 00 00 00 00 00 00", 0],
    ["2^52 − 0.5 (truncates)", 2 ** 52 - 0.5, "ff ff ff ff ff ff 0f 00", 4503599627370495],
    ["NaN", Number.NaN, "00 00 00 00 00 00 00 00", 0],
    ["Infinity", Infinity, "00 00 00 00 00 00 00 00", 0],
    ["−Infinity", -Infinity, "00 00 00 00 00 00 00 00", 0],
    ["2n^64 + 5n", 2n ** 64n + 5n, "05 00 00 00 00 00 00 00", 5],
    ["−2n^64 − 1n", -(2n ** 64n) - 1n, "ff ff ff ff ff ff ff ff", 18446744073709551615n],
  ])("%s", (_name, value, hex, back) => {
    expect(u64(value)).toEqual([hex, back]);
  });

  /** The expected little-endian bytes of BigInt.asUintN(64, value). */
  const hexOfBig = (value: bigint): string => {
    const wrapped = BigInt.asUintN(64, value);
    return Array.from({ length: 8 }, (_, i) => ((wrapped >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, "0")).join(" ");
  };
  const asRead = (value: bigint): number | bigint => {
    const wrapped = BigInt.asUintN(64, value);
    return wrapped <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(wrapped) : wrapped;
  };

  it("property: bigints store BigInt.asUintN(64, value)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), (value) => {
        expect(u64(value)).toEqual([hexOfBig(value), asRead(value)]);
      }),
    );
  });

  it("property: finite numbers store BigInt.asUintN(64, trunc(value))", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const exact = BigInt(Math.trunc(value));
        expect(u64(value)).toEqual([hexOfBig(exact), asRead(exact)]);
      }),
    );
  });
});

describe("runner bugs gmnet does not copy", () => {
  it("base64 of 1–3 bytes decodes to those bytes (the runner gives an empty buffer)", () => {
    expect(hexOf(gm, gm.buffer_base64_decode("AQ=="))).toBe("01");
    expect(hexOf(gm, gm.buffer_base64_decode("AQI="))).toBe("01 02");
    expect(hexOf(gm, gm.buffer_base64_decode("AQID"))).toBe("01 02 03");
  });

  it("buffer_set_used_size can lower the used size (the runner only raises it)", () => {
    const b = buffer_create(8, buffer_fixed, 1);
    buffer_write(b, buffer_u32, 1);
    gm.buffer_set_used_size(b, 1);
    expect(buffer_get_used_size(b)).toBe(1);
  });

  it("a 0-byte wrap buffer answers every call at once (the runner loops forever)", () => {
    const w = buffer_create(0, buffer_wrap, 1);
    expect(buffer_write(w, buffer_u8, 1)).toBe(buffer_error_out_of_space);
    expect(buffer_write(w, buffer_string, "a")).toBe(buffer_error_out_of_space);
    expect(buffer_read(w, buffer_u8)).toBeUndefined();
    expect(buffer_read(w, buffer_text)).toBe("");
    expect(buffer_peek(w, 3, buffer_u8)).toBeUndefined();
    expect(buffer_poke(w, 3, buffer_u8, 1)).toBe(buffer_error_out_of_space);
    expect(buffer_seek(w, buffer_seek_start, 5)).toBe(0);
    expect(buffer_copy(make(buffer_fixed, [1]), 0, 1, w, 0)).toBe(0);
    expect([buffer_get_size(w), buffer_get_used_size(w)]).toEqual([0, 0]);
  });
});
