/**
 * The bus entry codec (src/cluster/bus-entry.ts): the layout as a hand-written hex fixture, a
 * round trip over arbitrary messages, and every truncation of a valid entry refused with
 * E_BUS_ENTRY (never a short or shifted message).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BusEntryError, type PackedMessage, packMessages, packedSize, unpackMessages } from "../src/cluster/bus-entry.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const plain = (messages: PackedMessage[]) => messages.map(({ header, data }) => ({ header, data: data === undefined ? undefined : hex(data) }));

describe("bus entries", () => {
  it("lay messages out as u32 header length, header, u32 data length + 1, data", () => {
    const packed = packMessages([
      { header: '{"t":"a"}', data: undefined },
      { header: "é", data: new Uint8Array([0xde, 0xad]) },
      { header: "", data: new Uint8Array(0) },
    ]);
    // {"t":"a"} is 9 ASCII bytes; é is c3 a9 in UTF-8; no data is 0, two bytes are 3, empty data is 1.
    const expected =
      "00000009" + "7b2274223a2261227d" + "00000000" +
      "00000002" + "c3a9" + "00000003" + "dead" +
      "00000000" + "00000001";
    expect(hex(packed)).toBe(expected);
    expect(packed.byteLength).toBe(packedSize(9, undefined) + packedSize(2, new Uint8Array(2)) + packedSize(0, new Uint8Array(0)));
    expect(plain(unpackMessages(packed))).toEqual([
      { header: '{"t":"a"}', data: undefined },
      { header: "é", data: "dead" },
      { header: "", data: "" },
    ]);
  });

  it("an empty entry holds no messages", () => {
    expect(unpackMessages(packMessages([]))).toEqual([]);
  });

  it("give back exactly the messages packed", () => {
    const message = fc.record({ header: fc.string({ unit: "grapheme" }), data: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 20 }), (messages) => {
        expect(plain(unpackMessages(packMessages(messages)))).toEqual(plain(messages));
      }),
    );
  });

  it("refuse every truncation of a valid entry with E_BUS_ENTRY", () => {
    const packed = packMessages([
      { header: '{"t":"data","connId":7}', data: new Uint8Array([1, 2, 3, 4]) },
      { header: '{"t":"closed"}', data: undefined },
    ]);
    for (let length = 1; length < packed.byteLength; length++) {
      // Cutting exactly between the two messages leaves a valid entry of one message.
      if (length === packedSize(23, new Uint8Array(4))) continue;
      expect(() => unpackMessages(packed.subarray(0, length)), `cut at ${length}`).toThrow(BusEntryError);
    }
    expect(unpackMessages(packed.subarray(0, packedSize(23, new Uint8Array(4))))).toHaveLength(1);
  });

  it("refuse a header that is not UTF-8", () => {
    const bad = Buffer.from("00000002" + "c328" + "00000000", "hex");
    expect(() => unpackMessages(bad)).toThrow(expect.objectContaining({ code: "E_BUS_ENTRY" }));
  });
});
