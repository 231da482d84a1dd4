/**
 * Hashes over bytes, through the libraries this project standardises on.
 * - md5 and sha1: lowercase hex, over the raw bytes (unlike GameMaker's HTML5 runner, whose sha1
 *   UTF-8-expands bytes ≥ 0x80 first and so disagrees with every other SHA-1).
 * - crc32: CRC-32/ISO-HDLC, the zlib / PNG / Ethernet variant (reflected polynomial 0xEDB88320,
 *   init and final XOR 0xFFFFFFFF; "123456789" → 0xCBF43926), as an unsigned number.
 */
import CRC32 from "crc-32";
import { sha1 } from "js-sha1";
import SparkMD5 from "spark-md5";

export function md5Hex(bytes: Uint8Array): string {
  // spark-md5 wants an ArrayBuffer of exactly the bytes to hash.
  const exact = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  return SparkMD5.ArrayBuffer.hash(exact.buffer as ArrayBuffer);
}

export function sha1Hex(bytes: Uint8Array): string {
  return sha1.hex(bytes);
}

export function crc32(bytes: Uint8Array): number {
  return CRC32.buf(bytes) >>> 0;
}
