/**
 * One GameMaker buffer: bytes, a seek position, a used size, a type and an alignment.
 * This class owns every position rule (alignment padding, growth, wrapping, clamping) so that
 * the public functions in api.ts only translate ids and arguments.
 *
 * Why one file of over 400 lines: it is one concern — the position rules — and every method
 * (write, read, peek, poke, fill, resize, copy) applies the same private helpers (alignUp,
 * placeWrite, wrapped, growTo, ...) to the same bytes, so splitting it would either repeat those
 * rules or expose them. The value encodings already live apart (value-codec.ts, utf8.ts).
 */
import { ErrorCode, GmnetError } from "../errors.js";
import {
  BUFFER_MAX_SIZE,
  DATA_TYPE_WIDTH,
  buffer_error_invalid_type,
  buffer_error_out_of_space,
  buffer_fast,
  buffer_grow,
  buffer_seek_end,
  buffer_seek_relative,
  buffer_seek_start,
  buffer_string,
  buffer_text,
  buffer_u8,
  buffer_wrap,
} from "./constants.js";
import { decodeUtf8, encodeUtf8, encodeUtf8Into, writeAsciiFast } from "./utf8.js";
import { readFixed, writeFixed } from "./value-codec.js";

export type BufferValue = number | bigint | boolean | string;

export class GmBuffer {
  bytes: Uint8Array;
  view: DataView;
  /** Seek position: where the next buffer_read / buffer_write starts (before alignment). */
  position = 0;
  /** Bytes known to hold data: the end of the furthest write, or what a load or copy put there. */
  used = 0;

  constructor(
    size: number,
    readonly type: number,
    readonly alignment: number,
  ) {
    this.bytes = allocate(size);
    this.view = new DataView(this.bytes.buffer);
  }

  get size(): number {
    return this.bytes.length;
  }

  /** Only grow buffers expand to fit writes; vertex buffers keep their size, as in GameMaker's runner. */
  get grows(): boolean {
    return this.type === buffer_grow;
  }

  // ---------------------------------------------------------------- sequential access

  write(type: number, value: unknown): number {
    // Fast path: a number of a fixed-width type that fits where it stands. Literals instead of
    // the imported constants: 1 = buffer_u8, 3 = buffer_fast, 2 = buffer_wrap.
    const width = DATA_TYPE_WIDTH[type];
    if (width !== undefined && width > 0 && typeof value === "number" && (type === 1 || this.type !== 3)) {
      const at = this.alignment === 1 ? this.position : this.alignUp(this.position);
      const end = at + width;
      const capacity = this.bytes.length;
      if (end <= capacity) {
        writeFixed(this.view, at, type, value);
        if (end > this.used) this.used = end;
        this.position = end === capacity && this.type === 2 ? 0 : end;
        return 0;
      }
    }
    return this.writeSlow(type, value);
  }

  private writeSlow(type: number, value: unknown): number {
    const width = DATA_TYPE_WIDTH[type];
    if (width === undefined || (this.type === buffer_fast && type !== buffer_u8)) return buffer_error_invalid_type;
    if (width === 0) {
      if (type !== buffer_string && type !== buffer_text) return buffer_error_invalid_type;
      return this.writeString(value, type === buffer_string);
    }
    const at = this.placeWrite(this.alignUp(this.position), width);
    if (at < 0) return buffer_error_out_of_space;
    writeFixed(this.view, at, type, value);
    this.wrote(at + width);
    this.moveTo(at + width);
    return 0;
  }

  /** Reads at the seek position; `undefined` when the value lies beyond the buffer's end. */
  read(type: number): BufferValue | undefined {
    // Fast path: a fixed-width type lying wholly before the end (literals as in write).
    const width = DATA_TYPE_WIDTH[type];
    if (width !== undefined && width > 0 && (type === 1 || this.type !== 3)) {
      const at = this.alignment === 1 ? this.position : this.alignUp(this.position);
      const end = at + width;
      const capacity = this.bytes.length;
      if (end <= capacity) {
        this.position = end === capacity && this.type === 2 ? 0 : end;
        return readFixed(this.view, at, type);
      }
    }
    return this.readSlow(type);
  }

