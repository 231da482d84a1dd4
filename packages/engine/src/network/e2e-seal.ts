/**
 * The sealed format of end-to-end payload encryption (docs/NETWORK.md "Encryption", PROTOCOL.md §18): what
 * scripts send between gmnet engines (virtual TCP stream frames, UDP datagrams, app channel
 * messages) is sealed with AES-GCM under a key every engine of the game derives from one shared
 * secret, so the signaling server that relays it only ever sees ciphertext. WebCrypto only
 * (globalThis.crypto.subtle, browsers and Node ≥ 20): no hand-written cipher.
 *
 * Key: PBKDF2-HMAC-SHA-256 over the UTF-8 secret, salt = UTF-8 "gmnet-e2e-v1:" + app key,
 * 100 000 iterations, 256 bits, used as an AES-GCM key.
 *
 * Sealed message: `u8 version (1)` · for datagrams and channel messages `u64 LE sequence number`
 * (in clear, for the receiver's replay window) · `12-byte nonce` · `ciphertext + 16-byte tag`.
 * Stream frames carry no sequence number: both ends count the stream's frames per direction, and
 * the count goes into the additional data, so a frame the server drops, repeats or reorders fails.
 *
 * Additional data (18 bytes, authenticated, never sent): `u8 version` · `u8 kind` (1 stream,
 * 2 datagram, 3 channel) · `u32 LE sender's virtual IP` (as the receiver knows it: the server
 * stamps it, so a forged sender fails) · `u64 LE sequence number` · `u16 LE a` · `u16 LE b`
 * (stream: the connId's low and high halves; datagram: source and destination port; channel:
 * the channel number and the packet type).
 *
 * Nonces: 96 random bits per message (crypto.getRandomValues). Every engine of the app shares the
 * key and an engine's state does not survive a page reload, so a counter could not be kept unique
 * across engines and restarts without coordination; random nonces need none. NIST SP 800-38D
 * bounds random-nonce use at 2^32 messages per key (collision chance below 2^-32): for all engines
 * of the app together, so an app that sends more than about 4 billion messages in a key's
 * lifetime should change the secret (docs/NETWORK.md).
 */
export const SEAL_VERSION = 1;
/** The first byte of a key message (a stream's key frame, a key datagram) in pair mode. */
export const KEY_MESSAGE_VERSION = 2;
/** The first byte (and the additional data's) of a message sealed under a pair key. */
export const PAIR_SEAL_VERSION = 3;
/** P-256 public key, uncompressed: 0x04 · X · Y. */
export const PUBLIC_KEY_BYTES = 65;
/** Key message: version 2 · kind (1 stream, 2 datagram) · flags · public key. */
export const KEY_MESSAGE_BYTES = 3 + PUBLIC_KEY_BYTES;
/** Key datagram flag: the sender does not have the receiver's key yet; answer with a key datagram. */
export const KEY_FLAG_ANSWER = 1;
export const PAIR_INFO_LABEL = "gmnet-e2e-pair-v1";
/** A stream whose far end's key frame has not come this long after it opened ends with E_NETWORK_DECRYPT. */
export const KEY_EXCHANGE_TIMEOUT_MS = 15_000;
/** Datagrams held per peer while its key is unknown; beyond that the oldest is dropped (UDP may lose datagrams). */
export const MAX_HELD_DATAGRAMS = 64;
/** Peers whose datagram keys an engine remembers; beyond that the least recently added is forgotten. */
export const MAX_PAIR_PEERS = 256;
/** A key datagram is sent again after 250, 500, 1000, 2000, 4000 ms without an answer, then the exchange gives up. */
export const KEY_RETRY_FIRST_MS = 250;
export const KEY_SENDS = 6;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const PBKDF2_ITERATIONS = 100_000;
export const SALT_PREFIX = "gmnet-e2e-v1:";
/** Bytes a sealed stream frame adds: version, nonce, tag. */
export const STREAM_SEAL_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;
/** Bytes a sealed datagram or channel message adds: version, sequence number, nonce, tag. */
export const SEQUENCED_SEAL_OVERHEAD = 1 + 8 + NONCE_BYTES + TAG_BYTES;
/** Sequence numbers a replay window remembers below the highest one seen per peer. */
export const REPLAY_WINDOW = 4096;

