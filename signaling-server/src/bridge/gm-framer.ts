/**
 * Cuts the byte stream a tab's server sends to a bridged WebSocket client into the units
 * GameMaker's HTML5 runner expects, each WHOLE in one WebSocket message (the runner never
 * reassembles): the greeting "GM:Studio-Connect\0", the server's 12-byte confirmation
 * (u32 LE 0xDEAFBEAD, 0xF00DBEEB, 12), then packets (12-byte header u32 LE 0xDEADC0DE, 12,
 * payload length, then the payload; header and payload in one unit).
 *
 * The tab's server mode is not known to the server, so the framer infers it from the stream: if
 * the first bytes are the greeting, GameMaker mode; as soon as a byte differs from it, raw mode,
 * in which every pushed chunk is one unit (the bytes held while deciding go out as the first).
 *
 * A pure push-bytes state machine, in the style of ws's Receiver: push() takes any split of the
 * stream and returns the units it completed. On a malformed GameMaker stream it returns the units
 * completed before the bad bytes and sets `error`; any later push throws GmFramerError.
 */

export const GM_GREETING = Buffer.from("GM:Studio-Connect\0", "latin1");
export const GM_CONFIRM_MAGIC = [0xdeafbead, 0xf00dbeeb] as const;
export const GM_PACKET_MAGIC = 0xdeadc0de;
export const GM_HEADER_SIZE = 12;

export type GmFramerMode = "detecting" | "gamemaker" | "raw";

export class GmFramerError extends Error {
  override name = "GmFramerError";
}

export interface GmFramerOptions {
  /** The largest packet payload accepted (a larger length in a header is an error). */
  maxPacketBytes: number;
}

type Step = "greeting" | "confirm" | "header" | "payload" | "failed";

export class GmFramer {
  private modeNow: GmFramerMode = "detecting";
  private step: Step = "greeting";
  private readonly buffers: Buffer[] = [];
  private buffered = 0;
  /** Bytes of the unit being assembled: the greeting length, 12, or 12 + the payload length. */
  private unitSize: number = GM_GREETING.length;
  private failure: string | undefined;

  constructor(private readonly options: GmFramerOptions) {}

  get mode(): GmFramerMode {
    return this.modeNow;
  }

  /** Why the stream is malformed, once it is. */
  get error(): string | undefined {
    return this.failure;
  }

  /** Bytes held for a unit not complete yet. */
  get pending(): number {
    return this.buffered;
  }

  /** Takes the next bytes of the stream; returns the units they complete, in order. */
  push(data: Uint8Array): Buffer[] {
    if (this.step === "failed") throw new GmFramerError(`the stream already failed: ${this.failure ?? ""}`);
    if (data.length === 0) return [];
    if (this.modeNow === "raw") return [Buffer.from(data)];
    // A copy: the caller's bytes may be a view of a message that is reused.
    this.buffers.push(Buffer.from(data));
    this.buffered += data.length;
    const units: Buffer[] = [];
    try {
      this.cut(units);
    } catch (error) {
      if (!(error instanceof GmFramerError)) throw error;
    }
    return units;
  }

  private cut(units: Buffer[]): void {
    for (;;) {
      if (this.modeNow === "detecting") {
        const verdict = this.detect();
        if (verdict === "more") break;
        if (verdict === "raw") {
          units.push(this.consume(this.buffered));
          break;
        }
      }
      if (this.buffered < this.unitSize) break;
      if (this.step === "header") {
        this.readHeader();
        continue;
      }
      units.push(this.consume(this.unitSize));
      this.step = this.step === "greeting" ? "confirm" : "header";
      this.unitSize = GM_HEADER_SIZE;
      if (this.step === "header" && this.buffered >= GM_HEADER_SIZE) continue;
      if (this.buffered === 0) break;
    }
  }

  /** Compares what is held with the greeting: "more" while it is a proper prefix of it. */
  private detect(): "more" | "raw" | "gamemaker" {
    const head = this.peek(Math.min(this.buffered, GM_GREETING.length));
    for (let i = 0; i < head.length; i++) {
      if (head[i] !== GM_GREETING[i]) return (this.modeNow = "raw");
    }
    if (head.length < GM_GREETING.length) return "more";
    return (this.modeNow = "gamemaker");
  }

  /** Checks the unit at the front: the confirmation or a packet header (12 bytes held). */
  private readHeader(): void {
    const header = this.peek(GM_HEADER_SIZE);
    const magic = header.readUInt32LE(0);
    const size = header.readUInt32LE(4);
    const length = header.readUInt32LE(8);
    if (magic !== GM_PACKET_MAGIC || size !== GM_HEADER_SIZE) {
      this.fail(`bad packet header ${header.toString("hex")} (expected ${GM_PACKET_MAGIC.toString(16)}, 12, length)`);
    }
    if (length > this.options.maxPacketBytes) this.fail(`packet of ${length} bytes (at most ${this.options.maxPacketBytes})`);
    this.step = "payload";
    this.unitSize = GM_HEADER_SIZE + length;
  }

  private fail(message: string): never {
    this.step = "failed";
    this.failure = message;
    this.buffers.length = 0;
    this.buffered = 0;
    throw new GmFramerError(message);
  }

  /** The first `count` bytes held (count ≤ buffered), without consuming them. */
  private peek(count: number): Buffer {
    const first = this.buffers[0]!;
    if (first.length >= count) return first.subarray(0, count);
    const out = Buffer.allocUnsafe(count);
    let at = 0;
    for (const buffer of this.buffers) {
      const take = Math.min(buffer.length, count - at);
      buffer.copy(out, at, 0, take);
      at += take;
      if (at === count) break;
    }
    return out;
  }

  /** Removes and returns the first `count` bytes held (count ≤ buffered); checks the confirmation. */
  private consume(count: number): Buffer {
    let out: Buffer;
    const first = this.buffers[0]!;
    if (first.length === count) {
      this.buffers.shift();
      out = first;
    } else if (first.length > count) {
      out = first.subarray(0, count);
      this.buffers[0] = first.subarray(count);
    } else {
      out = Buffer.allocUnsafe(count);
      let at = 0;
      while (at < count) {
        const buffer = this.buffers[0]!;
        const take = Math.min(buffer.length, count - at);
        buffer.copy(out, at, 0, take);
        at += take;
        if (take === buffer.length) this.buffers.shift();
        else this.buffers[0] = buffer.subarray(take);
      }
    }
    this.buffered -= count;
    if (this.step === "confirm" && (out.readUInt32LE(0) !== GM_CONFIRM_MAGIC[0] || out.readUInt32LE(4) !== GM_CONFIRM_MAGIC[1] || out.readUInt32LE(8) !== GM_HEADER_SIZE)) {
      this.fail(`bad handshake confirmation ${out.toString("hex")} (expected deafbead, f00dbeeb, 12)`);
    }
    return out;
  }
}
