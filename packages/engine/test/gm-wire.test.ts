/**
 * GameMaker's non-raw wire format (src/network/wire/gm-wire.ts) against hex fixtures written by
 * hand from the documented format, not produced by the encoder under test.
 */
import { describe, expect, it } from "vitest";
import {
  GM_CLIENT_MAGIC_1,
  GM_CLIENT_MAGIC_2,
  GM_CLIENT_REPLY_SIZE,
  GM_HANDSHAKE_GREETING,
  GM_HEADER_SIZE,
  GM_PACKET_MAGIC,
  GM_SERVER_MAGIC_1,
  GM_SERVER_MAGIC_2,
  GM_SERVER_REPLY_SIZE,
  GmClientHandshake,
  type GmDecoded,
  GmPacketDecoder,
  GmServerHandshake,
  encodeGmClientReply,
  encodeGmPacket,
  encodeGmServerReply,
} from "../src/network/wire/gm-wire.js";
import { concatBytes } from "./helpers.js";

const hex = (bytes: Uint8Array | undefined): string => Array.from(bytes ?? [], (b) => b.toString(16).padStart(2, "0")).join(" ");
const fromHex = (text: string): Uint8Array => Uint8Array.from(text.replace(/\s+/g, "").match(/../g) ?? [], (pair) => parseInt(pair, 16));
const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);
/** Decoded entries with hex strings, for readable comparisons. */
const show = (entries: GmDecoded[]) =>
  entries.map((e) => (e.kind === "packet" ? { packet: hex(e.payload) } : e.kind === "malformed" ? { malformed: hex(e.bytes) } : { tooLarge: e.size }));

const GREETING_HEX = "47 4d 3a 53 74 75 64 69 6f 2d 43 6f 6e 6e 65 63 74 00";
const CLIENT_REPLY_HEX = "be ba fe ca 0b b0 ad de 10 00 00 00 00 00 00 00";
const SERVER_REPLY_HEX = "ad be af de eb be 0d f0 0c 00 00 00";
const PACKET_010203_HEX = "de c0 ad de 0c 00 00 00 03 00 00 00 01 02 03";

describe("gm wire: constants and encoders", () => {
  it("has the documented handshake and header words", () => {
    expect(hex(GM_HANDSHAKE_GREETING)).toBe(GREETING_HEX);
    expect(GM_HANDSHAKE_GREETING.length).toBe(18);
    expect([GM_CLIENT_MAGIC_1, GM_CLIENT_MAGIC_2, GM_CLIENT_REPLY_SIZE]).toEqual([0xcafebabe, 0xdeadb00b, 16]);
    expect([GM_SERVER_MAGIC_1, GM_SERVER_MAGIC_2, GM_SERVER_REPLY_SIZE]).toEqual([0xdeafbead, 0xf00dbeeb, 12]);
    expect(GM_PACKET_MAGIC).toBe(0xdeadc0de);
    expect(GM_HEADER_SIZE).toBe(12);
  });

  it("encodes the handshake replies", () => {
    expect(hex(encodeGmClientReply())).toBe(CLIENT_REPLY_HEX);
    expect(hex(encodeGmClientReply(0x01020304))).toBe("be ba fe ca 0b b0 ad de 10 00 00 00 04 03 02 01");
    expect(hex(encodeGmServerReply())).toBe(SERVER_REPLY_HEX);
  });

  it("encodes packets with a 12-byte header", () => {
    expect(hex(encodeGmPacket(fromHex("01 02 03")))).toBe(PACKET_010203_HEX);
    expect(hex(encodeGmPacket(new Uint8Array(0)))).toBe("de c0 ad de 0c 00 00 00 00 00 00 00");
    const big = encodeGmPacket(new Uint8Array(0x0201).fill(7));
    expect(hex(big.subarray(0, 12))).toBe("de c0 ad de 0c 00 00 00 01 02 00 00");
    expect(big.length).toBe(12 + 0x0201);
  });

  it("returns a greeting copy that does not alias the codec's own", () => {
    const server = new GmServerHandshake();
    const greeting = server.greeting();
    greeting.fill(0);
    expect(hex(server.greeting())).toBe(GREETING_HEX);
  });
});

