/**
 * End-to-end payload encryption in the engine (docs/NETWORK.md "Encryption", PROTOCOL.md §18):
 * the engine's keys, the order of its crypto work, the replay windows and the counters. The
 * format is in e2e-seal.ts, the pair mode's key agreement in e2e-pair.ts (both re-exported here).
 */
import type { Clock } from "../runtime/clock.js";
import { compareBytes, derivePairKey, encodeKeyMessage, generatePairKeys, type PairKeys, parseKeyMessage } from "./e2e-pair.js";
import { additionalData, deriveKeyBits, open, KEY_FLAG_ANSWER, KEY_MESSAGE_VERSION, KEY_RETRY_FIRST_MS, KEY_SENDS, MAX_HELD_DATAGRAMS, MAX_PAIR_PEERS, REPLAY_WINDOW, SEAL_VERSION, sealedSeq, SealKind, source, subtle } from "./e2e-seal.js";
export * from "./e2e-seal.js";
export * from "./e2e-pair.js";

/** A peer's failures are reported at most this often (ms). */
const REPORT_INTERVAL_MS = 1000;

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

  /**
   * `work` already runs (WebCrypto calls run side by side, which is what makes sealing fast);
   * `done` gets its result after everything queued before it, so results still leave in order.
   * `always` runs in that turn whether the work succeeded or not.
   */
  pipe<T>(work: Promise<T>, done: (value: T) => void, always?: () => void): void {
    // Handled in its turn below; without this a failure would count as unhandled meanwhile.
    work.catch(() => undefined);
    this.run(async () => {
      try {
        done(await work);
      } finally {
        always?.();
      }
    });
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
