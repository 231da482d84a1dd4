/**
 * GameMaker's non-raw network wire format (network_connect / network_send_packet over TCP or
 * WebSocket), as pure code: encoders are pure functions, decoders are push-bytes-in state
 * machines with no I/O and no timers. Every integer is a little-endian u32.
 *
 * Handshake
 *   1. server → client  "GM:Studio-Connect\0" (18 bytes)
 *   2. client → server  0xCAFEBABE 0xDEADB00B 16 <game id>; the server checks the first 12 bytes
 *   3. server → client  0xDEAFBEAD 0xF00DBEEB 12
 *   The client is connected after step 3, the server after checking step 2. Bytes that follow a
 *   handshake message in the same chunk are packet data and are handed back as `rest`.
 *
 * Packet: 0xDEADC0DE, header size 12, payload length, then the payload.
 *
 * Malformed data (GameMaker reports "Raw packet received from a non-raw socket" and delivers the
 * remainder as one raw buffer). GmPacketDecoder does the same, and:
 *   - It checks the 8 fixed header bytes (magic, header size) one by one as they arrive, so a short
 *     raw message is reported at once instead of waiting for 12 bytes and swallowing the start of
 *     the next message. A chunk that is only a prefix of a valid header is kept until more arrives.
 *   - The `malformed` bytes are the header bytes held so far plus the rest of the current chunk.
 *     Nothing is dropped silently: every byte pushed ends up in a packet (with its header), a
 *     `malformed` entry, or `buffered`.
 *   - It then resynchronises at the next pushed chunk, which is read as the start of a header.
 *     We do not scan the garbage for a magic number: that would turn raw data into made-up
 *     packets. On WebSocket (one GameMaker packet per message) the next message decodes normally;
 *     on a raw TCP stream a chunk boundary is not a packet boundary, so garbage may be followed by
 *     further `malformed` chunks until one happens to start with a header — bounded, never stuck.
 *   - A header announcing more than `maxPacketSize` payload bytes yields `too-large` and the
 *     decoder is failed for good (the length cannot be trusted, so framing is lost): every later
 *     push returns []. The caller should close the connection.
 * Memory held is at most 12 header bytes plus maxPacketSize payload bytes; push never throws and
 * every loop step consumes at least one byte.
 *
 * Every Uint8Array returned by this module is a fresh copy owned by the caller, and no pushed
 * chunk is referenced after push returns, so callers may reuse their chunk buffers.
 */

const GREETING = Uint8Array.from("GM:Studio-Connect\0", (c) => c.charCodeAt(0));
/** Handshake step 1 (server → client). A copy: the codec keeps its own, so mutating this changes nothing. */
export const GM_HANDSHAKE_GREETING: Uint8Array = GREETING.slice();

/** Handshake step 2 (client → server): two magic words, the message size, then the game id. */
export const GM_CLIENT_MAGIC_1 = 0xcafebabe;
export const GM_CLIENT_MAGIC_2 = 0xdeadb00b;
export const GM_CLIENT_REPLY_SIZE = 16;
/** Handshake step 3 (server → client): two magic words and the message size. */
export const GM_SERVER_MAGIC_1 = 0xdeafbead;
export const GM_SERVER_MAGIC_2 = 0xf00dbeeb;
export const GM_SERVER_REPLY_SIZE = 12;

export const GM_PACKET_MAGIC = 0xdeadc0de;
export const GM_HEADER_SIZE = 12;

function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((value, i) => view.setUint32(i * 4, value >>> 0, true));
  return out;
}

/** The bytes every packet header starts with; the last 4 header bytes are the payload length. */
const HEADER_PREFIX = words(GM_PACKET_MAGIC, GM_HEADER_SIZE);
/** The part of the client reply the server checks (the game id is not checked, like GameMaker). */
const CLIENT_REPLY_PREFIX = words(GM_CLIENT_MAGIC_1, GM_CLIENT_MAGIC_2, GM_CLIENT_REPLY_SIZE);

export function encodeGmPacket(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(GM_HEADER_SIZE + payload.length);
  out.set(HEADER_PREFIX);
  new DataView(out.buffer).setUint32(8, payload.length, true);
  out.set(payload, GM_HEADER_SIZE);
  return out;
}

