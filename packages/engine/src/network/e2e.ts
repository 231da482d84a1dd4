/**
 * Optional end-to-end payload encryption (docs/NETWORK.md "Encryption", PROTOCOL.md §18): what
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
import type { Clock } from "../runtime/clock.js";

export const SEAL_VERSION = 1;
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
/** A peer's failures are reported at most this often (ms). */
const REPORT_INTERVAL_MS = 1000;

export const SealKind = { STREAM: 1, DATAGRAM: 2, CHANNEL: 3 } as const;
export type SealKind = (typeof SealKind)[keyof typeof SealKind];

const utf8 = new TextEncoder();
/** WebCrypto's input type (TypeScript types views over SharedArrayBuffer apart; ours never are). */
const source = (bytes: Uint8Array): BufferSource => bytes as Uint8Array<ArrayBuffer>;

function subtle(): SubtleCrypto {
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
export function additionalData(kind: SealKind, senderIp: number, seq: bigint, a: number, b: number): Uint8Array {
  const out = new Uint8Array(18);
  const view = new DataView(out.buffer);
  out[0] = SEAL_VERSION;
  out[1] = kind;
  view.setUint32(2, senderIp >>> 0, true);
  view.setBigUint64(6, BigInt.asUintN(64, seq), true);
  view.setUint16(14, a & 0xffff, true);
  view.setUint16(16, b & 0xffff, true);
  return out;
}

/** Seals `data`: version · [u64 seq when `carrySeq`] · nonce · ciphertext+tag. */
export async function seal(key: CryptoKey, aad: Uint8Array, data: Uint8Array, carrySeq?: bigint): Promise<Uint8Array> {
  const head = carrySeq === undefined ? 1 : 9;
  const nonce = new Uint8Array(NONCE_BYTES);
  globalThis.crypto.getRandomValues(nonce);
  const sealed = new Uint8Array(await subtle().encrypt({ name: "AES-GCM", iv: nonce, additionalData: source(aad), tagLength: 128 }, key, source(data)));
  const out = new Uint8Array(head + NONCE_BYTES + sealed.length);
  out[0] = SEAL_VERSION;
  if (carrySeq !== undefined) new DataView(out.buffer).setBigUint64(1, carrySeq, true);
  out.set(nonce, head);
  out.set(sealed, head + NONCE_BYTES);
  return out;
}

/** The sequence number a sealed datagram or channel message carries, or undefined when it is not one. */
export function sealedSeq(bytes: Uint8Array): bigint | undefined {
  if (bytes.length < SEQUENCED_SEAL_OVERHEAD || bytes[0] !== SEAL_VERSION) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(1, true);
}

/** The plaintext of a sealed message, or undefined when it is malformed or fails authentication. */
export async function open(key: CryptoKey, aad: Uint8Array, bytes: Uint8Array, carriesSeq: boolean): Promise<Uint8Array | undefined> {
  const head = carriesSeq ? 9 : 1;
  if (bytes.length < head + NONCE_BYTES + TAG_BYTES || bytes[0] !== SEAL_VERSION) return undefined;
  try {
    const plain = await subtle().decrypt({ name: "AES-GCM", iv: source(bytes.subarray(head, head + NONCE_BYTES)), additionalData: source(aad), tagLength: 128 }, key, source(bytes.subarray(head + NONCE_BYTES)));
    return new Uint8Array(plain);
  } catch {
    return undefined;
  }
}

/** Runs async tasks one after another, in the order they were queued (a promise chain that survives failures). */
export class Serial {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  get busy(): boolean {
    return this.queued > 0;
  }

  run(task: () => Promise<void> | void): void {
    this.queued++;
    this.tail = this.tail.then(task).then(
      () => void this.queued--,
      () => void this.queued--,
    );
  }
}

/**
 * A sliding anti-replay window (as IPsec's and DTLS's): the highest sequence number seen and which
 * of the REPLAY_WINDOW below it were seen. Checked before decrypting, marked only after the message
 * authenticated, so forged numbers cannot move it.
 */
export class ReplayWindow {
  private highest = -1n;
  private readonly seen = new Uint8Array(REPLAY_WINDOW);

  /** Whether `seq` is new and not too old. */
  fresh(seq: bigint): boolean {
    if (seq > this.highest) return true;
    if (this.highest - seq >= BigInt(REPLAY_WINDOW)) return false;
    return this.seen[Number(seq % BigInt(REPLAY_WINDOW))] === 0;
  }

  mark(seq: bigint): void {
    const size = BigInt(REPLAY_WINDOW);
    if (seq > this.highest) {
      const gap = this.highest < 0n ? size : seq - this.highest;
      if (gap >= size) this.seen.fill(0);
      else for (let s = this.highest + 1n; s < seq; s++) this.seen[Number(s % size)] = 0;
      this.highest = seq;
    }
    this.seen[Number(seq % size)] = 1;
  }
}

/** Why a datagram or channel message was dropped. */
export type Rejection = "decrypt" | "replay";

/**
 * The engine's encryption state (network_config_encryption and _key), its counters and the
 * replay windows. Sockets and channels read the key at the moment they send or receive; a stream
 * keeps the key it was opened with.
 */
export class PayloadCrypto {
  /** network_config_encryption: 0 none, 1 shared key. */
  mode = 0;
  decryptFailures = 0;
  replaysDropped = 0;
  /** Outgoing datagrams and channel messages, each sealed once, in the order the script sent them. */
  readonly datagramsOut = new Serial();
  readonly datagramsIn = new Serial();
  readonly channelsOut = new Serial();
  readonly channelsIn = new Serial();
  private key: Promise<CryptoKey> | undefined;
  private secret: string | undefined;
  /**
   * Per engine, for datagrams and channel messages. It starts at the wall clock in ms times 2^20,
   * so an engine that comes back under the same virtual IP (a page reload) starts above what its
   * previous life sent (unless it sent over a million messages a millisecond), and receivers'
   * windows accept it.
   */
  private seq = BigInt(Date.now()) << 20n;
  private readonly windows = new Map<string, ReplayWindow>();
  private readonly lastReport = new Map<number, number>();

  constructor(
    private readonly clock: Clock,
    private readonly appKey: () => string,
    /** Reports a dropped message (at most once per peer per second). */
    private readonly report: (kind: "datagram" | "channel", peerIp: number, why: Rejection, where: number) => void,
  ) {}

  get hasKey(): boolean {
    return this.key !== undefined;
  }

  /** The key to seal and open with now, or undefined while encryption is off. */
  current(): Promise<CryptoKey> | undefined {
    return this.mode === 1 ? this.key : undefined;
  }

  /** Starts deriving the key for `secret`; messages sent from now on wait for it. */
  setKey(secret: string): Promise<CryptoKey> {
    this.secret = secret;
    const key = deriveKey(secret, this.appKey());
    key.catch(() => {});
    this.key = key;
    return key;
  }

  /** The app key (the salt) changed: derive again, if a secret is set. */
  appKeyChanged(): void {
    if (this.secret !== undefined) this.setKey(this.secret);
  }

  nextSeq(): bigint {
    this.seq = BigInt.asUintN(64, this.seq + 1n);
    return this.seq;
  }

  /**
   * Opens a datagram or channel message from `peerIp`: the plaintext, or undefined when it was
   * dropped (counted, and reported at most once per peer per second).
   */
  async openSequenced(key: Promise<CryptoKey>, kind: typeof SealKind.DATAGRAM | typeof SealKind.CHANNEL, peerIp: number, a: number, b: number, bytes: Uint8Array): Promise<Uint8Array | undefined> {
    const name = kind === SealKind.DATAGRAM ? "datagram" : "channel";
    const seq = sealedSeq(bytes);
    const window = this.windowOf(kind, peerIp);
    if (seq !== undefined && !window.fresh(seq)) return this.reject(name, peerIp, "replay", a);
    let plain: Uint8Array | undefined;
    try {
      plain = seq === undefined ? undefined : await open(await key, additionalData(kind, peerIp, seq, a, b), bytes, true);
    } catch {
      plain = undefined;
    }
    if (plain === undefined || seq === undefined) return this.reject(name, peerIp, "decrypt", a);
    // Checked again: a copy that was opened meanwhile (two in the chain at once) is a replay too.
    if (!window.fresh(seq)) return this.reject(name, peerIp, "replay", a);
    window.mark(seq);
    return plain;
  }

  private windowOf(kind: SealKind, peerIp: number): ReplayWindow {
    const id = `${kind}:${peerIp}`;
    let window = this.windows.get(id);
    if (window === undefined) this.windows.set(id, (window = new ReplayWindow()));
    return window;
  }

  private reject(kind: "datagram" | "channel", peerIp: number, why: Rejection, where: number): undefined {
    if (why === "replay") this.replaysDropped++;
    else this.decryptFailures++;
    const now = this.clock.now();
    const last = this.lastReport.get(peerIp);
    if (last === undefined || now - last >= REPORT_INTERVAL_MS) {
      this.lastReport.set(peerIp, now);
      this.report(kind, peerIp, why, where);
    }
    return undefined;
  }
}
