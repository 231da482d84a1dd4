/**
 * Message payloads as declared field lists, so that each of the protocol's messages is one line
 * of schema and every decoder validates the same way: exact lengths, bounded strings, strict
 * UTF-8, booleans that are 0 or 1. A payload that breaks any rule raises FrameError
 * MALFORMED_PAYLOAD — the router turns that into an ERROR frame, never a crash.
 */
import { ProtocolError } from "./constants.js";
import { FrameError } from "./frame.js";

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

interface Field<T> {
  readonly kind: string;
  /** Fixed byte width, or -1 for variable-length fields. */
  readonly width: number;
  /** Bytes `value` takes (variable-length fields only). */
  size(value: T): number;
  write(view: DataView, bytes: Uint8Array, at: number, value: T): number;
  read(view: DataView, bytes: Uint8Array, at: number, end: number): [T, number];
}

const fixed = <T>(kind: string, width: number, write: (view: DataView, at: number, value: T) => void, read: (view: DataView, at: number) => T): Field<T> => ({
  kind,
  width,
  size: () => width,
  write: (view, _bytes, at, value) => {
    write(view, at, value);
    return at + width;
  },
  read: (view, _bytes, at) => [read(view, at), at + width],
});

export const u8 = fixed<number>("u8", 1, (v, at, x) => v.setUint8(at, x), (v, at) => v.getUint8(at));
export const u16 = fixed<number>("u16", 2, (v, at, x) => v.setUint16(at, x, true), (v, at) => v.getUint16(at, true));
export const u32 = fixed<number>("u32", 4, (v, at, x) => v.setUint32(at, x, true), (v, at) => v.getUint32(at, true));
export const f64 = fixed<number>("f64", 8, (v, at, x) => v.setFloat64(at, x, true), (v, at) => v.getFloat64(at, true));
export const bool = fixed<boolean>("bool", 1, (v, at, x) => v.setUint8(at, x ? 1 : 0), (v, at) => {
  const byte = v.getUint8(at);
  if (byte > 1) throw malformed(`boolean byte ${byte} is not 0 or 1`);
  return byte === 1;
});

/** A UTF-8 string of at most `maxBytes` (≤ 65535) bytes, prefixed with its u16 byte length. */
export function str(maxBytes = 0xffff): Field<string> {
  return {
    kind: "str",
    width: -1,
    size: (value) => 2 + utf8Encoder.encode(value).length,
    write: (view, bytes, at, value) => {
      const encoded = utf8Encoder.encode(value);
      if (encoded.length > maxBytes) throw new RangeError(`string of ${encoded.length} bytes exceeds ${maxBytes}`);
      view.setUint16(at, encoded.length, true);
      bytes.set(encoded, at + 2);
      return at + 2 + encoded.length;
    },
    read: (view, bytes, at, end) => {
      if (at + 2 > end) throw malformed("string length is cut off");
      const length = view.getUint16(at, true);
      if (length > maxBytes) throw malformed(`string of ${length} bytes exceeds ${maxBytes}`);
      if (at + 2 + length > end) throw malformed("string is cut off");
      try {
        return [utf8Decoder.decode(bytes.subarray(at + 2, at + 2 + length)), at + 2 + length];
      } catch {
        throw malformed("string is not valid UTF-8");
      }
    },
  };
}

/** All remaining payload bytes; must be the last field. Decoding returns a view, not a copy. */
export const rest: Field<Uint8Array> = {
  kind: "rest",
  width: -1,
  size: (value) => value.length,
  write: (_view, bytes, at, value) => {
    bytes.set(value, at);
    return at + value.length;
  },
  read: (_view, bytes, at, end) => [bytes.subarray(at, end), end],
};

/** All remaining payload bytes as strict UTF-8 text; must be the last field. */
export const restText: Field<string> = {
  kind: "restText",
  width: -1,
  size: (value) => utf8Encoder.encode(value).length,
  write: (_view, bytes, at, value) => {
    const encoded = utf8Encoder.encode(value);
    bytes.set(encoded, at);
    return at + encoded.length;
  },
  read: (_view, bytes, at, end) => {
    try {
      return [utf8Decoder.decode(bytes.subarray(at, end)), end];
    } catch {
      throw malformed("text is not valid UTF-8");
    }
  },
};

// Fields are invariant in their value type (it is both written and read), so a record of
// differently typed fields can only be described with `any` here; Infer<S> restores the types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Spec = Record<string, Field<any>>;
type Infer<S> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export interface MessageCodec<T> {
  readonly name: string;
  encode(value: T): Uint8Array;
  /** Throws FrameError(MALFORMED_PAYLOAD) for any payload that does not match the schema exactly. */
  decode(payload: Uint8Array): T;
}

export type MessageOf<C> = C extends MessageCodec<infer T> ? T : never;

export function message<S extends Spec>(name: string, spec: S): MessageCodec<Infer<S>> {
  const fields = Object.entries(spec) as Array<[string, Field<unknown>]>;
  const fixedSize = fields.reduce((sum, [, field]) => sum + Math.max(field.width, 0), 0);
  const allFixed = fields.every(([, field]) => field.width >= 0);
  return {
    name,
    encode(value) {
      const record = value as Record<string, unknown>;
      let size = fixedSize;
      if (!allFixed) for (const [key, field] of fields) if (field.width < 0) size += field.size(record[key]);
      const bytes = new Uint8Array(size);
      const view = new DataView(bytes.buffer);
      let at = 0;
      for (const [key, field] of fields) at = field.write(view, bytes, at, record[key]);
      return bytes;
    },
    decode(payload) {
      if (payload.length < fixedSize || (allFixed && payload.length !== fixedSize)) {
        throw malformed(`${name} needs ${allFixed ? "exactly" : "at least"} ${fixedSize} bytes, got ${payload.length}`);
      }
      const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      const out: Record<string, unknown> = {};
      let at = 0;
      for (const [key, field] of fields) {
        if (field.width >= 0 && at + field.width > payload.length) throw malformed(`${name}.${key} is cut off`);
        const [value, next] = field.read(view, payload, at, payload.length);
        out[key] = value;
        at = next;
      }
      if (at !== payload.length) throw malformed(`${name} has ${payload.length - at} unexpected trailing bytes`);
      return out as Infer<S>;
    },
  };
}

function malformed(message: string): FrameError {
  return new FrameError(ProtocolError.MALFORMED_PAYLOAD, message);
}
