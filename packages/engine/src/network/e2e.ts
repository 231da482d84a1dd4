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
 *
 * Pair mode (network_encryption_pair): streams and datagrams are sealed under a key of their own
 * per pair of ends, agreed with ephemeral ECDH P-256 and mixed with the shared key's bits (HKDF),
 * so neither the relay nor another copy of the game can read them; see derivePairKey. Messages
 * sealed that way carry version 3; key messages (the public keys) carry version 2; app channels
 * and broadcasts (one-to-many) keep the shared key and version 1.
 */
import type { Clock } from "../runtime/clock.js";

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
function compareBytes(a: Uint8Array, b: Uint8Array): number {
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

/** What is sent to a peer in pair mode: a key datagram from `localPort` to `peerPort`. */
export type KeySender = (peerIp: number, peerPort: number, localPort: number, bytes: Uint8Array) => void;

/** One peer's datagram key exchange (pair mode). */
interface PairPeer {
  /** The peer's public key, and this engine's virtual IP, the key was derived for. */
  publicRaw?: Uint8Array;
  localIp: number;
  key?: Promise<CryptoKey>;
  /** Datagrams waiting for the key, oldest first (at most MAX_HELD_DATAGRAMS). */
  held: Array<(key: Promise<CryptoKey>) => void>;
  /** The ports the exchange runs between (those of the datagram that started it). */
  peerPort: number;
  localPort: number;
  sends: number;
  timer?: unknown;
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

/** Why a datagram or channel message was dropped ("no-key": a pair-mode key exchange got no answer). */
export type Rejection = "decrypt" | "replay" | "no-key";

/**
 * The engine's encryption state (network_config_encryption and _key), its counters and the
 * replay windows, and in pair mode the engine's ECDH key pair and its datagram peers. Sockets and
 * channels read the key at the moment they send or receive; a stream keeps the key (or, in pair
 * mode, the exchange) it was opened with.
 */
export class PayloadCrypto {
  /** network_config_encryption: 0 none, 1 shared key, 2 pair keys. Set with setMode. */
  mode = 0;
  decryptFailures = 0;
  replaysDropped = 0;
  /** Outgoing datagrams and channel messages, each sealed once, in the order the script sent them. */
  readonly datagramsOut = new Serial();
  readonly datagramsIn = new Serial();
  readonly channelsOut = new Serial();
  readonly channelsIn = new Serial();
  /** Pair mode: who to send key datagrams through, and this engine's virtual IP (set by the runtime). */
  sendKey: KeySender = () => {};
  localIp: () => number = () => 0;
  private key: Promise<CryptoKey> | undefined;
  /**
   * The key's bits: pair mode's HKDF salt. Kept in memory for that (WebCrypto takes a salt as
   * bytes); the shared AES key itself is imported from them and is not extractable.
   */
  private bits: Promise<Uint8Array> | undefined;
  private secret: string | undefined;
  /** Pair mode: this engine's ephemeral key pair for datagrams (streams make their own). */
  private ownKeys: Promise<PairKeys> | undefined;
  private readonly peers = new Map<number, PairPeer>();
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

  /** The shared key to seal and open with now (app channels and broadcasts in pair mode too), or undefined while encryption is off. */
  current(): Promise<CryptoKey> | undefined {
    return this.mode === 0 ? undefined : this.key;
  }

  /** Pair mode: the salt (the shared key's bits), or undefined in the other modes. */
  pairSalt(): Promise<Uint8Array> | undefined {
    return this.mode === 2 ? this.bits : undefined;
  }

  /** network_config_encryption. Turning pair mode on makes a fresh key pair; leaving it forgets the pair and every peer's key. */
  setMode(mode: number): void {
    if (mode !== 2) this.forgetPairs();
    else if (this.ownKeys === undefined) {
      this.ownKeys = generatePairKeys();
      this.ownKeys.catch(() => {});
    }
    this.mode = mode;
  }

  /** Starts deriving the key for `secret`; messages sent from now on wait for it. */
  setKey(secret: string): Promise<CryptoKey> {
    this.secret = secret;
    const bits = deriveKeyBits(secret, this.appKey());
    const key = bits.then((raw) => subtle().importKey("raw", source(raw), "AES-GCM", false, ["encrypt", "decrypt"]));
    bits.catch(() => {});
    key.catch(() => {});
    this.bits = bits;
    this.key = key;
    // Datagram pair keys were salted with the old bits.
    this.peers.forEach((_, ip) => this.dropPeer(ip));
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

  // ------------------------------------------------------------ pair-mode datagrams

  /**
   * Pair mode: calls `ready` with the key for datagrams to `peerIp` — at once when it is known,
   * otherwise once the exchange (started here, from `localPort` to `peerPort`) has finished, in
   * the order datagrams were sent. At most MAX_HELD_DATAGRAMS wait per peer (the oldest is dropped).
   */
  whenPeerKey(peerIp: number, localPort: number, peerPort: number, ready: (key: Promise<CryptoKey>) => void): void {
    const peer = this.peerOf(peerIp, localPort, peerPort);
    if (peer.key !== undefined && peer.localIp === this.localIp()) return ready(peer.key);
    if (peer.held.length >= MAX_HELD_DATAGRAMS) peer.held.shift();
    peer.held.push(ready);
    if (peer.timer === undefined) this.sendOwnKey(peerIp, peer, KEY_FLAG_ANSWER);
  }

  /** The key to open a pair-sealed datagram from `peerIp`, or undefined (then the exchange is asked for again). */
  peerKey(peerIp: number, peerPort: number, localPort: number): Promise<CryptoKey> | undefined {
    const peer = this.peers.get(peerIp);
    if (peer?.key !== undefined && peer.localIp === this.localIp()) return peer.key;
    const asking = this.peerOf(peerIp, localPort, peerPort);
    if (asking.timer === undefined) this.sendOwnKey(peerIp, asking, KEY_FLAG_ANSWER);
    return undefined;
  }

  /**
   * Pair mode: handles `bytes` if it is a key datagram from `peerIp` (true), answering it when
   * asked to. A new public key (or a new local IP) derives the pair key again; held datagrams
   * then go out.
   */
  keyDatagram(peerIp: number, peerPort: number, localPort: number, bytes: Uint8Array): boolean {
    if (bytes[0] !== KEY_MESSAGE_VERSION) return false;
    const message = parseKeyMessage(bytes, SealKind.DATAGRAM);
    const ownKeys = this.ownKeys;
    const salt = this.bits;
    if (message === undefined || ownKeys === undefined || salt === undefined) {
      this.reject("datagram", peerIp, "decrypt", peerPort);
      return true;
    }
    const peer = this.peerOf(peerIp, localPort, peerPort);
    const localIp = this.localIp();
    const same = peer.publicRaw !== undefined && compareBytes(peer.publicRaw, message.publicRaw) === 0 && peer.localIp === localIp;
    if (!same) {
      peer.publicRaw = message.publicRaw;
      peer.localIp = localIp;
      const key = (async () => derivePairKey(await ownKeys, message.publicRaw, await salt, localIp, peerIp))();
      key.catch(() => {
        if (peer.key !== key) return;
        peer.key = undefined;
        peer.publicRaw = undefined;
        this.reject("datagram", peerIp, "decrypt", peerPort);
      });
      peer.key = key;
    }
    if (peer.timer !== undefined) this.clock.clearTimeout(peer.timer);
    peer.timer = undefined;
    peer.sends = 0;
    const key = peer.key!;
    for (const ready of peer.held.splice(0)) ready(key);
    if (message.flags & KEY_FLAG_ANSWER) this.sendOwnKey(peerIp, { ...peer, peerPort, localPort }, 0);
    return true;
  }

  private peerOf(peerIp: number, localPort: number, peerPort: number): PairPeer {
    let peer = this.peers.get(peerIp);
    if (peer === undefined) {
      if (this.peers.size >= MAX_PAIR_PEERS) this.dropPeer(this.peers.keys().next().value!);
      this.peers.set(peerIp, (peer = { localIp: 0, held: [], peerPort, localPort, sends: 0 }));
    }
    return peer;
  }

  /** Sends this engine's key datagram to a peer; with KEY_FLAG_ANSWER again with backoff until answered, KEY_SENDS times in all. */
  private sendOwnKey(peerIp: number, peer: PairPeer, flags: number): void {
    const ownKeys = this.ownKeys;
    if (ownKeys === undefined) return;
    const { peerPort, localPort } = peer;
    void ownKeys.then((keys) => this.sendKey(peerIp, peerPort, localPort, encodeKeyMessage(SealKind.DATAGRAM, flags, keys.publicRaw)), () => {});
    if (!(flags & KEY_FLAG_ANSWER)) return;
    peer.sends++;
    peer.timer = this.clock.setTimeout(() => {
      peer.timer = undefined;
      if (this.peers.get(peerIp) !== peer) return;
      if (peer.sends < KEY_SENDS) return this.sendOwnKey(peerIp, peer, KEY_FLAG_ANSWER);
      // No answer: what waited is dropped, once reported; the next datagram starts again.
      peer.sends = 0;
      if (peer.held.splice(0).length > 0) this.reject("datagram", peerIp, "no-key", peerPort);
    }, KEY_RETRY_FIRST_MS * 2 ** (peer.sends - 1));
  }

  private dropPeer(peerIp: number): void {
    const peer = this.peers.get(peerIp);
    if (peer?.timer !== undefined) this.clock.clearTimeout(peer.timer);
    this.peers.delete(peerIp);
  }

  private forgetPairs(): void {
    for (const ip of [...this.peers.keys()]) this.dropPeer(ip);
    this.ownKeys = undefined;
  }

  /**
   * Opens a datagram or channel message from `peerIp`: the plaintext, or undefined when it was
   * dropped (counted, and reported at most once per peer per second). `version` 3: sealed under a pair key.
   */
  async openSequenced(key: Promise<CryptoKey>, kind: typeof SealKind.DATAGRAM | typeof SealKind.CHANNEL, peerIp: number, a: number, b: number, bytes: Uint8Array, version = SEAL_VERSION): Promise<Uint8Array | undefined> {
    const name = kind === SealKind.DATAGRAM ? "datagram" : "channel";
    const seq = sealedSeq(bytes, version);
    const window = this.windowOf(kind, peerIp);
    if (seq !== undefined && !window.fresh(seq)) return this.reject(name, peerIp, "replay", a);
    let plain: Uint8Array | undefined;
    try {
      plain = seq === undefined ? undefined : await open(await key, additionalData(kind, peerIp, seq, a, b, version), bytes, true, version);
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

  reject(kind: "datagram" | "channel", peerIp: number, why: Rejection, where: number): undefined {
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