describe("gm wire: packet decoder", () => {
  const decoder = (maxPacketSize = 1024) => new GmPacketDecoder({ maxPacketSize });

  it("decodes the fixture packet, and several packets in one chunk", () => {
    expect(show(decoder().push(fromHex(PACKET_010203_HEX)))).toEqual([{ packet: "01 02 03" }]);
    const two = fromHex(`${PACKET_010203_HEX} de c0 ad de 0c 00 00 00 00 00 00 00 de c0 ad de 0c 00 00 00 01 00 00 00 ff`);
    expect(show(decoder().push(two))).toEqual([{ packet: "01 02 03" }, { packet: "" }, { packet: "ff" }]);
  });

  it("waits for a packet split anywhere, and counts what it holds", () => {
    const d = decoder();
    const bytes = fromHex(PACKET_010203_HEX);
    expect(d.push(bytes.subarray(0, 5))).toEqual([]);
    expect(d.buffered).toBe(5);
    expect(d.push(bytes.subarray(5, 13))).toEqual([]);
    expect(d.buffered).toBe(13);
    expect(show(d.push(bytes.subarray(13)))).toEqual([{ packet: "01 02 03" }]);
    expect(d.buffered).toBe(0);
  });

  it("returns copies, so the caller may reuse its chunks", () => {
    const d = decoder();
    const first = fromHex("de c0 ad de 0c 00 00 00 04 00 00 00 aa bb");
    expect(d.push(first)).toEqual([]);
    first.fill(0);
    const second = fromHex("cc dd");
    const out = d.push(second);
    second.fill(0);
    expect(show(out)).toEqual([{ packet: "aa bb cc dd" }]);
  });

  it("reports a bad magic at once, with the rest of the chunk, then resynchronises at the next chunk", () => {
    const d = decoder();
    // A valid packet, then text that GameMaker would deliver as a raw buffer.
    const chunk = concat(fromHex(PACKET_010203_HEX), fromHex("68 65 6c 6c 6f"));
    expect(show(d.push(chunk))).toEqual([{ packet: "01 02 03" }, { malformed: "68 65 6c 6c 6f" }]);
    expect(d.buffered).toBe(0);
    expect(d.failed).toBe(false);
    expect(show(d.push(fromHex(PACKET_010203_HEX)))).toEqual([{ packet: "01 02 03" }]);
  });

  it("reports a short raw message without waiting for a whole header", () => {
    expect(show(decoder().push(fromHex("41")))).toEqual([{ malformed: "41" }]);
  });

  it("keeps a valid header prefix and reports it with the rest when a later byte is wrong", () => {
    const d = decoder();
    expect(d.push(fromHex("de c0 ad"))).toEqual([]);
    expect(show(d.push(fromHex("de 0d 00 00 00 01 02")))).toEqual([{ malformed: "de c0 ad de 0d 00 00 00 01 02" }]);
    expect(d.buffered).toBe(0);
  });

  it("refuses a wrong header size", () => {
    expect(show(decoder().push(fromHex("de c0 ad de 10 00 00 00 03 00 00 00 01 02 03")))).toEqual([
      { malformed: "de c0 ad de 10 00 00 00 03 00 00 00 01 02 03" },
    ]);
  });

  it("fails for good on a header announcing more than maxPacketSize", () => {
    const d = decoder(4);
    expect(show(d.push(fromHex("de c0 ad de 0c 00 00 00 04 00 00 00 01 02 03 04")))).toEqual([{ packet: "01 02 03 04" }]);
    const tooLarge = fromHex(`${PACKET_010203_HEX} de c0 ad de 0c 00 00 00 05 00 00 00 01 02 03 04 05`);
    expect(show(d.push(tooLarge))).toEqual([{ packet: "01 02 03" }, { tooLarge: 5 }]);
    expect(d.failed).toBe(true);
    expect(d.buffered).toBe(0);
    expect(d.push(fromHex(PACKET_010203_HEX))).toEqual([]);
    expect(d.push(new Uint8Array(0))).toEqual([]);
  });

  it("reports the full u32 size of a huge announced payload", () => {
    expect(show(decoder().push(fromHex("de c0 ad de 0c 00 00 00 ff ff ff ff")))).toEqual([{ tooLarge: 0xffffffff }]);
  });

  it("refuses an invalid maxPacketSize", () => {
    expect(() => new GmPacketDecoder({ maxPacketSize: -1 })).toThrow(RangeError);
    expect(() => new GmPacketDecoder({ maxPacketSize: Number.NaN })).toThrow(RangeError);
  });

  it("reassembles a large packet trickled in small chunks (each byte copied a bounded number of times)", () => {
    // 8 MiB in 1 KiB pieces: regrowing a buffer per chunk would copy ~32 GiB and time out.
    const size = 8 * 1024 * 1024;
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) payload[i] = (i >>> 12) & 0xff;
    const bytes = encodeGmPacket(payload);
    const d = decoder(size);
    const out: GmDecoded[] = [];
    for (let at = 0; at < bytes.length; at += 1024) out.push(...d.push(bytes.subarray(at, at + 1024)));
    expect(out.length).toBe(1);
    const [only] = out;
    expect(only?.kind).toBe("packet");
    expect(only?.kind === "packet" && Buffer.compare(only.payload, payload)).toBe(0);
  });

  it("ignores empty chunks", () => {
    const d = decoder();
    expect(d.push(new Uint8Array(0))).toEqual([]);
    expect(d.push(fromHex("de c0"))).toEqual([]);
    expect(d.push(new Uint8Array(0))).toEqual([]);
    expect(d.buffered).toBe(2);
  });
});

