/**
 * Message payloads (PROTOCOL.md §5): every codec of messages.ts against a layout table written
 * here from the spec — a reference encoder built from that table must produce the codec's exact
 * bytes, and values round-trip. Then the decoder's refusals: truncated, extended, invalid UTF-8,
 * over-long strings, booleans other than 0/1; hex fixtures. IPv4 text ↔ u32 is ipv4.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FrameError, type MessageCodec, ProtocolError } from "../src/index.js";
import * as messages from "../src/messages.js";
import { parseIpv4 } from "../src/messages.js";

// ------------------------------------------------------------------ the layout table

/** `text`: all remaining bytes as strict UTF-8, no length prefix (like `rest`, but a string). */
type Kind = "u8" | "u16" | "u32" | "f64" | "bool" | "rest" | "text" | { str: number };
type Layout = ReadonlyArray<readonly [field: string, kind: Kind]>;

const NAME = { str: messages.MAX_NAME_BYTES };

/** Every message of messages.ts: its fields in wire order, as PROTOCOL.md lists them. */
const LAYOUTS: Record<string, Layout> = {
  Hello: [["version", "u16"], ["appKey", NAME], ["secret", { str: 128 }], ["token", { str: 256 }]],
  Welcome: [
    ["version", "u16"],
    ["virtualIp", "u32"],
    ["sessionId", { str: 64 }],
    ["heartbeatIntervalMs", "u32"],
    ["heartbeatTimeoutMs", "u32"],
    ["tickRate", "u16"],
    ["maxFrameSize", "u32"],
    ["serverTime", "f64"],
  ],
  ErrorMessage: [["code", "u16"], ["refChannel", "u16"], ["refType", "u16"], ["refId", "u32"], ["message", { str: 1024 }]],
  Ping: [["nonce", "u32"], ["serverTime", "f64"]],
  Pong: [["nonce", "u32"]],
  Echo: [["nonce", "u32"]],
  Resume: [["sessionId", NAME], ["received", "u32"]],
  Resumed: [["resumed", "bool"], ["received", "u32"], ["resumeWindowMs", "u32"]],
  Ack: [["received", "u32"]],
  Drain: [["retryAfterMs", "u32"]],
  ChannelRegister: [["name", NAME]],
  ChannelAssigned: [["name", NAME], ["channel", "u16"]],
  ChannelUnregister: [["channel", "u16"]],
  ChannelData: [["fromIp", "u32"], ["data", "rest"]],
  McpToolRegister: [["name", { str: 64 }], ["description", { str: 4096 }], ["schema", { str: 16384 }]],
  McpToolRegistered: [["name", { str: 64 }], ["status", "u8"], ["message", { str: 1024 }]],
  McpToolUnregister: [["name", { str: 64 }]],
  LlmCall: [["callId", "u32"], ["tool", { str: 64 }], ["args", "text"]],
  LlmResult: [["callId", "u32"], ["isError", "bool"], ["content", "text"]],
  LlmCallEnded: [["callId", "u32"], ["reason", "u8"]],
  VirtualIp: [["ip", "u32"]],
  ResolveRequest: [["reqId", "u32"], ["name", NAME]],
  ResolveResponse: [["reqId", "u32"], ["ip", "u32"]],
  HostnameClaim: [["reqId", "u32"], ["name", NAME]],
  HostnameResult: [["reqId", "u32"], ["ok", "bool"]],
  SocketRequest: [["reqId", "u32"], ["peerIp", "u32"], ["peerPort", "u16"], ["localPort", "u16"]],
  SocketStatusResponse: [["reqId", "u32"], ["listening", "bool"]],
  SocketConnectionResponse: [["reqId", "u32"], ["accepted", "bool"]],
  SocketConnected: [["reqId", "u32"], ["connId", "u32"], ["peerIp", "u32"], ["peerPort", "u16"], ["localPort", "u16"]],
  RequestFailed: [["reqId", "u32"], ["reason", "u8"]],
  ArbitraryData: [["connId", "u32"], ["seq", "u32"], ["data", "rest"]],
  SocketClosed: [["connId", "u32"], ["reason", "u8"]],
  StreamAck: [["connId", "u32"], ["seq", "u32"]],
  BridgeConnect: [["reqId", "u32"], ["host", { str: 255 }], ["port", "u16"], ["localPort", "u16"]],
  UdpBind: [["port", "u16"]],
  Datagram: [["peerIp", "u32"], ["peerPort", "u16"], ["localPort", "u16"], ["data", "rest"]],
  Broadcast: [["port", "u16"], ["localPort", "u16"], ["data", "rest"]],
  SignalRelay: [["peerIp", "u32"], ["pairId", "u32"], ["kind", "u8"], ["data", { str: 16384 }]],
  IceServersRequest: [["reqId", "u32"]],
  IceServers: [["reqId", "u32"], ["json", { str: 8192 }]],
  MasterRequest: [["reqId", "u32"], ["op", "u16"], ["body", "rest"]],
  MasterResponse: [["reqId", "u32"], ["op", "u16"], ["status", "u8"], ["body", "rest"]],
  MasterEventMessage: [["event", "u16"], ["body", "rest"]],
};

