/**
 * The frame layer (seed 003): a 12-byte little-endian header and a payload.
 *
 *   offset 0  u16 channel
 *   offset 2  u16 packet type
 *   offset 4  u8  priority (0 critical … 3 low)
 *   offset 5  u8  flags (no bits defined yet; any set bit is refused)
 *   offset 6  u16 reserved, must be 0
 *   offset 8  u32 payload length
 *   offset 12 payload
 *
 * One WebSocket message carries one or more whole frames (a batch). The encoder is a pure
 * function; the decoder is a push-bytes-in state machine with no I/O, so it also serves byte
 * streams that split frames anywhere (a future native TCP bridge) and is tested that way.
 */
import { concatBytes } from "./bytes.js";
import { Channel, ControlType, FRAME_HEADER_SIZE, KNOWN_FRAME_FLAGS, Priority, ProtocolError, VSocketType } from "./constants.js";

export interface Frame {
  readonly channel: number;
  readonly type: number;
  readonly priority: number;
  readonly flags: number;
  readonly payload: Uint8Array;
}

/** A byte stream that is not valid gmnet framing. `code` is a ProtocolError value. */
export class FrameError extends Error {
  override readonly name = "FrameError";
  constructor(
    readonly code: ProtocolError,
    message: string,
  ) {
    super(message);
  }
}

/** Writes one frame's header into `target` at `offset`, little-endian (plain byte stores: this is the hot path). */
function writeHeader(target: Uint8Array, offset: number, channel: number, type: number, priority: number, flags: number, length: number): void {
  target[offset] = channel & 0xff;
  target[offset + 1] = channel >>> 8;
  target[offset + 2] = type & 0xff;
  target[offset + 3] = type >>> 8;
  target[offset + 4] = priority;
  target[offset + 5] = flags;
  target[offset + 6] = 0;
  target[offset + 7] = 0;
  target[offset + 8] = length & 0xff;
  target[offset + 9] = (length >>> 8) & 0xff;
  target[offset + 10] = (length >>> 16) & 0xff;
  target[offset + 11] = length >>> 24;
}

/**
 * One frame. `allocate` lets a Node server hand `ws` a Buffer it need not convert (the bytes are
 * the same either way).
 */
export function encodeFrame(channel: number, type: number, priority: number, payload: Uint8Array, flags = 0, allocate: (size: number) => Uint8Array = newBytes): Uint8Array {
  const out = allocate(FRAME_HEADER_SIZE + payload.length);
  writeHeader(out, 0, channel, type, priority, flags, payload.length);
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

/**
 * A VSOCKET ARBITRARY_DATA frame {connId, seq, data}, written in one allocation: stream data is
 * the hot path, and the schema codec plus encodeFrame would copy the data twice. The bytes are
 * exactly ArbitraryData.encode's inside encodeFrame's (the protocol tests check both).
 */
export function encodeArbitraryDataFrame(connId: number, seq: number, data: Uint8Array, priority: number = Priority.NORMAL): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE + ARBITRARY_DATA_HEADER + data.length);
  writeHeader(out, 0, Channel.VSOCKET, VSocketType.ARBITRARY_DATA, priority, 0, ARBITRARY_DATA_HEADER + data.length);
  writeU32(out, FRAME_HEADER_SIZE, connId);
  writeU32(out, FRAME_HEADER_SIZE + 4, seq);
  out.set(data, FRAME_HEADER_SIZE + ARBITRARY_DATA_HEADER);
  return out;
}

/** ArbitraryData's fixed fields before the data: connId u32, seq u32. */
export const ARBITRARY_DATA_HEADER = 8;

/** The connId of an ArbitraryData payload of at least ARBITRARY_DATA_HEADER bytes, read without decoding the rest. */
export function arbitraryDataConnId(payload: Uint8Array): number {
  return (payload[0]! | (payload[1]! << 8) | (payload[2]! << 16) | (payload[3]! << 24)) >>> 0;
}

function writeU32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value & 0xff;
  target[offset + 1] = (value >>> 8) & 0xff;
  target[offset + 2] = (value >>> 16) & 0xff;
  target[offset + 3] = value >>> 24;
}

/** The CONTROL ACK frame (PROTOCOL.md §14), written directly: it goes out with nearly every batch of a resumable session. */
export function encodeAckFrame(received: number): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE + 4);
  writeHeader(out, 0, Channel.CONTROL, ControlType.ACK, Priority.CRITICAL, 0, 4);
  writeU32(out, 12, received);
  return out;
}

const newBytes = (size: number): Uint8Array => new Uint8Array(size);

/** Shared by every decoder with nothing pending (never written to). */
const NOTHING = new Uint8Array(0);

/** Concatenates already-encoded frames into one WebSocket message. */
export const concatFrames: (frames: readonly Uint8Array[], totalBytes?: number) => Uint8Array = concatBytes;

export interface FrameDecoderOptions {
  /** Largest payload accepted; a header announcing more is refused before any of it is buffered. */
  maxPayload: number;
}

/**
 * Push bytes in, get whole frames out. After a FrameError the stream is unusable and every
 * further push throws the same error: framing cannot be resynchronised.
 */
export class FrameDecoder {
  private pending: Uint8Array = NOTHING;
  private failure: FrameError | undefined;

  constructor(private readonly options: FrameDecoderOptions) {}

  /** Bytes received that do not yet form a whole frame. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.failure) throw this.failure;
    const bytes = this.pending.length === 0 ? chunk : join(this.pending, chunk);
    const frames: Frame[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    while (bytes.length - at >= FRAME_HEADER_SIZE) {
      const length = view.getUint32(at + 8, true);
      this.check(view, at, length);
      const end = at + FRAME_HEADER_SIZE + length;
      if (end > bytes.length) break;
      frames.push({
        channel: view.getUint16(at, true),
        type: view.getUint16(at + 2, true),
        priority: view.getUint8(at + 4),
        flags: view.getUint8(at + 5),
        payload: bytes.subarray(at + FRAME_HEADER_SIZE, end),
      });
      at = end;
    }
    // Keep only the unfinished tail; copy it so the caller's chunk can be reused.
    this.pending = at === bytes.length ? NOTHING : bytes.slice(at);
    return frames;
  }

  private check(view: DataView, at: number, length: number): void {
    const priority = view.getUint8(at + 4);
    const flags = view.getUint8(at + 5);
    let problem: FrameError | undefined;
    if (priority > Priority.LOW) problem = new FrameError(ProtocolError.MALFORMED_FRAME, `priority ${priority} is not 0–3`);
    else if ((flags & ~KNOWN_FRAME_FLAGS) !== 0) problem = new FrameError(ProtocolError.MALFORMED_FRAME, `unknown frame flags 0x${flags.toString(16)}`);
    else if (view.getUint16(at + 6, true) !== 0) problem = new FrameError(ProtocolError.MALFORMED_FRAME, "reserved header bytes must be 0");
    else if (length > this.options.maxPayload) {
      problem = new FrameError(ProtocolError.FRAME_TOO_LARGE, `payload of ${length} bytes exceeds the limit of ${this.options.maxPayload}`);
    }
    if (problem) {
      this.failure = problem;
      this.pending = NOTHING;
      throw problem;
    }
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