describe("gm wire: client handshake", () => {
  it("answers the greeting, then completes on the server reply", () => {
    const client = new GmClientHandshake();
    const step1 = client.push(fromHex(GREETING_HEX));
    expect(step1.done).toBe(false);
    expect(step1.error).toBeUndefined();
    expect(hex(step1.reply)).toBe(CLIENT_REPLY_HEX);
    const step2 = client.push(fromHex(SERVER_REPLY_HEX));
    expect(step2).toEqual({ done: true, rest: new Uint8Array(0) });
  });

  it("sends the game id it was given", () => {
    const step = new GmClientHandshake({ gameId: 7 }).push(fromHex(GREETING_HEX));
    expect(hex(step.reply)).toBe("be ba fe ca 0b b0 ad de 10 00 00 00 07 00 00 00");
  });

  it("accepts a greeting and reply split byte by byte", () => {
    const client = new GmClientHandshake();
    const greeting = fromHex(GREETING_HEX);
    for (let i = 0; i < greeting.length - 1; i++) expect(client.push(greeting.subarray(i, i + 1))).toEqual({ done: false });
    expect(hex(client.push(greeting.subarray(17)).reply)).toBe(CLIENT_REPLY_HEX);
    const reply = fromHex(SERVER_REPLY_HEX);
    for (let i = 0; i < reply.length - 1; i++) expect(client.push(reply.subarray(i, i + 1))).toEqual({ done: false });
    expect(client.push(reply.subarray(11)).done).toBe(true);
  });

  it("keeps a packet glued to the end of the server reply", () => {
    const client = new GmClientHandshake();
    client.push(fromHex(GREETING_HEX));
    const step = client.push(fromHex(`${SERVER_REPLY_HEX} ${PACKET_010203_HEX}`));
    expect(step.done).toBe(true);
    expect(hex(step.rest)).toBe(PACKET_010203_HEX);
    expect(show(new GmPacketDecoder({ maxPacketSize: 16 }).push(step.rest!))).toEqual([{ packet: "01 02 03" }]);
  });

  it("handles greeting, reply and packet data all in one chunk", () => {
    const step = new GmClientHandshake().push(fromHex(`${GREETING_HEX} ${SERVER_REPLY_HEX} ff`));
    expect(hex(step.reply)).toBe(CLIENT_REPLY_HEX);
    expect(step.done).toBe(true);
    expect(hex(step.rest)).toBe("ff");
  });

  it("passes later chunks through as rest", () => {
    const client = new GmClientHandshake();
    client.push(fromHex(`${GREETING_HEX} ${SERVER_REPLY_HEX}`));
    expect(client.push(fromHex("01 02"))).toEqual({ done: true, rest: fromHex("01 02") });
  });

  it("fails on a wrong greeting at the first wrong byte, and stays failed", () => {
    const client = new GmClientHandshake();
    expect(client.push(fromHex("47 4d 3a"))).toEqual({ done: false });
    const step = client.push(fromHex("54"));
    expect(step.done).toBe(false);
    expect(step.error).toMatch(/greeting/);
    expect(step.reply).toBeUndefined();
    expect(client.push(fromHex(GREETING_HEX)).error).toBe(step.error);
  });

  it("fails on a wrong server reply, and stays failed", () => {
    const client = new GmClientHandshake();
    client.push(fromHex(GREETING_HEX));
    const step = client.push(fromHex("ad be af de eb be 0d f0 0d 00 00 00"));
    expect(step.done).toBe(false);
    expect(step.error).toMatch(/reply/);
    expect(client.push(fromHex(SERVER_REPLY_HEX))).toEqual({ done: false, error: step.error });
  });

  it("fails when a server sends packet data instead of a greeting", () => {
    expect(new GmClientHandshake().push(fromHex(PACKET_010203_HEX)).error).toBeDefined();
  });
});

