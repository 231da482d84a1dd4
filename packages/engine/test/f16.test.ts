/** buffer_f16: IEEE 754 binary16 with round-to-nearest-even, subnormals, infinities and NaN. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { freshEngine, hexOf } from "./helpers.js";

const gm = freshEngine();
const { buffer_create, buffer_poke, buffer_peek, buffer_f16, buffer_u16, buffer_fixed } = gm;
const b = buffer_create(2, buffer_fixed, 1);

const f16 = (x: number): number => {
  buffer_poke(b, 0, buffer_f16, x);
  return buffer_peek(b, 0, buffer_f16) as number;
};
const bitsOf = (x: number): string => {
  buffer_poke(b, 0, buffer_f16, x);
  return hexOf(gm, b);
};

describe("f16 conversion", () => {
  it.each([
    [1, "00 3c"],
    [-2, "00 c0"],
    [65504, "ff 7b"],
    [2 ** -14, "00 04"], // smallest normal
    [2 ** -24, "01 00"], // smallest subnormal
    [Infinity, "00 7c"],
    [-Infinity, "00 fc"],
    [-0, "00 80"],
  ])("encodes %d as %s", (value, hex) => {
    expect(bitsOf(value)).toBe(hex);
  });

  it("rounds to nearest, ties to even", () => {
    expect(f16(1 + 2 ** -11)).toBe(1); // tie between 1 and 1+2^-10 → even (1)
    expect(f16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // tie → even mantissa
    expect(f16(1 / 3)).toBe(0.333251953125);
    expect(f16(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal → 0
    expect(f16(3 * 2 ** -26)).toBe(2 ** -24);
  });

  it("overflows to infinity past the largest half, as IEEE rounding says", () => {
    expect(f16(65519)).toBe(65504);
    expect(f16(65520)).toBe(Infinity);
    expect(f16(-1e9)).toBe(-Infinity);
  });

  it("keeps NaN as NaN", () => {
    expect(f16(Number.NaN)).toBeNaN();
  });

  it("every one of the 65536 bit patterns decodes and re-encodes to itself (NaNs stay NaN)", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      buffer_poke(b, 0, buffer_u16, bits);
      const value = buffer_peek(b, 0, buffer_f16) as number;
      if (Number.isNaN(value)) {
        expect((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0).toBe(true);
        continue;
      }
      buffer_poke(b, 0, buffer_f16, value);
      if (buffer_peek(b, 0, buffer_u16) !== bits) expect.fail(`bits ${bits.toString(16)} → ${value} → ${String(buffer_peek(b, 0, buffer_u16))}`);
    }
  });

  it("the f16 nearest to any double is never further than the neighbouring halves", () => {
    fc.assert(
      fc.property(fc.double({ min: -65504, max: 65504, noNaN: true }), (x) => {
        const rounded = f16(x);
        buffer_poke(b, 0, buffer_f16, rounded);
        const bits = buffer_peek(b, 0, buffer_u16) as number;
        for (const neighbour of [bits - 1, bits + 1]) {
          if (neighbour < 0 || neighbour > 0xffff) continue;
          buffer_poke(b, 0, buffer_u16, neighbour);
          const other = buffer_peek(b, 0, buffer_f16) as number;
          if (Number.isFinite(other)) expect(Math.abs(other - x)).toBeGreaterThanOrEqual(Math.abs(rounded - x));
        }
      }),
    );
  });
});
