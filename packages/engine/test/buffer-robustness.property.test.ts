/**
 * Property: any sequence of buffer calls with any numbers — negative, fractional, huge, NaN,
 * ±Infinity — either works or throws a GmnetError, and afterwards the buffer is still coherent:
 * 0 ≤ tell ≤ size, used ≤ size.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GmnetError } from "../src/index.js";
import { freshEngine, hexOf } from "./helpers.js";

const gm = freshEngine();

// Doubles stay small so a grow buffer never legitimately grows to gigabytes; the limits
// themselves (2^31, 2^53, ±Infinity) come from the constants.
const anyNumber = fc.oneof(
  fc.integer({ min: -20, max: 80 }),
  fc.double({ min: -1e4, max: 1e4 }),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 2 ** 31, 2 ** 53, -(2 ** 53)),
);
const anyType = fc.oneof(fc.integer({ min: -1, max: 15 }), fc.constantFrom(Number.NaN, 1.5, Infinity));
const anyValue = fc.oneof(anyNumber, fc.boolean(), fc.bigInt(), fc.string({ maxLength: 12 }), fc.constant(undefined));

type Call = (buffer: number) => unknown;
const callArb: fc.Arbitrary<Call> = fc.oneof(
  fc.tuple(anyType, anyValue).map(([t, v]): Call => (b) => gm.buffer_write(b, t, v as number)),
  anyType.map((t): Call => (b) => gm.buffer_read(b, t)),
  fc.tuple(anyType, anyNumber).map(([base, off]): Call => (b) => gm.buffer_seek(b, base, off)),
  fc.tuple(anyNumber, anyType).map(([off, t]): Call => (b) => gm.buffer_peek(b, off, t)),
  fc.tuple(anyNumber, anyType, anyValue).map(([off, t, v]): Call => (b) => gm.buffer_poke(b, off, t, v as number)),
  fc.tuple(anyNumber, anyType, anyValue, anyNumber).map(([off, t, v, n]): Call => (b) => gm.buffer_fill(b, off, t, v as number, Math.min(n, 4096))),
  fc.tuple(anyNumber, anyNumber, anyNumber).map(([so, n, d]): Call => (b) => gm.buffer_copy(b, so, n, b, d)),
  fc.tuple(anyNumber, anyNumber).map(([off, n]): Call => (b) => [gm.buffer_md5(b, off, n), gm.buffer_crc32(b, off, n), gm.buffer_base64_encode(b, off, n)]),
  fc.tuple(anyNumber, anyNumber).map(([off, n]): Call => (b) => gm.buffer_delete(gm.buffer_compress(b, off, n))),
  fc.nat(200).map((n): Call => (b) => gm.buffer_resize(b, n)),
  anyNumber.map((n): Call => (b) => gm.buffer_set_used_size(b, n)),
  fc.tuple(fc.string({ maxLength: 12 }), anyNumber).map(([s, off]): Call => (b) => gm.buffer_base64_decode_ext(b, s, off)),
);

describe("robustness", () => {
  it("arbitrary call sequences only ever throw GmnetError and keep the buffer coherent", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(gm.buffer_fixed, gm.buffer_grow, gm.buffer_wrap, gm.buffer_fast, gm.buffer_vbuffer),
        fc.nat(64),
        fc.constantFrom(1, 2, 4, 8),
        fc.array(callArb, { maxLength: 25 }),
        (type, size, alignment, calls) => {
          const b = gm.buffer_create(size, type, type === gm.buffer_fast ? 1 : alignment);
          for (const call of calls) {
            try {
              call(b);
            } catch (error) {
              if (!(error instanceof GmnetError)) throw error;
            }
            const [tell, used, total] = [gm.buffer_tell(b), gm.buffer_get_used_size(b), gm.buffer_get_size(b)];
            expect(Number.isInteger(tell) && tell >= 0 && tell <= total).toBe(true);
            expect(Number.isInteger(used) && used >= 0 && used <= total).toBe(true);
          }
          gm.buffer_delete(b);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("edge cases found by review", () => {
  it("non-finite offsets never alias offset 0", () => {
    const wrap = gm.buffer_create(4, gm.buffer_wrap, 1);
    gm.buffer_poke(wrap, 0, gm.buffer_u8, 7);
    expect(gm.buffer_peek(wrap, Infinity, gm.buffer_u8)).toBeUndefined();
    expect(gm.buffer_poke(wrap, Infinity, gm.buffer_u8, 9)).toBe(gm.buffer_error_out_of_space);
    expect(gm.buffer_seek(wrap, gm.buffer_seek_start, Infinity)).toBe(0);
    expect(hexOf(gm, wrap)).toBe("07 00 00 00");
  });

  it("a wrapped range goes round the buffer at most once", () => {
    const wrap = gm.buffer_create(3, gm.buffer_wrap, 1);
    expect(gm.buffer_base64_encode(wrap, 1, Infinity)).toBe("AAAA");
  });

  it("a string that does not fit leaves no partial bytes behind", () => {
    const b = gm.buffer_create(6, gm.buffer_fixed, 1);
    expect(gm.buffer_write(b, gm.buffer_string, "abcé…")).toBe(gm.buffer_error_out_of_space);
    expect(hexOf(gm, b)).toBe("00 00 00 00 00 00");
  });
});
