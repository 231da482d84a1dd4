/** Hashes, base64 and zlib agree with Node's own implementations on arbitrary bytes. */
import { createHash } from "node:crypto";
import { crc32 as zlibCrc32, deflateSync, inflateSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bufferFrom, bytesOf, freshEngine } from "./helpers.js";

const gm = freshEngine();
const bytesArb = fc.uint8Array({ maxLength: 2048 });
const slice = fc.tuple(bytesArb, fc.nat(2100), fc.integer({ min: -1, max: 2100 }));

/** The range a (offset, size) pair selects in a non-wrap buffer. */
const selected = (bytes: Uint8Array, offset: number, size: number): Uint8Array => {
  const start = Math.min(offset, bytes.length);
  return bytes.subarray(start, size < 0 ? bytes.length : Math.min(bytes.length, start + size));
};

/** `check` holds for arbitrary bytes in a buffer and an arbitrary (offset, size) of it, given the bytes that range selects; the buffer is deleted after each run. */
function forAnyRange(check: (b: number, offset: number, size: number, range: Uint8Array) => void): void {
  fc.assert(
    fc.property(slice, ([bytes, offset, size]) => {
      const b = bufferFrom(gm, bytes);
      check(b, offset, size, selected(bytes, offset, size));
      gm.buffer_delete(b);
    }),
  );
}

describe("digests", () => {
  it("buffer_md5 and buffer_sha1 equal node:crypto over any range", () => {
    forAnyRange((b, offset, size, range) => {
      expect(gm.buffer_md5(b, offset, size)).toBe(createHash("md5").update(range).digest("hex"));
      expect(gm.buffer_sha1(b, offset, size)).toBe(createHash("sha1").update(range).digest("hex"));
    });
  });

  it("buffer_sha1 hashes bytes ≥ 0x80 as raw bytes (GameMaker's HTML5 runner does not)", () => {
    const b = bufferFrom(gm, new Uint8Array([0x80, 0xff, 0x00]));
    expect(gm.buffer_sha1(b, 0, 3)).toBe(createHash("sha1").update(Buffer.from([0x80, 0xff, 0x00])).digest("hex"));
  });

  it("buffer_crc32 equals zlib's crc32 (CRC-32/ISO-HDLC)", () => {
    forAnyRange((b, offset, size, range) => expect(gm.buffer_crc32(b, offset, size)).toBe(zlibCrc32(range)));
    const check = bufferFrom(gm, new TextEncoder().encode("123456789"));
    expect(gm.buffer_crc32(check, 0, 9)).toBe(0xcbf43926);
  });

  it("wrap buffers continue a range at their start", () => {
    const b = gm.buffer_create(4, gm.buffer_wrap, 1);
    [1, 2, 3, 4].forEach((v) => gm.buffer_write(b, gm.buffer_u8, v));
    expect(gm.buffer_md5(b, 2, 4)).toBe(createHash("md5").update(Buffer.from([3, 4, 1, 2])).digest("hex"));
  });
});

describe("base64", () => {
  it("encodes like Buffer.toString('base64') and decodes back", () => {
    forAnyRange((b, offset, size, range) => {
      const text = gm.buffer_base64_encode(b, offset, size);
      expect(text).toBe(Buffer.from(range).toString("base64"));
      const decoded = gm.buffer_base64_decode(text);
      expect(gm.buffer_get_type(decoded)).toBe(gm.buffer_grow);
      expect(bytesOf(gm, decoded)).toEqual(range);
      gm.buffer_delete(decoded);
    });
  });

  it("accepts the URL-safe alphabet and missing padding; refuses garbage with -1", () => {
    const decoded = gm.buffer_base64_decode("-_8");
    expect(bytesOf(gm, decoded)).toEqual(new Uint8Array([0xfb, 0xff]));
    expect(gm.buffer_base64_decode("not base64!")).toBe(-1);
    const target = gm.buffer_create(4, gm.buffer_fixed, 1);
    expect(gm.buffer_base64_decode_ext(target, "%%%", 0)).toBe(-1);
    expect(gm.buffer_base64_decode_ext(target, "AQID", 1)).toBe(3);
    expect(bytesOf(gm, target)).toEqual(new Uint8Array([0, 1, 2, 3]));
    expect(gm.buffer_base64_decode_ext(target, "AQID", 3)).toBe(1);
  });
});

describe("zlib compression", () => {
  it("buffer_compress output inflates with node:zlib", () => {
    forAnyRange((b, offset, size, range) => {
      const packed = gm.buffer_compress(b, offset, size);
      const zlibBytes = bytesOf(gm, packed);
      expect(zlibBytes[0]! & 0x0f).toBe(8); // RFC 1950 header: deflate method
      expect(new Uint8Array(inflateSync(zlibBytes))).toEqual(range);
      gm.buffer_delete(packed);
    });
  });

  it("node:zlib deflate output decompresses with buffer_decompress", () => {
    fc.assert(
      fc.property(bytesArb, fc.integer({ min: 0, max: 9 }), (bytes, level) => {
        const b = bufferFrom(gm, new Uint8Array(deflateSync(bytes, { level })));
        const unpacked = gm.buffer_decompress(b);
        expect(gm.buffer_get_used_size(unpacked)).toBe(bytes.length);
        expect(bytesOf(gm, unpacked)).toEqual(bytes);
        gm.buffer_delete(b);
        gm.buffer_delete(unpacked);
      }),
    );
  });

  it("garbage, truncated streams and bad checksums return -1, never throw", () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        const b = bufferFrom(gm, bytes);
        let expected: Uint8Array | undefined;
        try {
          expected = new Uint8Array(inflateSync(bytes));
        } catch {
          expected = undefined;
        }
        const result = gm.buffer_decompress(b);
        if (expected === undefined) expect(result).toBe(-1);
        else expect(bytesOf(gm, result)).toEqual(expected);
      }),
    );
    const good = new Uint8Array(deflateSync(Buffer.from("hello hello hello")));
    const truncated = bufferFrom(gm, good.subarray(0, good.length - 3));
    expect(gm.buffer_decompress(truncated)).toBe(-1);
    const corrupt = good.slice();
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect(gm.buffer_decompress(bufferFrom(gm, corrupt))).toBe(-1);
  });

  it("decompresses only the used part of the source", () => {
    const packed = new Uint8Array(deflateSync(Buffer.from("abc")));
    const b = gm.buffer_create(packed.length + 10, gm.buffer_fixed, 1);
    packed.forEach((byte) => gm.buffer_write(b, gm.buffer_u8, byte));
    expect(gm.buffer_get_used_size(b)).toBe(packed.length);
    expect(bytesOf(gm, gm.buffer_decompress(b))).toEqual(new TextEncoder().encode("abc"));
  });

  it("refuses to inflate past the engine's maxDecompressedSize (zip bombs)", async () => {
    const { createEngine, createMemoryStorage } = await import("../src/index.js");
    const small = createEngine({ storage: createMemoryStorage(), maxDecompressedSize: 1000 });
    const bomb = new Uint8Array(deflateSync(Buffer.alloc(1_000_000)));
    const b = bufferFrom(small, bomb);
    expect(small.buffer_decompress(b)).toBe(-1);
    const fine = bufferFrom(small, new Uint8Array(deflateSync(Buffer.alloc(1000))));
    expect(small.buffer_get_size(small.buffer_decompress(fine))).toBe(1000);
  });
});
