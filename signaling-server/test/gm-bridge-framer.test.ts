/**
 * The units a bridged WebSocket client gets (gm-framer.ts), from hex fixtures of GameMaker's
 * documented wire format, under every split of the stream; and how the bridge tells a WebSocket
 * client from a plain TCP one by its first bytes (ws-upgrade.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GmFramer, GmFramerError } from "../src/bridge/gm-framer.js";
import { MAX_UPGRADE_HEADER_BYTES, sniffClient } from "../src/bridge/ws-upgrade.js";

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ""), "hex");

/** "GM:Studio-Connect\0" */
const GREETING = hex("474d3a53747564696f2d436f6e6e656374 00");
/** 0xDEAFBEAD 0xF00DBEEB 12, little-endian. */
const CONFIRM = hex("adbeafde ebbe0df0 0c000000");
/** 0xDEADC0DE 12 5 "hello" */
const HELLO = hex("dec0adde 0c000000 05000000 68656c6c6f");
/** An empty packet. */
const EMPTY = hex("dec0adde 0c000000 00000000");
/** 300 bytes of 0xab. */
const BIG = Buffer.concat([hex("dec0adde 0c000000 2c010000"), Buffer.alloc(300, 0xab)]);

const framer = (maxPacketBytes = 1 << 20): GmFramer => new GmFramer({ maxPacketBytes });

/** Pushes `stream` cut at `cuts` (sorted offsets) and returns every unit, as hex. */
function run(stream: Buffer, cuts: number[], f = framer()): string[] {
  const units: string[] = [];
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    for (const unit of f.push(stream.subarray(at, cut))) units.push(unit.toString("hex"));
    at = cut;
  }
  return units;
}

function packet(payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt32LE(0xdeadc0de, 0);
  header.writeUInt32LE(12, 4);
  header.writeUInt32LE(payload.length, 8);
  return Buffer.concat([header, payload]);
}

const cutsOf = (length: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 40 }).map((cuts) => cuts.filter((cut) => cut < length).sort((a, b) => a - b));