  private readSlow(type: number): BufferValue | undefined {
    const width = DATA_TYPE_WIDTH[type];
    if (width === undefined || (width === 0 && type !== buffer_string && type !== buffer_text)) throw invalidDataType(type);
    // Strings too: buffer_fast holds only buffer_u8, for reads as for writes and peeks.
    if (this.type === buffer_fast && type !== buffer_u8) throw fastOnlyU8(type);
    if (width === 0) return this.readString();
    const at = this.placeRead(this.alignUp(this.position), width);
    if (at < 0) return undefined;
    this.moveTo(at + width);
    return readFixed(this.view, at, type);
  }

  seek(base: number, offset: number): number {
    let target: number;
    if (base === buffer_seek_start) target = offset;
    else if (base === buffer_seek_relative) target = this.position + offset;
    else if (base === buffer_seek_end) target = this.size + offset;
    else throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `buffer_seek base must be buffer_seek_start, _relative or _end, not ${String(base)}`);
    target = Number.isFinite(target) ? Math.trunc(target) : target > 0 ? this.size : 0;
    if (this.type === buffer_wrap) target = this.size === 0 ? 0 : ((target % this.size) + this.size) % this.size;
    else target = Math.min(Math.max(target, 0), this.size);
    this.position = target;
    return target;
  }

  // ---------------------------------------------------------------- random access

  /** Reads at an absolute offset (no alignment, seek untouched); `undefined` outside the buffer. */
  peek(offset: number, type: number): BufferValue | undefined {
    const width = DATA_TYPE_WIDTH[type];
    if (width === undefined || (width === 0 && type !== buffer_string && type !== buffer_text)) throw invalidDataType(type);
    if (this.type === buffer_fast && type !== buffer_u8) throw fastOnlyU8(type);
    const at = this.randomAccess(offset);
    if (at < 0) return undefined;
    if (width === 0) return this.decodeStringAt(at).text;
    if (at + width > this.size) return undefined;
    return readFixed(this.view, at, type);
  }

  /** Writes at an absolute offset (no alignment, seek untouched). Grow buffers expand to fit. */
  poke(offset: number, type: number, value: unknown): number {
    const width = DATA_TYPE_WIDTH[type];
    if (width === undefined || (this.type === buffer_fast && type !== buffer_u8)) return buffer_error_invalid_type;
    if (width === 0 && type !== buffer_string && type !== buffer_text) return buffer_error_invalid_type;
    // Wrap buffers wrap the offset both ways, as peek and seek do; others refuse what lies before 0.
    const at = this.type === buffer_wrap ? this.wrapped(offset) : offset >= 0 ? toIndex(offset) : -1;
    if (at < 0) return buffer_error_out_of_space;
    if (width === 0) {
      const encoded = encodeString(value, type === buffer_string);
      if (!this.ensureRoom(at, encoded.length)) return buffer_error_out_of_space;
      this.bytes.set(encoded, at);
      this.wrote(at + encoded.length);
      return 0;
    }
    if (!this.ensureRoom(at, width)) return buffer_error_out_of_space;
    writeFixed(this.view, at, type, value);
    this.wrote(at + width);
    return 0;
  }

  /**
   * Repeats `value` over `size` bytes from `offset` (a negative size: to the buffer's end), each
   * item at an aligned position, stopping before an item that would not fit. Grow buffers expand;
   * wrap buffers continue at their start, at most once round; the others are filled up to their
   * end. Alignment gaps (from `offset` or an item's end to the next aligned position, cut at the
   * range's end) are zeroed and count as written, as GameMaker's runner does.
   * -2 when `offset` lies outside the buffer: nothing is filled.
   */
  fill(offset: number, type: number, value: unknown, size: number): number {
    const width = DATA_TYPE_WIDTH[type];
    if (width === undefined || (this.type === buffer_fast && type !== buffer_u8)) return buffer_error_invalid_type;
    if (width === 0 && type !== buffer_string && type !== buffer_text) return buffer_error_invalid_type;
    const pattern = width === 0 ? encodeString(value, type === buffer_string) : encodeFixed(type, width, value);
    let start: number;
    let end: number;
    if (this.type === buffer_wrap) {
      start = this.wrapped(offset);
      if (start < 0) return buffer_error_out_of_space;
      end = start + (size < 0 ? this.size - start : Math.min(toIndex(size), this.size));
    } else {
      if (!(offset >= 0)) return buffer_error_out_of_space;
      start = toIndex(offset);
      end = size < 0 ? this.size : start + toIndex(size);
      if (end > start && end > this.size && this.grows) this.growTo(end);
      if (start >= this.size) return buffer_error_out_of_space;
      end = Math.min(end, this.size);
    }
    // A wrap fill running past the end is laid out as if the buffer repeated (so alignment
    // counts on), then wrapped in at the start.
    if (end > this.size) {
      const laid = new Uint8Array(end - start);
      this.writeRing(start, laid.subarray(0, this.layOut(laid, start, end, pattern) - start));
      return 0;
    }
    const last = this.layOut(this.bytes.subarray(start), start, end, pattern);
    if (last > start) this.wrote(last);
    return 0;
  }

  // ---------------------------------------------------------------- whole-buffer operations

  resize(newSize: number): void {
    if (newSize === this.size) return;
    const next = allocate(newSize);
    next.set(newSize < this.size ? this.bytes.subarray(0, newSize) : this.bytes);
    this.replaceBytes(next);
    this.used = Math.min(this.used, newSize);
    this.position = Math.min(this.position, newSize);
    if (this.type === buffer_wrap && this.position === newSize) this.position = 0;
  }

  /**
   * Copies `data` in at `offset` as buffer_copy and the load functions do: grow buffers expand,
   * wrap buffers wrap the offset (both ways) and continue at their start, fixed and fast buffers
   * keep only what fits; elsewhere a negative offset counts as 0, as in GameMaker.
   * Returns the number of bytes that landed.
   */
  writeBytes(offset: number, data: Uint8Array): number {
    // Nothing to copy: the destination keeps its size and used size (no growth, no used-size bump).
    if (data.length === 0) return 0;
    if (this.type === buffer_wrap) {
      const at = this.wrapped(offset);
      if (at < 0) return 0;
      this.writeRing(at, data);
      return data.length;
    }
    const at = toIndex(offset);
    if (at + data.length > this.size && this.grows) this.growTo(at + data.length);
    const count = Math.max(0, Math.min(data.length, this.size - at));
    if (count === 0) return 0;
    this.bytes.set(count === data.length ? data : data.subarray(0, count), at);
    this.wrote(at + count);
    return count;
  }

  /**
   * The bytes of [offset, offset+size) as a view (no copy), clamped to the buffer: a negative
   * size means "to the end". Wrap buffers wrap the offset (both ways) and read on past their end
   * from their start, at most once round: a range never holds a byte twice, so a tiny buffer
   * cannot be made into a huge hash input or base64 string.
   */
  range(offset: number, size: number): Uint8Array {
    if (this.type !== buffer_wrap) {
      const start = Math.min(toIndex(offset), this.size);
      return this.bytes.subarray(start, size < 0 ? this.size : start + Math.min(toIndex(size), this.size - start));
    }
    const start = this.wrapped(offset);
    if (start < 0) return new Uint8Array(0);
    const wanted = size < 0 ? this.size - start : Math.min(toIndex(size), this.size);
    const tail = this.size - start;
    if (wanted <= tail) return this.bytes.subarray(start, start + wanted);
    const out = new Uint8Array(wanted);
    out.set(this.bytes.subarray(start));
    out.set(this.bytes.subarray(0, wanted - tail), tail);
    return out;
  }

  setUsed(size: number): void {
    this.used = Math.min(toIndex(size), this.size);
  }

  // ---------------------------------------------------------------- internals

  private writeString(value: unknown, terminated: boolean): number {
    const start = this.alignUp(this.position);
    const text = typeof value === "string" ? value : stringify(value);
    // Fast path: room for any UTF-8 encoding of the text where it stands. Short ASCII takes a
    // char-code loop; anything else (or a loop that met a non-ASCII unit, whose prefix is simply
    // overwritten) is encoded straight into the buffer, with no intermediate array.
    const limit = terminated ? this.size - 1 : this.size;
    if (start + text.length * 3 <= limit) {
      let written = text.length <= 32 ? writeAsciiFast(this.bytes, start, limit, text) : -1;
      if (written < 0) written = encodeUtf8Into(this.bytes, start, text);
      let end = start + written;
      if (terminated) this.bytes[end++] = 0;
      this.wrote(end);
      this.moveTo(end);
      return 0;
    }
    // Near the end: encode first, so a string that does not fit leaves no bytes behind.
    const encoded = encodeString(text, terminated);
    const at = this.placeWrite(start, encoded.length);
    if (at < 0) return buffer_error_out_of_space;
    this.bytes.set(encoded, at);
    this.wrote(at + encoded.length);
    this.moveTo(at + encoded.length);
    return 0;
  }

  /** Strings read up to a NUL (which is consumed) or the used size; "" when nothing is left. */
  private readString(): string {
    let start = this.alignUp(this.position);
    // Wrap buffers: an aligned position at (or past) the end continues at the start, as placeRead.
    if (this.type === buffer_wrap && start >= this.size) start = 0;
    if (start >= this.used) return "";
    const { text, next } = this.decodeStringAt(start);
    this.moveTo(next);
    return text;
  }

  private decodeStringAt(start: number): { text: string; next: number } {
    const limit = Math.max(this.used, start);
    let end = this.bytes.indexOf(0, start);
    if (end < 0 || end > limit) end = limit;
    return { text: decodeUtf8(this.bytes, start, end), next: end < limit ? end + 1 : end };
  }

  /** Pads `position` up to the alignment, as GameMaker does before every read and write. */
  private alignUp(position: number): number {
    const alignment = this.alignment;
    if (alignment === 1) return position;
    const rest = position % alignment;
    return rest === 0 ? position : position + alignment - rest;
  }

  /** Where `width` bytes go when written at `at`, growing or wrapping as the type says; -1 if nowhere. */
  private placeWrite(at: number, width: number): number {
    if (at + width <= this.bytes.length) return at;
    if (this.grows) return this.growTo(at + width) ? at : -1;
    if (this.type === buffer_wrap) return width <= this.bytes.length ? 0 : -1;
    return -1;
  }

  private placeRead(at: number, width: number): number {
    if (at + width <= this.bytes.length) return at;
    if (this.type === buffer_wrap) return width <= this.bytes.length ? 0 : -1;
    return -1;
  }

  /** Offsets for peek: wrap buffers wrap them, others must be inside the buffer. */
  private randomAccess(offset: number): number {
    if (this.type === buffer_wrap) return this.wrapped(offset);
    if (!Number.isFinite(offset) || offset < 0) return -1;
    const at = Math.trunc(offset);
    return at < this.size ? at : -1;
  }

  /**
   * A wrap buffer's offset taken modulo its size, both ways (−1 is the last byte); -1 for an
   * empty buffer or a non-finite offset, which names no byte (it must not alias offset 0).
   */
  private wrapped(offset: number): number {
    const size = this.size;
    if (size === 0 || !Number.isFinite(offset)) return -1;
    return ((Math.trunc(offset) % size) + size) % size;
  }

  /**
   * Lays buffer_fill's items out over positions [from, to) into `target`, whose index 0 is
   * position `from`: `pattern` at each aligned position, zeros in the gaps before them.
   * Returns the end of the last byte laid (`from` if none).
   */
  private layOut(target: Uint8Array, from: number, to: number, pattern: Uint8Array): number {
    // An empty pattern (buffer_text "") has nothing to repeat; looping on it would never end.
    if (pattern.length === 0 || to <= from) return from;
    if (pattern.length === 1 && this.alignment === 1) {
      target.fill(pattern[0]!, 0, to - from);
      return to;
    }
    let last = from;
    for (let at = from; ; ) {
      const aligned = Math.min(this.alignUp(at), to);
      if (aligned > at) {
        target.fill(0, at - from, aligned - from);
        last = aligned;
      }
      if (aligned + pattern.length > to) return last;
      target.set(pattern, aligned - from);
      at = last = aligned + pattern.length;
    }
  }

  /** Puts `data` into a wrap buffer from `at`, continuing at its start; only the last `size` bytes survive. */
  private writeRing(at: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const size = this.size;
    const source = data.length > size ? data.subarray(data.length - size) : data;
    const from = (at + data.length - source.length) % size;
    const first = Math.min(source.length, size - from);
    this.bytes.set(source.subarray(0, first), from);
    if (first < source.length) {
      this.bytes.set(source.subarray(first), 0);
      this.used = size;
    } else this.wrote(from + first);
  }

  private ensureRoom(at: number, width: number): boolean {
    if (at + width <= this.size) return true;
    return this.grows && this.growTo(at + width);
  }

  /** Doubles the capacity until `needed` bytes fit, as GameMaker's grow buffers do. */
  private growTo(needed: number): boolean {
    if (needed > BUFFER_MAX_SIZE) return false;
    let size = Math.max(this.bytes.length, 1);
    while (size < needed) size *= 2;
    size = Math.min(size, BUFFER_MAX_SIZE);
    const next = allocate(size);
    next.set(this.bytes);
    this.replaceBytes(next);
    return true;
  }

  private replaceBytes(next: Uint8Array): void {
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  private wrote(end: number): void {
    if (end > this.used) this.used = end;
  }

  private moveTo(end: number): void {
    this.position = this.type === buffer_wrap && end >= this.bytes.length ? end - this.bytes.length : end;
  }
}

