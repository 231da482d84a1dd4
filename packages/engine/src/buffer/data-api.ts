/**
 * buffer_* functions that turn a byte range into something else: base64, hashes, zlib.
 * Ranges follow one rule (GmBuffer.range): offset clamped into the buffer, a negative size means
 * "to the end", and wrap buffers continue at their start.
 */
import { type EngineContext, liveBuffer, requireNumber, requireString } from "../runtime/context.js";
import { adoptBytes } from "./api.js";
import { base64ToBytes, bytesToBase64 } from "./base64.js";
import { crc32, md5Hex, sha1Hex } from "./digest.js";
import { zlibCompress, zlibDecompress } from "./zlib.js";

export function createBufferDataApi(context: EngineContext) {
  const rangeOf = (buffer: number, offset: number, size: number, fn: string): Uint8Array =>
    liveBuffer(context, buffer, fn).range(requireNumber(offset, "offset", fn), requireNumber(size, "size", fn));

  return {
    buffer_base64_encode(buffer: number, offset: number, size: number): string {
      return bytesToBase64(rangeOf(buffer, offset, size, "buffer_base64_encode"));
    },

    /** A new grow buffer holding the decoded bytes, or -1 if `string` is not base64. */
    buffer_base64_decode(string: string): number {
      const bytes = base64ToBytes(requireString(string, "string", "buffer_base64_decode"));
      return bytes === undefined ? -1 : adoptBytes(context, bytes);
    },

    /** Decodes into `buffer` at `offset` (as buffer_copy places bytes); the byte count, or -1 if not base64. */
    buffer_base64_decode_ext(buffer: number, string: string, offset: number): number {
      const target = liveBuffer(context, buffer, "buffer_base64_decode_ext");
      const bytes = base64ToBytes(requireString(string, "string", "buffer_base64_decode_ext"));
      if (bytes === undefined) return -1;
      return target.writeBytes(requireNumber(offset, "offset", "buffer_base64_decode_ext"), bytes);
    },

    buffer_md5(buffer: number, offset: number, size: number): string {
      return md5Hex(rangeOf(buffer, offset, size, "buffer_md5"));
    },

    buffer_sha1(buffer: number, offset: number, size: number): string {
      return sha1Hex(rangeOf(buffer, offset, size, "buffer_sha1"));
    },

    buffer_crc32(buffer: number, offset: number, size: number): number {
      return crc32(rangeOf(buffer, offset, size, "buffer_crc32"));
    },

    /** A new grow buffer holding the range as a zlib stream. */
    buffer_compress(buffer: number, offset: number, size: number): number {
      return adoptBytes(context, zlibCompress(rangeOf(buffer, offset, size, "buffer_compress")));
    },

    /**
     * Inflates the zlib stream in bytes [0, used size) into a new grow buffer; -1 if the data is
     * not a valid zlib stream or would inflate beyond the engine's maxDecompressedSize.
     */
    buffer_decompress(buffer: number): number {
      const source = liveBuffer(context, buffer, "buffer_decompress");
      const bytes = zlibDecompress(source.bytes.subarray(0, source.used), context.limits.maxDecompressedSize);
      return bytes === undefined ? -1 : adoptBytes(context, bytes);
    },
  };
}
