/**
 * Pair mode of end-to-end payload encryption (network_encryption_pair, PROTOCOL.md §18.1): streams
 * and datagrams are sealed under a key of their own per pair of ends, agreed with ephemeral ECDH
 * P-256 and mixed with the shared key's bits (HKDF), so neither the relay nor another copy of the
 * game can read them. Messages sealed that way carry version 3; key messages (the public keys)
 * carry version 2; app channels and broadcasts (one-to-many) keep the shared key and version 1.
 */
import { KEY_MESSAGE_BYTES, KEY_MESSAGE_VERSION, PAIR_INFO_LABEL, type SealKind, source, subtle, utf8 } from "./e2e-seal.js";

/**
 * An ephemeral ECDH key pair and its public key (raw, uncompressed). P-256 only: X25519 is not in
 * every browser's WebCrypto yet, and if engines picked X25519 where they could, a pair where one
 * end has it and the other does not would have to negotiate the curve first (another round trip,
 * and a downgrade to defend). P-256 works wherever WebCrypto does, so every pair agrees without
 * negotiating. The private key is not extractable.
 */
export interface PairKeys {
  privateKey: CryptoKey;
  publicRaw: Uint8Array;
}

export async function generatePairKeys(): Promise<PairKeys> {
  const api = subtle();
  const pair = (await api.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])) as CryptoKeyPair;
  return { privateKey: pair.privateKey, publicRaw: new Uint8Array(await api.exportKey("raw", pair.publicKey)) };
}

/** A key message: version 2 · kind · flags · the 65-byte public key. */
export function encodeKeyMessage(kind: typeof SealKind.STREAM | typeof SealKind.DATAGRAM, flags: number, publicRaw: Uint8Array): Uint8Array {
  const out = new Uint8Array(KEY_MESSAGE_BYTES);
  out[0] = KEY_MESSAGE_VERSION;
  out[1] = kind;
  out[2] = flags;
  out.set(publicRaw, 3);
  return out;
}

/** The flags and public key of a key message of `kind`, or undefined when `bytes` is not one (the point itself is checked when imported). */
export function parseKeyMessage(bytes: Uint8Array, kind: typeof SealKind.STREAM | typeof SealKind.DATAGRAM): { flags: number; publicRaw: Uint8Array } | undefined {
  if (bytes.length !== KEY_MESSAGE_BYTES || bytes[0] !== KEY_MESSAGE_VERSION || bytes[1] !== kind || bytes[3] !== 0x04) return undefined;
  return { flags: bytes[2]!, publicRaw: bytes.slice(3) };
}

/** -1, 0 or 1 as `a` sorts before, with or after `b`, byte by byte. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * The HKDF info of a pair: UTF-8 "gmnet-e2e-pair-v1" · the smaller public key (bytewise) · the
 * other · u32 LE virtual IP of the smaller key's owner · u32 LE the other's. Both ends build the
 * same bytes; the IPs bind the key to who holds which public key.
 */
export function pairInfo(ownPublic: Uint8Array, ownIp: number, peerPublic: Uint8Array, peerIp: number): Uint8Array {
  const label = utf8.encode(PAIR_INFO_LABEL);
  const ownFirst = compareBytes(ownPublic, peerPublic) <= 0;
  const out = new Uint8Array(label.length + ownPublic.length + peerPublic.length + 8);
  out.set(label, 0);
  out.set(ownFirst ? ownPublic : peerPublic, label.length);
  out.set(ownFirst ? peerPublic : ownPublic, label.length + (ownFirst ? ownPublic : peerPublic).length);
  const view = new DataView(out.buffer);
  view.setUint32(out.length - 8, (ownFirst ? ownIp : peerIp) >>> 0, true);
  view.setUint32(out.length - 4, (ownFirst ? peerIp : ownIp) >>> 0, true);
  return out;
}

/**
 * The AES-256-GCM key (not extractable) of a pair: HKDF-SHA-256 with ikm = the ECDH P-256 shared
 * secret (its 32-byte x coordinate), salt = the shared-mode key bits, info = pairInfo. The ECDH
 * part keeps out whoever only knows the app's secret; the salt keeps out a relay that substitutes
 * public keys without knowing it. Rejects when the peer's public key is not a point of P-256.
 */
export async function derivePairKey(own: PairKeys, peerPublic: Uint8Array, salt: Uint8Array, ownIp: number, peerIp: number): Promise<CryptoKey> {
  const api = subtle();
  const peer = await api.importKey("raw", source(peerPublic), { name: "ECDH", namedCurve: "P-256" }, false, []);
  const shared = new Uint8Array(await api.deriveBits({ name: "ECDH", public: peer }, own.privateKey, 256));
  try {
    const ikm = await api.importKey("raw", source(shared), "HKDF", false, ["deriveKey"]);
    const info = pairInfo(own.publicRaw, ownIp, peerPublic, peerIp);
    return await api.deriveKey({ name: "HKDF", hash: "SHA-256", salt: source(salt), info: source(info) }, ikm, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  } finally {
    shared.fill(0);
  }
}