export const SealKind = { STREAM: 1, DATAGRAM: 2, CHANNEL: 3 } as const;
export type SealKind = (typeof SealKind)[keyof typeof SealKind];

export const utf8 = new TextEncoder();
/** WebCrypto's input type (TypeScript types views over SharedArrayBuffer apart; ours never are). */
export const source = (bytes: Uint8Array): BufferSource => bytes as Uint8Array<ArrayBuffer>;

/** WebCrypto, or a readable error where the platform has none. */
export function subtle(): SubtleCrypto {
  const api = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (api === undefined) throw new Error("this platform has no WebCrypto (globalThis.crypto.subtle; browsers need a secure context)");
  return api;
}

/** The raw 256-bit key for `secret` and `appKey` (PBKDF2-SHA-256, 100 000 iterations). */
export async function deriveKeyBits(secret: string, appKey: string): Promise<Uint8Array> {
  const api = subtle();
  const base = await api.importKey("raw", source(utf8.encode(secret)), "PBKDF2", false, ["deriveBits"]);
  const bits = await api.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: source(utf8.encode(SALT_PREFIX + appKey)), iterations: PBKDF2_ITERATIONS }, base, 256);
  return new Uint8Array(bits);
}

/** The AES-GCM key (not extractable) for `secret` and `appKey`. */
export async function deriveKey(secret: string, appKey: string): Promise<CryptoKey> {
  const bits = await deriveKeyBits(secret, appKey);
  try {
    return await subtle().importKey("raw", source(bits), "AES-GCM", false, ["encrypt", "decrypt"]);
  } finally {
    bits.fill(0);
  }
}

/** The 18 bytes of additional data that bind a message to its context. */
export function additionalData(kind: SealKind, senderIp: number, seq: bigint, a: number, b: number, version = SEAL_VERSION): Uint8Array {
  const out = new Uint8Array(18);
  const view = new DataView(out.buffer);
  out[0] = version;
  out[1] = kind;
  view.setUint32(2, senderIp >>> 0, true);
  view.setBigUint64(6, BigInt.asUintN(64, seq), true);
  view.setUint16(14, a & 0xffff, true);
  view.setUint16(16, b & 0xffff, true);
  return out;
}

/** Seals `data`: version · [u64 seq when `carrySeq`] · nonce · ciphertext+tag. */
export async function seal(key: CryptoKey, aad: Uint8Array, data: Uint8Array, carrySeq?: bigint, version = SEAL_VERSION): Promise<Uint8Array> {
  const head = carrySeq === undefined ? 1 : 9;
  const nonce = new Uint8Array(NONCE_BYTES);
  globalThis.crypto.getRandomValues(nonce);
  const sealed = new Uint8Array(await subtle().encrypt({ name: "AES-GCM", iv: nonce, additionalData: source(aad), tagLength: 128 }, key, source(data)));
  const out = new Uint8Array(head + NONCE_BYTES + sealed.length);
  out[0] = version;
  if (carrySeq !== undefined) new DataView(out.buffer).setBigUint64(1, carrySeq, true);
  out.set(nonce, head);
  out.set(sealed, head + NONCE_BYTES);
  return out;
}

/** The sequence number a sealed datagram or channel message carries, or undefined when it is not one. */
export function sealedSeq(bytes: Uint8Array, version = SEAL_VERSION): bigint | undefined {
  if (bytes.length < SEQUENCED_SEAL_OVERHEAD || bytes[0] !== version) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(1, true);
}

/** The plaintext of a sealed message, or undefined when it is malformed or fails authentication. */
export async function open(key: CryptoKey, aad: Uint8Array, bytes: Uint8Array, carriesSeq: boolean, version = SEAL_VERSION): Promise<Uint8Array | undefined> {
  const head = carriesSeq ? 9 : 1;
  if (bytes.length < head + NONCE_BYTES + TAG_BYTES || bytes[0] !== version) return undefined;
  try {
    const plain = await subtle().decrypt({ name: "AES-GCM", iv: source(bytes.subarray(head, head + NONCE_BYTES)), additionalData: source(aad), tagLength: 128 }, key, source(bytes.subarray(head + NONCE_BYTES)));
    return new Uint8Array(plain);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- pair mode
