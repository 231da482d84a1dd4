/**
 * The P2P datagram layout inside a DataChannel message: `[u16 srcPort LE][u16 dstPort LE][data]`.
 * Hex fixtures, the rejection rules, and property tests (round trip; arbitrary bytes never throw).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { P2P_DATAGRAM_HEADER_SIZE, decodeP2pDatagram, encodeP2pDatagram } from "../src/network/udp/datagram-codec.js";

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
const fromHex = (text: string): Uint8Array => Uint8Array.from(text.split(" ").filter(Boolean), (pair) => parseInt(pair, 16));

describe("encodeP2pDatagram", () => {
  it("writes both ports little-endian in front of the data", () => {
    expect(hex(encodeP2pDatagram(0x1234, 0xabcd, Uint8Array.of(1, 2, 3)))).toBe("34 12 cd ab 01 02 03");
    expect(hex(encodeP2pDatagram(6510, 6511, new TextEncoder().encode("hi")))).toBe("6e 19 6f 19 68 69");
    expect(hex(encodeP2pDatagram(1, 65535, new Uint8Array(0)))).toBe("01 00 ff ff");
  });

  it("copies the data (a later change to the input does not show)", () => {
    const data = Uint8Array.of(9, 9);
    const encoded = encodeP2pDatagram(1, 2, data);
    data[0] = 0;
    expect(hex(encoded)).toBe("01 00 02 00 09 09");
  });

  it("encodes a view of a larger buffer by its own bytes only", () => {
    const backing = Uint8Array.of(0xee, 0x10, 0x20, 0xee);
    expect(hex(encodeP2pDatagram(2, 3, backing.subarray(1, 3)))).toBe("02 00 03 00 10 20");
  });

  it("rejects ports outside 1..65535", () => {
    for (const port of [0, -1, 65536, 1.5, Number.NaN]) {
      expect(() => encodeP2pDatagram(port, 1, new Uint8Array(0))).toThrow(RangeError);
      expect(() => encodeP2pDatagram(1, port, new Uint8Array(0))).toThrow(RangeError);
    }
  });
});

describe("decodeP2pDatagram", () => {
  it("reads the fixtures back", () => {
    const decoded = decodeP2pDatagram(fromHex("34 12 cd ab 01 02 03"));
    expect(decoded?.srcPort).toBe(0x1234);
    expect(decoded?.dstPort).toBe(0xabcd);
    expect(hex(decoded?.data ?? Uint8Array.of(0xff))).toBe("01 02 03");
    const empty = decodeP2pDatagram(fromHex("01 00 ff ff"));
    expect(empty).toBeDefined();
    expect(empty?.srcPort).toBe(1);
    expect(empty?.dstPort).toBe(65535);
    expect(empty?.data.length).toBe(0);
  });

  it("returns undefined for fewer than 4 bytes", () => {
    for (const text of ["", "01", "01 00", "01 00 02"]) expect(decodeP2pDatagram(fromHex(text))).toBeUndefined();
  });

  it("returns undefined when either port is 0", () => {
    expect(decodeP2pDatagram(fromHex("00 00 02 00 05"))).toBeUndefined();
    expect(decodeP2pDatagram(fromHex("02 00 00 00 05"))).toBeUndefined();
    expect(decodeP2pDatagram(fromHex("00 00 00 00"))).toBeUndefined();
  });

  it("decodes from a view at an offset", () => {
    const backing = fromHex("aa bb 05 00 06 00 07 08 cc");
    const decoded = decodeP2pDatagram(backing.subarray(2, 8));
    expect(decoded?.srcPort).toBe(5);
    expect(decoded?.dstPort).toBe(6);
    expect(hex(decoded?.data ?? new Uint8Array(0))).toBe("07 08");
  });
});

describe("datagram codec properties", () => {
  const port = fc.integer({ min: 1, max: 0xffff });

  it("decode(encode(x)) = x", () => {
    fc.assert(
      fc.property(port, port, fc.uint8Array({ maxLength: 2048 }), (srcPort, dstPort, data) => {
        const encoded = encodeP2pDatagram(srcPort, dstPort, data);
        expect(encoded.length).toBe(P2P_DATAGRAM_HEADER_SIZE + data.length);
        const decoded = decodeP2pDatagram(encoded);
        expect(decoded).toBeDefined();
        expect(decoded?.srcPort).toBe(srcPort);
        expect(decoded?.dstPort).toBe(dstPort);
        expect(Array.from(decoded?.data ?? [])).toEqual(Array.from(data));
      }),
    );
  });

  it("arbitrary bytes never throw, and whatever decodes re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const decoded = decodeP2pDatagram(bytes);
        const valid = bytes.length >= 4 && (bytes[0] !== 0 || bytes[1] !== 0) && (bytes[2] !== 0 || bytes[3] !== 0);
        expect(decoded !== undefined).toBe(valid);
        if (decoded) expect(hex(encodeP2pDatagram(decoded.srcPort, decoded.dstPort, decoded.data))).toBe(hex(bytes));
      }),
    );
  });
});