/**
 * A script-supplied offset or size as a whole, non-negative, finite number: fractions truncate,
 * negatives and NaN become 0, and +Infinity becomes a number past any buffer's end.
 */
function toIndex(value: number): number {
  if (!(value > 0)) return 0;
  return value < Number.MAX_SAFE_INTEGER ? Math.trunc(value) : Number.MAX_SAFE_INTEGER;
}

function allocate(size: number): Uint8Array {
  try {
    return new Uint8Array(size);
  } catch {
    throw new GmnetError(ErrorCode.OUT_OF_MEMORY, `could not allocate a buffer of ${size} bytes`);
  }
}

/** Non-string values written as strings: their String() form; `undefined` gives "undefined", as in GameMaker. */
function stringify(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" || value === undefined) return String(value);
  throw new GmnetError(ErrorCode.INVALID_VALUE, `cannot write ${value === null ? "null" : typeof value} as a string`);
}

function encodeString(value: unknown, terminated: boolean): Uint8Array {
  const encoded = encodeUtf8(typeof value === "string" ? value : stringify(value));
  if (!terminated) return encoded;
  const withNul = new Uint8Array(encoded.length + 1);
  withNul.set(encoded);
  return withNul;
}

function encodeFixed(type: number, width: number, value: unknown): Uint8Array {
  const pattern = new Uint8Array(width);
  writeFixed(new DataView(pattern.buffer), 0, type, value);
  return pattern;
}

function invalidDataType(type: unknown): GmnetError {
  return new GmnetError(ErrorCode.INVALID_TYPE, `${String(type)} is not a buffer data type (buffer_u8 … buffer_text)`);
}

function fastOnlyU8(type: number): GmnetError {
  return new GmnetError(ErrorCode.INVALID_TYPE, `buffer_fast buffers hold only buffer_u8, not data type ${type}`);
}