describe("GmFramer", () => {
  it("cuts the greeting, the confirmation and each packet into units of their own", () => {
    const f = framer();
    const stream = Buffer.concat([GREETING, CONFIRM, HELLO, EMPTY, BIG]);
    expect(run(stream, [], f)).toEqual([GREETING, CONFIRM, HELLO, EMPTY, BIG].map((unit) => unit.toString("hex")));
    expect(f.mode).toBe("gamemaker");
    expect(f.pending).toBe(0);
  });

  it("gives the same units fed byte by byte", () => {
    const stream = Buffer.concat([GREETING, CONFIRM, HELLO, BIG, EMPTY]);
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(run(stream, cuts)).toEqual([GREETING, CONFIRM, HELLO, BIG, EMPTY].map((unit) => unit.toString("hex")));
  });

  it("gives the same units under any split of any packets", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 12 }).chain((payloads) => {
          const units = [GREETING, CONFIRM, ...payloads.map((payload) => packet(Buffer.from(payload)))];
          const stream = Buffer.concat(units);
          return fc.tuple(fc.constant(units), fc.constant(stream), cutsOf(stream.length));
        }),
        ([units, stream, cuts]) => {
          expect(run(stream, cuts)).toEqual(units.map((unit) => unit.toString("hex")));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("holds an unfinished unit until the rest comes", () => {
    const f = framer();
    expect(f.push(GREETING.subarray(0, 17))).toEqual([]);
    expect(f.mode).toBe("detecting");
    expect(f.push(Buffer.concat([GREETING.subarray(17), CONFIRM, HELLO.subarray(0, 12)])).map((unit) => unit.toString("hex"))).toEqual([GREETING.toString("hex"), CONFIRM.toString("hex")]);
    expect(f.pending).toBe(12);
    expect(f.push(HELLO.subarray(12, 16))).toEqual([]);
    expect(f.push(HELLO.subarray(16)).map((unit) => unit.toString("hex"))).toEqual([HELLO.toString("hex")]);
  });

  it("is raw when the stream does not start with the greeting: each chunk is one unit, the bytes held while deciding first", () => {
    const f = framer();
    expect(f.push(hex("474d3a"))).toEqual([]); // "GM:" could still be the greeting
    expect(f.push(hex("58 0102")).map((unit) => unit.toString("hex"))).toEqual(["474d3a580102"]);
    expect(f.mode).toBe("raw");
    expect(f.push(CONFIRM).map((unit) => unit.toString("hex"))).toEqual([CONFIRM.toString("hex")]);
    expect(f.push(hex("ff")).map((unit) => unit.toString("hex"))).toEqual(["ff"]);
    expect(run(hex("68656c6c6f"), [2])).toEqual(["6865", "6c6c6f"]);
  });

  it("is raw under any split when a byte differs from the greeting, with every byte once and in order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: GREETING.length - 1 }),
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 255 }),
        (at, rest, flip) => {
          const stream = Buffer.concat([GREETING, Buffer.from(rest)]);
          stream[at] = stream[at]! ^ flip;
          const f = framer();
          const cuts = [at + 1, GREETING.length].filter((cut) => cut < stream.length);
          expect(Buffer.from(run(stream, cuts, f).join(""), "hex").equals(stream)).toBe(true);
          expect(f.mode).toBe("raw");
        },
      ),
    );
  });

  it("fails on a bad confirmation, a bad packet header and a packet over the limit, after the units before them", () => {
    const failed = (bytes: Buffer, f = framer()): [string[], string | undefined] => [f.push(bytes).map((unit) => unit.toString("hex")), f.error];
    expect(failed(Buffer.concat([GREETING, hex("adbeafde ebbe0df0 0d000000")]))).toEqual([[GREETING.toString("hex")], expect.stringMatching(/bad handshake confirmation/)]);
    expect(failed(Buffer.concat([GREETING, CONFIRM, hex("dec0adde 0d000000 00000000")]))[1]).toMatch(/bad packet header/);
    expect(failed(Buffer.concat([GREETING, CONFIRM, hex("efbeadde 0c000000 00000000")]))[1]).toMatch(/bad packet header/);
    expect(failed(Buffer.concat([GREETING, CONFIRM, hex("dec0adde 0c000000 65000000")]), framer(100))[1]).toMatch(/packet of 101 bytes/);
    const f = framer();
    expect(f.push(Buffer.concat([GREETING, CONFIRM, HELLO, hex("00000000 0c000000 00000000"), HELLO])).map((unit) => unit.toString("hex"))).toEqual([GREETING, CONFIRM, HELLO].map((unit) => unit.toString("hex")));
    expect(f.error).toMatch(/bad packet header 000000000c00000000000000/);
    expect(() => f.push(HELLO)).toThrow(GmFramerError);
    expect(framer().error).toBeUndefined();
  });
});

describe("sniffClient", () => {
  const request = (headers: string): Buffer => Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\n${headers}\r\n`, "latin1");

  it("tells a WebSocket upgrade request from anything else", () => {
    expect(sniffClient(request("Upgrade: websocket\r\nConnection: Upgrade\r\n"))).toBe("websocket");
    expect(sniffClient(request("connection: upgrade\r\nUPGRADE:WebSocket\r\n"))).toBe("websocket");
    expect(sniffClient(request("Accept: */*\r\n"))).toBe("tcp");
    expect(sniffClient(Buffer.from("POST / HTTP/1.1\r\n\r\n"))).toBe("tcp");
    expect(sniffClient(hex("bebafeca 0bb0adde 10000000 00000000"))).toBe("tcp");
    expect(sniffClient(Buffer.from("GE"))).toBe("more");
    expect(sniffClient(Buffer.from("GET / HTTP/1.1\r\nUpgrade: websocket\r\n"))).toBe("more");
    expect(sniffClient(Buffer.from(`GET /${"a".repeat(MAX_UPGRADE_HEADER_BYTES)}`))).toBe("tcp");
  });
});