type Value = Record<string, unknown>;
type AnyCodec = MessageCodec<Value>;

const isCodec = (x: unknown): x is AnyCodec =>
  typeof x === "object" && x !== null && typeof (x as AnyCodec).encode === "function" && typeof (x as AnyCodec).decode === "function";

/** Every codec messages.ts exports, by export name. */
const CODECS: Array<[string, AnyCodec]> = (Object.entries(messages) as Array<[string, unknown]>).filter((entry): entry is [string, AnyCodec] => isCodec(entry[1]));

function codecNamed(name: string): AnyCodec {
  const found = CODECS.find(([exported]) => exported === name);
  if (!found) throw new Error(`messages.ts exports no codec ${name}`);
  return found[1];
}

// ------------------------------------------------------------------ reference encoder and arbitraries

const utf8 = new TextEncoder();

/** A field's value on the wire: strings may be given as raw bytes to write invalid UTF-8. */
function fieldBytes(kind: Kind, value: unknown): Uint8Array {
  const out = new Uint8Array(kind === "u8" || kind === "bool" ? 1 : kind === "u16" ? 2 : kind === "u32" ? 4 : kind === "f64" ? 8 : 0);
  const view = new DataView(out.buffer);
  if (kind === "u8") view.setUint8(0, value as number);
  else if (kind === "bool") view.setUint8(0, value === true ? 1 : value === false ? 0 : (value as number));
  else if (kind === "u16") view.setUint16(0, value as number, true);
  else if (kind === "u32") view.setUint32(0, value as number, true);
  else if (kind === "f64") view.setFloat64(0, value as number, true);
  else if (kind === "rest") return value as Uint8Array;
  else if (kind === "text") return typeof value === "string" ? utf8.encode(value) : (value as Uint8Array);
  else {
    const text = typeof value === "string" ? utf8.encode(value) : (value as Uint8Array);
    const prefixed = new Uint8Array(2 + text.length);
    new DataView(prefixed.buffer).setUint16(0, text.length, true);
    prefixed.set(text, 2);
    return prefixed;
  }
  return out;
}

/** Encodes `value` from the layout table alone: the bytes PROTOCOL.md says the message has. */
function referenceEncode(layout: Layout, value: Value): { bytes: Uint8Array; offsets: Record<string, number> } {
  const parts = layout.map(([field, kind]) => fieldBytes(kind, value[field]));
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  const offsets: Record<string, number> = {};
  let at = 0;
  layout.forEach(([field], i) => {
    offsets[field] = at;
    bytes.set(parts[i]!, at);
    at += parts[i]!.length;
  });
  return { bytes, offsets };
}

const utf8Length = (text: string): number => utf8.encode(text).length;

/** Strings of at most `max` UTF-8 bytes: any code points, or printable ASCII up to exactly `max` bytes. */
function stringArb(max: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: "binary", maxLength: Math.min(Math.floor(max / 4), 200) }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }).filter((s) => utf8Length(s) <= max) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: max, maxLength: max }) },
  );
}

function arbOf(kind: Kind): fc.Arbitrary<unknown> {
  switch (kind) {
    case "u8":
      return fc.integer({ min: 0, max: 0xff });
    case "u16":
      return fc.integer({ min: 0, max: 0xffff });
    case "u32":
      return fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff));
    case "f64":
      return fc.double(); // includes NaN, ±0, ±Infinity
    case "bool":
      return fc.boolean();
    case "rest":
      return fc.uint8Array({ maxLength: 1024 });
    case "text":
      return fc.string({ unit: "binary", maxLength: 200 });
    default:
      return stringArb(kind.str);
  }
}

const valueArb = (layout: Layout): fc.Arbitrary<Value> =>
  fc.record(Object.fromEntries(layout.map(([field, kind]) => [field, arbOf(kind)])) as Record<string, fc.Arbitrary<unknown>>);

