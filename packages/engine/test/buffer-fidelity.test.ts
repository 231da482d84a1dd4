/**
 * GameMaker fidelity (issue 13): `undefined` written as a string, and buffer_bool's truth rule.
 * Expected values come from GameMaker's manual and its HTML5 runner, not from gmnet's own output.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { freshEngine, hexOf } from "./helpers.js";

const gm = freshEngine();
const {
  buffer_create, buffer_write, buffer_read, buffer_peek, buffer_poke, buffer_fill, buffer_seek, buffer_tell,
  buffer_get_used_size, buffer_fixed, buffer_grow, buffer_string, buffer_text, buffer_bool, buffer_u8, buffer_seek_start,
} = gm;

const code = (c: string) => expect.objectContaining({ code: c });

describe("undefined written as a string", () => {
  /** buffer_write of `undefined` as `type` into a new buffer of `size` and `kind`: the buffer, what the write returned, and the bytes used. */
  const writeUndefined = (size: number, kind: number, type: number) => {
    const buffer = buffer_create(size, kind, 1);
    const returned = buffer_write(buffer, type, undefined as unknown as string);
    return { buffer, returned, bytes: hexOf(gm, buffer, buffer_get_used_size(buffer)) };
  };

  it('buffer_string writes "undefined" and a NUL', () => {
    const written = writeUndefined(16, buffer_fixed, buffer_string);
    expect(written).toMatchObject({ returned: 0, bytes: "75 6e 64 65 66 69 6e 65 64 00" });
    expect(buffer_tell(written.buffer)).toBe(10);
    buffer_seek(written.buffer, buffer_seek_start, 0);
    expect(buffer_read(written.buffer, buffer_string)).toBe("undefined");
  });

  it('buffer_text writes "undefined" without a NUL', () => {
    expect(writeUndefined(16, buffer_fixed, buffer_text)).toMatchObject({ returned: 0, bytes: "75 6e 64 65 66 69 6e 65 64" });
  });

  it("buffer_poke writes it at an offset, seek untouched", () => {
    const b = buffer_create(12, buffer_fixed, 1);
    expect(buffer_poke(b, 1, buffer_string, undefined as unknown as string)).toBe(0);
    expect(buffer_tell(b)).toBe(0);
    expect(hexOf(gm, b)).toBe("00 75 6e 64 65 66 69 6e 65 64 00 00");
    expect(buffer_peek(b, 1, buffer_string)).toBe("undefined");
    expect(buffer_poke(b, 0, buffer_text, undefined as unknown as string)).toBe(0);
    expect(buffer_peek(b, 0, buffer_string)).toBe("undefinedd");
  });

  it("the near-end path (encode first) writes the same bytes", () => {
    expect(writeUndefined(1, buffer_grow, buffer_string)).toMatchObject({ returned: 0, bytes: "75 6e 64 65 66 69 6e 65 64 00" });
  });

  it("null and objects are still refused with E_INVALID_VALUE, nothing written", () => {
    const b = buffer_create(16, buffer_fixed, 1);
    expect(() => buffer_write(b, buffer_string, null as unknown as string)).toThrow(code("E_INVALID_VALUE"));
    expect(() => buffer_write(b, buffer_text, {} as unknown as string)).toThrow(code("E_INVALID_VALUE"));
    expect(() => buffer_poke(b, 0, buffer_string, null as unknown as string)).toThrow(code("E_INVALID_VALUE"));
    expect(buffer_tell(b)).toBe(0);
    expect(buffer_get_used_size(b)).toBe(0);
  });
});

describe("buffer_bool follows GML's truth rule (a real is true when > 0.5)", () => {
  /** The byte buffer_bool stores for `value`, through buffer_write. */
  const stored = (value: unknown): number => {
    const b = buffer_create(1, buffer_fixed, 1);
    buffer_write(b, buffer_bool, value as number);
    const byte = buffer_peek(b, 0, buffer_u8) as number;
    gm.buffer_delete(b);
    return byte;
  };

  it.each([
    [-1, 0],
    [0, 0],
    [0.3, 0],
    [0.5, 0],
    [0.51, 1],
    [1, 1],
    [2, 1], // GameMaker's HTML5 runner stores 0 here; gmnet follows the GML rule instead
    [Number.NaN, 0],
    [-Infinity, 0],
    [Infinity, 1],
    [true, 1],
    [false, 0],
    [1n, 1],
    [0n, 0],
  ] as const)("%s stores %i", (value, byte) => {
    expect(stored(value)).toBe(byte);
  });

  it("any number stores 1 exactly when it is > 0.5, by write, poke and fill alike", () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.double({ min: 0.4, max: 0.6 }), fc.constantFrom(0.5, 0.5000000000000001, 0.49999999999999994)), (value) => {
        const expected = value > 0.5 ? 1 : 0;
        expect(stored(value)).toBe(expected);
        const b = buffer_create(4, buffer_fixed, 1);
        buffer_poke(b, 0, buffer_bool, value);
        buffer_fill(b, 1, buffer_bool, value, 3);
        expect(hexOf(gm, b)).toBe(Array(4).fill(expected ? "01" : "00").join(" "));
        buffer_seek(b, buffer_seek_start, 0);
        expect(buffer_read(b, buffer_bool)).toBe(expected === 1);
        gm.buffer_delete(b);
      }),
    );
  });
});
