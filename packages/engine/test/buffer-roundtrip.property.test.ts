/**
 * Property: whatever sequence of values a script writes, reading the same types back from the
 * start returns the same values — in every buffer type, at every alignment.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { freshEngine } from "./helpers.js";

const gm = freshEngine();
const T = gm;

/** A data type with an arbitrary for values it stores exactly, and how it reads them back. */
interface Case {
  readonly type: number;
  readonly value: fc.Arbitrary<number | bigint | boolean | string>;
  readonly expected?: (written: never) => unknown;
}

const f32 = (x: number): number => Math.fround(x);
const cases: readonly Case[] = [
  { type: T.buffer_u8, value: fc.integer({ min: 0, max: 255 }) },
  { type: T.buffer_s8, value: fc.integer({ min: -128, max: 127 }) },
  { type: T.buffer_u16, value: fc.integer({ min: 0, max: 0xffff }) },
  { type: T.buffer_s16, value: fc.integer({ min: -0x8000, max: 0x7fff }) },
  { type: T.buffer_u32, value: fc.integer({ min: 0, max: 0xffffffff }) },
  { type: T.buffer_s32, value: fc.integer({ min: -0x80000000, max: 0x7fffffff }) },
  {
    type: T.buffer_u64,
    value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.maxSafeNat()),
    expected: (v: bigint | number) => (BigInt(v) <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : BigInt(v)),
  },
  // Every f16 value: all finite halves are exactly f32/f64 values with ≤ 11 significant bits.
  { type: T.buffer_f16, value: fc.integer({ min: -2048, max: 2048 }).chain((m) => fc.integer({ min: -24, max: 5 }).map((e) => m * 2 ** e)).filter((x) => Math.abs(x) <= 65504) },
  { type: T.buffer_f32, value: fc.float({ noNaN: true }), expected: (v: number) => f32(v) },
  { type: T.buffer_f64, value: fc.double({ noNaN: true }) },
  { type: T.buffer_bool, value: fc.boolean() },
  { type: T.buffer_string, value: fc.string({ unit: "grapheme", maxLength: 40 }).map((s) => s.replace(/\0/g, "")) },
];

const bufferTypes = [T.buffer_fixed, T.buffer_grow, T.buffer_wrap, T.buffer_vbuffer];
const alignments = [1, 2, 4, 8];

const itemArb = fc.constantFrom(...cases).chain((c) => c.value.map((value) => ({ c, value })));

describe("write → read round trip", () => {
  for (const bufferType of bufferTypes) {
    for (const alignment of alignments) {
      it(`${["fixed", "grow", "wrap", "fast", "vbuffer"][bufferType]} buffers, alignment ${alignment}`, () => {
        fc.assert(
          fc.property(fc.array(itemArb, { minLength: 1, maxLength: 30 }), (items) => {
            // Room for everything (strings up to 4 bytes per code point, padding up to 7 per item),
            // so fixed and wrap buffers hold the whole sequence and the property is about encoding.
            const capacity = bufferType === T.buffer_grow ? 1 : items.length * (8 + 7) + items.reduce((n, { value }) => n + (typeof value === "string" ? value.length * 4 + 1 : 0), 0);
            const b = gm.buffer_create(capacity, bufferType, alignment);
            try {
              for (const { c, value } of items) expect(gm.buffer_write(b, c.type, value)).toBe(0);
              const end = gm.buffer_tell(b);
              gm.buffer_seek(b, gm.buffer_seek_start, 0);
              for (const { c, value } of items) {
                const expected = c.expected ? c.expected(value as never) : value;
                expect(gm.buffer_read(b, c.type)).toStrictEqual(expected);
              }
              expect(gm.buffer_tell(b)).toBe(end);
            } finally {
              gm.buffer_delete(b);
            }
          }),
          { numRuns: 150 },
        );
      });
    }
  }

  it("buffer_fast buffers round-trip u8", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const b = gm.buffer_create(bytes.length, gm.buffer_fast, 1);
        bytes.forEach((byte) => gm.buffer_write(b, gm.buffer_u8, byte));
        gm.buffer_seek(b, gm.buffer_seek_start, 0);
        const read = Array.from(bytes, () => gm.buffer_read(b, gm.buffer_u8));
        gm.buffer_delete(b);
        expect(read).toEqual(Array.from(bytes));
      }),
    );
  });

  it("peek returns what poke stored, at any offset inside the buffer", () => {
    fc.assert(
      fc.property(itemArb, fc.nat(64), ({ c, value }, offset) => {
        const b = gm.buffer_create(200, gm.buffer_fixed, 1);
        expect(gm.buffer_poke(b, offset, c.type, value)).toBe(0);
        const expected = c.expected ? c.expected(value as never) : value;
        expect(gm.buffer_peek(b, offset, c.type)).toStrictEqual(expected);
        expect(gm.buffer_tell(b)).toBe(0);
        gm.buffer_delete(b);
      }),
    );
  });
});