/** Handshake step 2. `gameId` is taken modulo 2^32. */
export function encodeGmClientReply(gameId = 0): Uint8Array {
  return words(GM_CLIENT_MAGIC_1, GM_CLIENT_MAGIC_2, GM_CLIENT_REPLY_SIZE, gameId);
}

/** Handshake step 3. */
export function encodeGmServerReply(): Uint8Array {
  return words(GM_SERVER_MAGIC_1, GM_SERVER_MAGIC_2, GM_SERVER_REPLY_SIZE);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Packets

export type GmDecoded =
  | { kind: "packet"; payload: Uint8Array }
  /** Bytes that do not start with a valid header: the rest of the chunk, delivered as one raw buffer. */
  | { kind: "malformed"; bytes: Uint8Array }
  /** A header announced `size` payload bytes, more than maxPacketSize; the decoder is now failed. */
  | { kind: "too-large"; size: number };

export interface GmPacketDecoderOptions {
  /** Largest payload accepted, in bytes; a header announcing more is refused before buffering any of it. */
  maxPacketSize: number;
}

export class GmPacketDecoder {
  /** May be changed at any time (network_config_message_size_limit); it applies from the next header. */
  maxPacketSize: number;
  private readonly header = new Uint8Array(GM_HEADER_SIZE);
  private headerFill = 0;
  /** Payload length of the packet being read; -1 while reading a header. */
  private payloadSize = -1;
  /** Copies of the payload pieces received so far, joined once the payload is whole (no O(n²) regrowth). */
  private parts: Uint8Array[] = [];
  private partsFill = 0;
  private isFailed = false;

  constructor(options: GmPacketDecoderOptions) {
    if (!Number.isSafeInteger(options.maxPacketSize) || options.maxPacketSize < 0) {
      throw new RangeError(`maxPacketSize must be a non-negative integer, got ${options.maxPacketSize}`);
    }
    this.maxPacketSize = options.maxPacketSize;
  }

  /** Bytes received that are not yet part of an emitted entry (header and payload of the unfinished packet). */
  get buffered(): number {
    return this.headerFill + this.partsFill;
  }

  /** True after `too-large`: the stream cannot be framed any more and every push returns []. */
  get failed(): boolean {
    return this.isFailed;
  }

  push(chunk: Uint8Array): GmDecoded[] {
    const out: GmDecoded[] = [];
    let at = 0;
    // Each step consumes at least one byte or ends the chunk, so this always terminates.
    while (!this.isFailed && at < chunk.length) {
      at = this.payloadSize < 0 ? this.readHeader(chunk, at, out) : this.readPayload(chunk, at, out);
    }
    return out;
  }

  private readHeader(chunk: Uint8Array, at: number, out: GmDecoded[]): number {
    while (at < chunk.length && this.headerFill < GM_HEADER_SIZE) {
      const byte = chunk[at++]!;
      const expected = HEADER_PREFIX[this.headerFill];
      this.header[this.headerFill++] = byte;
      if (expected !== undefined && byte !== expected) {
        out.push({ kind: "malformed", bytes: concat(this.header.subarray(0, this.headerFill), chunk.subarray(at)) });
        this.headerFill = 0;
        return chunk.length;
      }
    }
    if (this.headerFill < GM_HEADER_SIZE) return at;
    const size = new DataView(this.header.buffer).getUint32(8, true);
    if (size > this.maxPacketSize) {
      out.push({ kind: "too-large", size });
      this.isFailed = true;
      this.headerFill = 0;
      return chunk.length;
    }
    this.payloadSize = size;
    if (size === 0) this.finishPacket(new Uint8Array(0), out);
    return at;
  }

  private readPayload(chunk: Uint8Array, at: number, out: GmDecoded[]): number {
    const take = Math.min(this.payloadSize - this.partsFill, chunk.length - at);
    const piece = chunk.subarray(at, at + take);
    if (this.partsFill + take < this.payloadSize) {
      // Unfinished: keep a copy, the caller may reuse its chunk after push returns.
      this.parts.push(piece.slice());
      this.partsFill += take;
    } else if (this.parts.length === 0) {
      this.finishPacket(piece.slice(), out);
    } else {
      const payload = new Uint8Array(this.payloadSize);
      let offset = 0;
      for (const part of this.parts) {
        payload.set(part, offset);
        offset += part.length;
      }
      payload.set(piece, offset);
      this.finishPacket(payload, out);
    }
    return at + take;
  }

  private finishPacket(payload: Uint8Array, out: GmDecoded[]): void {
    out.push({ kind: "packet", payload });
    this.headerFill = 0;
    this.payloadSize = -1;
    this.parts = [];
    this.partsFill = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Handshakes

export interface GmHandshakeStep {
  /** Bytes to send to the peer now. */
  reply?: Uint8Array;
  /** The handshake is complete. */
  done: boolean;
  /** When done: the bytes that followed the handshake (packet data, possibly empty). */
  rest?: Uint8Array;
  /** The peer does not speak the GameMaker handshake; the machine stays failed. */
  error?: string;
}

/**
 * Reads a fixed-size message across chunk boundaries, checking its first `expected.length` bytes
 * as they arrive so a wrong peer is detected on the first wrong byte.
 */
class FixedRead {
  readonly bytes: Uint8Array;
  private fill = 0;

  constructor(
    private readonly expected: Uint8Array,
    size = expected.length,
  ) {
    this.bytes = new Uint8Array(size);
  }

  get complete(): boolean {
    return this.fill === this.bytes.length;
  }

  /** Consumes bytes of `chunk` from `at`; returns the new position, or -1 on a mismatch. */
  feed(chunk: Uint8Array, at: number): number {
    while (at < chunk.length && this.fill < this.bytes.length) {
      const byte = chunk[at++]!;
      const expected = this.expected[this.fill];
      if (expected !== undefined && byte !== expected) return -1;
      this.bytes[this.fill++] = byte;
    }
    return at;
  }
}

/** Client side: wait for the greeting, answer it, wait for the server's reply. */
export class GmClientHandshake {
  private readonly greeting = new FixedRead(GREETING);
  private readonly serverReply = new FixedRead(encodeGmServerReply());
  private error: string | undefined;
  private done = false;
  private readonly gameId: number;

  constructor(options: { gameId?: number } = {}) {
    this.gameId = options.gameId ?? 0;
  }

  /** After done, chunks are passed through as `rest` (copied), so a late call loses nothing. */
  push(chunk: Uint8Array): GmHandshakeStep {
    if (this.error !== undefined) return { done: false, error: this.error };
    if (this.done) return { done: true, rest: chunk.slice() };
    const step: GmHandshakeStep = { done: false };
    let at = 0;
    if (!this.greeting.complete) {
      at = this.greeting.feed(chunk, at);
      if (at < 0) return this.fail("bad handshake greeting (not a GameMaker server?)");
      if (!this.greeting.complete) return step;
      step.reply = encodeGmClientReply(this.gameId);
    }
    at = this.serverReply.feed(chunk, at);
    if (at < 0) return this.fail("bad server handshake reply");
    if (!this.serverReply.complete) return step;
    this.done = true;
    return { ...step, done: true, rest: chunk.slice(at) };
  }

  private fail(error: string): GmHandshakeStep {
    this.error = error;
    return { done: false, error };
  }
}

/** Server side: send `greeting()` on open, then push what the client sends. */
export class GmServerHandshake {
  private readonly clientReply = new FixedRead(CLIENT_REPLY_PREFIX, GM_CLIENT_REPLY_SIZE);
  private error: string | undefined;
  private done = false;

  greeting(): Uint8Array {
    return GREETING.slice();
  }

  /** The game id the client sent (not checked), once the handshake is done. */
  get gameId(): number | undefined {
    return this.done ? new DataView(this.clientReply.bytes.buffer).getUint32(12, true) : undefined;
  }

  /** After done, chunks are passed through as `rest` (copied), so a late call loses nothing. */
  push(chunk: Uint8Array): GmHandshakeStep {
    if (this.error !== undefined) return { done: false, error: this.error };
    if (this.done) return { done: true, rest: chunk.slice() };
    const at = this.clientReply.feed(chunk, 0);
    if (at < 0) {
      this.error = "bad client handshake reply";
      return { done: false, error: this.error };
    }
    if (!this.clientReply.complete) return { done: false };
    this.done = true;
    return { reply: encodeGmServerReply(), done: true, rest: chunk.slice(at) };
  }
}