describe("gm wire: server handshake", () => {
  it("greets, checks the client reply and answers", () => {
    const server = new GmServerHandshake();
    expect(hex(server.greeting())).toBe(GREETING_HEX);
    expect(server.gameId).toBeUndefined();
    const step = server.push(fromHex(CLIENT_REPLY_HEX));
    expect(step.done).toBe(true);
    expect(hex(step.reply)).toBe(SERVER_REPLY_HEX);
    expect(step.rest).toEqual(new Uint8Array(0));
    expect(server.gameId).toBe(0);
  });

  it("does not check the game id, and keeps data after the reply", () => {
    const server = new GmServerHandshake();
    expect(server.push(fromHex("be ba fe ca 0b b0 ad de 10 00"))).toEqual({ done: false });
    const step = server.push(fromHex(`00 00 ef be ad de ${PACKET_010203_HEX}`));
    expect(step.done).toBe(true);
    expect(hex(step.rest)).toBe(PACKET_010203_HEX);
    expect(server.gameId).toBe(0xdeadbeef);
  });

  it("refuses a wrong client reply and stays failed", () => {
    const server = new GmServerHandshake();
    const step = server.push(fromHex("be ba fe ca 0b b0 ad de 0c 00 00 00 00 00 00 00"));
    expect(step.done).toBe(false);
    expect(step.reply).toBeUndefined();
    expect(step.error).toMatch(/reply/);
    expect(server.push(fromHex(CLIENT_REPLY_HEX)).error).toBe(step.error);
    expect(server.gameId).toBeUndefined();
  });

  it("refuses a raw client at the first byte", () => {
    expect(new GmServerHandshake().push(fromHex("68")).error).toBeDefined();
  });
});

describe("gm wire: client and server against each other", () => {
  it("connects, then carries packets both ways, with a packet glued to step 3", () => {
    const client = new GmClientHandshake();
    const server = new GmServerHandshake();
    const toServer = client.push(server.greeting());
    expect(toServer.reply).toBeDefined();
    const accepted = server.push(toServer.reply!);
    expect(accepted.done).toBe(true);
    // The server sends its reply and a first packet in one write.
    const connected = client.push(concat(accepted.reply!, encodeGmPacket(fromHex("0a 0b"))));
    expect(connected.done).toBe(true);
    const clientDecoder = new GmPacketDecoder({ maxPacketSize: 64 });
    expect(show(clientDecoder.push(connected.rest!))).toEqual([{ packet: "0a 0b" }]);
    const serverDecoder = new GmPacketDecoder({ maxPacketSize: 64 });
    expect(show(serverDecoder.push(concat(encodeGmPacket(fromHex("01")), encodeGmPacket(fromHex("02 03")))))).toEqual([
      { packet: "01" },
      { packet: "02 03" },
    ]);
  });
});
