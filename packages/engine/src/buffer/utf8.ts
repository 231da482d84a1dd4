/**
 * UTF-8 for buffer_string / buffer_text. Short ASCII strings (the common case in game packets:
 * names, commands, JSON keys) take a char-code loop; everything else goes through the platform's
 * TextEncoder/TextDecoder, which also turns lone surrogates into U+FFFD and every maximal
 * invalid byte sequence (WHATWG "maximal subpart" rule) into one U+FFFD.
 */
const encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the string, not a byte-order mark to drop; otherwise a
// string starting with it would not read back as written.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Below this many bytes a plain loop beats the TextDecoder call overhead. */
const SHORT_STRING = 32;

/**
 * Writes `text` as UTF-8 at `offset` if it fits before `limit` and is pure ASCII.
 * Returns the byte count written, or -1 (with nothing written) when the caller must take the
 * general path — which may still fail, so this must not leave half a string behind.
 */
export function writeAsciiFast(bytes: Uint8Array, offset: number, limit: number, text: string): number {
  const length = text.length;
  if (offset + length > limit) return -1;
  for (let i = 0; i < length; i++) if (text.charCodeAt(i) >= 0x80) return -1;
  for (let i = 0; i < length; i++) bytes[offset + i] = text.charCodeAt(i);
  return length;
}

/**
 * Encodes `text` into `bytes` from `offset`, which must have room for 3 bytes per UTF-16 unit
 * (the UTF-8 worst case), so it always fits; returns the byte count. No intermediate array.
 */
export function encodeUtf8Into(bytes: Uint8Array, offset: number, text: string): number {
  return encoder.encodeInto(text, bytes.subarray(offset)).written;
}

export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length <= SHORT_STRING) {
    let out = "";
    for (let i = start; i < end; i++) {
      const byte = bytes[i]!;
      if (byte >= 0x80) return decoder.decode(bytes.subarray(start, end));
      out += String.fromCharCode(byte);
    }
    return out;
  }
  return decoder.decode(bytes.subarray(start, end));
}