const endsWithRest = (layout: Layout): boolean => layout.at(-1)?.[1] === "rest";
const endsWithText = (layout: Layout): boolean => layout.at(-1)?.[1] === "text";
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function expectMalformed(fn: () => unknown, pattern?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, "decode should throw").toBeInstanceOf(FrameError);
  expect((caught as FrameError).code).toBe(ProtocolError.MALFORMED_PAYLOAD);
  if (pattern) expect((caught as FrameError).message).toMatch(pattern);
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (text: string): Uint8Array => Uint8Array.from(text.replace(/\s+/g, "").match(/../g) ?? [], (pair) => parseInt(pair, 16));

// ------------------------------------------------------------------ tests

describe("message codecs", () => {
  it("the layout table covers every codec messages.ts exports, and nothing else", () => {
    expect(CODECS.length).toBeGreaterThan(0);
    expect(CODECS.map(([name]) => name).sort()).toEqual(Object.keys(LAYOUTS).sort());
  });

  for (const [name, layout] of Object.entries(LAYOUTS)) {
    describe(name, () => {
      const codec = (): AnyCodec => codecNamed(name);

      it("encodes exactly the bytes of the layout table and decodes them back to the same value", () => {
        fc.assert(
          fc.property(valueArb(layout), (value) => {
            const encoded = codec().encode(value);
            expect(hex(encoded)).toBe(hex(referenceEncode(layout, value).bytes));
            expect(codec().decode(encoded)).toEqual(value);
          }),
          { numRuns: 60 },
        );
      });

      it("decodes a payload that is a view into a larger buffer (as frames deliver it)", () => {
        fc.assert(
          fc.property(valueArb(layout), fc.uint8Array({ maxLength: 9 }), fc.uint8Array({ maxLength: 9 }), (value, before, after) => {
            const encoded = codec().encode(value);
            const big = new Uint8Array(before.length + encoded.length + after.length);
            big.set(before);
            big.set(encoded, before.length);
            big.set(after, before.length + encoded.length);
            expect(codec().decode(big.subarray(before.length, before.length + encoded.length))).toEqual(value);
          }),
          { numRuns: 30 },
        );
      });

      it("refuses every truncation with MALFORMED_PAYLOAD", () => {
        fc.assert(
          fc.property(valueArb(layout), fc.nat(), (value, pick) => {
            const encoded = codec().encode(value);
            // With a trailing `rest` field, a shorter payload is only wrong if it cuts into the fixed part.
            const limit = endsWithRest(layout) ? codec().encode({ ...value, [layout.at(-1)![0]]: new Uint8Array(0) }).length
              : endsWithText(layout) ? codec().encode({ ...value, [layout.at(-1)![0]]: "" }).length : encoded.length;
            if (limit === 0) return;
            const cut = pick % limit;
            expectMalformed(() => codec().decode(encoded.subarray(0, cut)));
          }),
          { numRuns: 60 },
        );
      });

      it(endsWithRest(layout) || endsWithText(layout) ? "takes extra bytes as part of its trailing data" : "refuses trailing bytes with MALFORMED_PAYLOAD", () => {
        fc.assert(
          fc.property(valueArb(layout), fc.uint8Array({ minLength: 1, maxLength: 16 }), (value, extra) => {
            const encoded = codec().encode(value);
            const extended = new Uint8Array(encoded.length + extra.length);
            extended.set(encoded);
            extended.set(extra, encoded.length);
            if (endsWithRest(layout)) {
              const field = layout.at(-1)![0];
              const data = value[field] as Uint8Array;
              const longer = new Uint8Array(data.length + extra.length);
              longer.set(data);
              longer.set(extra, data.length);
              expect(codec().decode(extended)).toEqual({ ...value, [field]: longer });
            } else if (endsWithText(layout)) {
              // The text grows by the extra bytes when they keep it valid UTF-8; otherwise the payload is malformed.
              const field = layout.at(-1)![0];
              let longer: string | undefined;
              try {
                longer = strictUtf8.decode(new Uint8Array([...utf8.encode(value[field] as string), ...extra]));
              } catch {
                longer = undefined;
              }
              if (longer === undefined) expectMalformed(() => codec().decode(extended), /UTF-8/);
              else expect(codec().decode(extended)).toEqual({ ...value, [field]: longer });
            } else {
              expectMalformed(() => codec().decode(extended), /trailing|exactly/);
            }
          }),
          { numRuns: 40 },
        );
      });

      const strings = layout.filter(([, kind]) => typeof kind === "object" || kind === "text");
      if (strings.length > 0) {
        it("refuses strings that are not valid UTF-8", () => {
          const invalid = fc.constantFrom(
            [0xff],
            [0x80], // lone continuation byte
            [0xc0, 0x80], // overlong NUL
            [0xe2, 0x82], // cut-off 3-byte sequence
            [0xed, 0xa0, 0x80], // UTF-16 surrogate D800
            [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
          );
          fc.assert(
            fc.property(valueArb(layout), fc.constantFrom(...strings.map(([field]) => field)), invalid, fc.string({ maxLength: 8 }), (value, field, bad, prefix) => {
              const raw = new Uint8Array([...utf8.encode(prefix), ...bad]);
              const { bytes } = referenceEncode(layout, { ...value, [field]: raw });
              expectMalformed(() => codec().decode(bytes), /UTF-8/);
            }),
            { numRuns: 40 },
          );
        });

        it("refuses a string longer than its field's limit, even if the bytes are there", () => {
          for (const [field, kind] of strings) {
            if (kind === "text") continue; // bounded by the frame, not by a length field
            const max = (kind as { str: number }).str;
            const value = fc.sample(valueArb(layout), { numRuns: 1, seed: 42 })[0]!;
            const { bytes } = referenceEncode(layout, { ...value, [field]: new Uint8Array(max + 1).fill(0x61) });
            expectMalformed(() => codec().decode(bytes), /exceeds/);
            expect(() => codec().encode({ ...value, [field]: "a".repeat(max + 1) })).toThrow(RangeError);
          }
        });
      }

      const bools = layout.filter(([, kind]) => kind === "bool");
      if (bools.length > 0) {
        it("refuses a boolean byte other than 0 or 1", () => {
          fc.assert(
            fc.property(valueArb(layout), fc.constantFrom(...bools.map(([field]) => field)), fc.integer({ min: 2, max: 255 }), (value, field, byte) => {
              const { bytes, offsets } = referenceEncode(layout, value);
              bytes[offsets[field]!] = byte;
              expectMalformed(() => codec().decode(bytes), /boolean/);
            }),
            { numRuns: 20 },
          );
        });
      }
    });
  }
});

describe("message hex fixtures (written by hand from PROTOCOL.md)", () => {
  it("Hello", () => {
    const value = { version: 1, appKey: "game", secret: "abc", token: "" };
    //            version  appKey: len "game"    secret: len "abc"  token: len
    const fixture = "0100   0400 67616d65          0300 616263        0000";
    expect(hex(messages.Hello.encode(value))).toBe(fixture.replace(/\s+/g, ""));
    expect(messages.Hello.decode(fromHex(fixture))).toEqual(value);
  });

  it("ArbitraryData", () => {
    const value = { connId: 0x01020304, seq: 1, data: Uint8Array.of(0xff, 0x00, 0x7f) };
    //              connId    seq       data (rest of the payload)
    const fixture = "04030201 01000000  ff007f";
    expect(hex(messages.ArbitraryData.encode(value))).toBe(fixture.replace(/\s+/g, ""));
    expect(messages.ArbitraryData.decode(fromHex(fixture))).toEqual(value);
  });

  it("LlmCall: the arguments' JSON text fills the rest of the payload, with no length of its own", () => {
    const value = { callId: 0x0102, tool: "say", args: '{"a":1}' };
    //              callId    tool: len "say"   args '{"a":1}'
    const fixture = "02010000 0300 736179        7b2261223a317d";
    expect(hex(messages.LlmCall.encode(value))).toBe(fixture.replace(/\s+/g, ""));
    expect(messages.LlmCall.decode(fromHex(fixture))).toEqual(value);
  });

  it("SocketRequest: an IPv4 address is the u32 value of the dotted quad, little-endian", () => {
    const value = { reqId: 7, peerIp: parseIpv4("10.0.0.1")!, peerPort: 8080, localPort: 0 };
    //              reqId    peerIp 10.0.0.1  peerPort 8080  localPort
    const fixture = "07000000 0100000a         901f          0000";
    expect(value.peerIp).toBe(0x0a000001);
    expect(hex(messages.SocketRequest.encode(value))).toBe(fixture.replace(/\s+/g, ""));
  });

  it("Welcome (f64 server time, little-endian IEEE 754)", () => {
    const value = {
      version: 1,
      virtualIp: 0x0a000002,
      sessionId: "s",
      heartbeatIntervalMs: 15000,
      heartbeatTimeoutMs: 10000,
      tickRate: 60,
      maxFrameSize: 262144,
      serverTime: 1.5,
    };
    const fixture = "0100 0200000a 0100 73 983a0000 10270000 3c00 00000400 000000000000f83f";
    expect(hex(messages.Welcome.encode(value))).toBe(fixture.replace(/\s+/g, ""));
  });

  it("ChannelRegister with a non-ASCII name counts UTF-8 bytes, not characters", () => {
    expect(hex(messages.ChannelRegister.encode({ name: "é" }))).toBe("0200c3a9");
  });
});
