/**
 * One end of a virtual TCP stream (PROTOCOL.md §8.2): ARBITRARY_DATA frames on a connId, through
 * the signaling server. A message longer than one frame carries is split over several frames,
 * as TCP would split it; the GameMaker wire format reassembles packets either way.
 */
import { ARBITRARY_DATA_HEADER, CloseReason, SocketClosed, VSocketType, Channel, encodeArbitraryDataFrame } from "@gmnet/protocol";
import type { Clock } from "../../runtime/clock.js";
import { KEY_EXCHANGE_TIMEOUT_MS, PAIR_SEAL_VERSION, SEAL_VERSION, STREAM_SEAL_OVERHEAD, SealKind, Serial, additionalData, derivePairKey, encodeKeyMessage, generatePairKeys, open, parseKeyMessage, seal } from "../e2e.js";
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import { StreamBase, type StreamCloseReason, peerRefusedHandshake, peerRefusedTooLarge } from "../transport/byte-stream.js";
import type { SignalingClient } from "../signaling/signaling-client.js";


/**
 * End-to-end encryption of one stream (docs/NETWORK.md "Encryption"): the shared key it was
 * opened with, or in pair mode the salt its own key is derived with; and both ends' virtual IPs
 * as each knows the other.
 */
export type StreamSeal = { key: Promise<CryptoKey>; localIp: number; peerIp: number } | { pair: { salt: Promise<Uint8Array>; clock: Clock }; localIp: number; peerIp: number };

/**
 * A pair-mode stream's key exchange: each end's first frame is a key frame with a public key of
 * its own, made for this stream (so every stream has fresh keys: forward secrecy per stream).
 */
interface StreamExchange {
  key: Promise<CryptoKey>;
  /** The far end's key frame came (or the exchange failed). */
  settled: boolean;
  /** Ended here (a failure, the far end gone): the key will never be agreed. */
  failed: boolean;
  peerPublic(publicRaw: Uint8Array): void;
  fail(): void;
  timer: unknown;
  clock: Clock;
}

export class VirtualStream extends StreamBase {
  private seq = 0;
  /** Sealed streams: frames counted per direction (in the additional data, so a dropped, repeated or reordered frame fails). */
  private sentFrames = 0n;
  private receivedFrames = 0n;
  private readonly outgoing = new Serial();
  private readonly incoming = new Serial();
  /** Bytes accepted by send that are still being sealed. */
  private sealing = 0;
  /** The far end is gone (or sent something that did not authenticate): frames still being sealed are not sent. */
  private aborted = false;
  /** A frame did not authenticate: nothing after it is opened. */
  private broken = false;
  /** The key frames are sealed with (shared or pair), and the version byte they carry. */
  private readonly sealKey: Promise<CryptoKey> | undefined;
  private readonly version: number = SEAL_VERSION;
  private readonly exchange: StreamExchange | undefined;

  constructor(
    readonly connId: number,
    private readonly signaling: SignalingClient,
    private readonly forget: (connId: number) => void,
    private readonly sealWith?: StreamSeal,
  ) {
    super();
    if (sealWith === undefined) return;
    if ("key" in sealWith) {
      this.sealKey = sealWith.key;
      return;
    }
    this.version = PAIR_SEAL_VERSION;
    this.exchange = this.startExchange(sealWith.pair.salt, sealWith.pair.clock, sealWith.localIp, sealWith.peerIp);
    this.sealKey = this.exchange.key;
  }

  /** Pair mode: makes this stream's key pair, sends the key frame first, and waits (bounded) for the far end's. */
  private startExchange(salt: Promise<Uint8Array>, clock: Clock, localIp: number, peerIp: number): StreamExchange {
    const own = generatePairKeys();
    let resolvePeer!: (publicRaw: Uint8Array) => void;
    let rejectPeer!: (error: Error) => void;
    const peer = new Promise<Uint8Array>((resolve, reject) => {
      resolvePeer = resolve;
      rejectPeer = reject;
    });
    peer.catch(() => {});
    const key = (async () => derivePairKey(await own, await peer, await salt, localIp, peerIp))();
    // A key frame whose point is not on the curve (or no WebCrypto ECDH): the stream ends.
    key.catch(() => {
      if (!exchange.failed) this.decryptFailed("the other end's encryption key was not valid; the connection was closed");
    });
    const exchange: StreamExchange = {
      key,
      settled: false,
      failed: false,
      peerPublic: (publicRaw) => {
        exchange.settled = true;
        clock.clearTimeout(exchange.timer);
        resolvePeer(publicRaw);
      },
      fail: () => {
        exchange.settled = true;
        exchange.failed = true;
        clock.clearTimeout(exchange.timer);
        rejectPeer(new Error("no key exchange"));
      },
      timer: clock.setTimeout(() => this.decryptFailed("the other end sent no encryption key in time (not in pair mode?); the connection was closed"), KEY_EXCHANGE_TIMEOUT_MS),
      clock,
    };
    this.seq = (this.seq + 1) >>> 0;
    const frameSeq = this.seq;
    this.outgoing.run(async () => {
      const keys = await own;
      if (!this.aborted) this.signaling.sendFrame(encodeArbitraryDataFrame(this.connId, frameSeq, encodeKeyMessage(SealKind.STREAM, 0, keys.publicRaw)));
    });
    return exchange;
  }

  get bufferedAmount(): number {
    return this.signaling.bufferedAmount + this.sealing;
  }

  send(data: Uint8Array): boolean {
    if (this.closed) return false;
    const sealKey = this.sealKey;
    const chunk = Math.max(1, (this.signaling.welcome?.maxFrameSize ?? 65536) - ARBITRARY_DATA_HEADER - (sealKey === undefined ? 0 : STREAM_SEAL_OVERHEAD));
    let sent = true;
    let at = 0;
    do {
      const piece = data.subarray(at, at + chunk);
      this.seq = (this.seq + 1) >>> 0;
      if (sealKey === undefined) sent = this.signaling.sendFrame(encodeArbitraryDataFrame(this.connId, this.seq, piece)) && sent;
      else this.sendSealed(sealKey, this.seq, piece.slice());
      at += chunk;
    } while (at < data.length);
    return sent;
  }

  /** One frame, sealed asynchronously and sent after the frames before it (in pair mode, once the key is agreed). */
  private sendSealed(sealKey: Promise<CryptoKey>, frameSeq: number, piece: Uint8Array): void {
    const sealWith = this.sealWith!;
    const count = (this.sentFrames += 1n);
    this.sealing += piece.length;
    const aad = additionalData(SealKind.STREAM, sealWith.localIp, count, this.connId & 0xffff, this.connId >>> 16, this.version);
    const version = this.version;
    this.outgoing.pipe(
      sealKey.then((key) => seal(key, aad, piece, undefined, version)),
      (sealed) => {
        if (!this.aborted) this.signaling.sendFrame(encodeArbitraryDataFrame(this.connId, frameSeq, sealed));
      },
      () => {
        this.sealing -= piece.length;
      },
    );
  }

  protected closeTransport(reason: StreamCloseReason): void {
    const code = reason === "too-large" ? CloseReason.MESSAGE_TOO_LARGE : reason === "bad-handshake" ? CloseReason.HANDSHAKE_FAILED : CloseReason.CLOSED;
    const close = (): void => {
      if (!this.aborted) this.signaling.send(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, SocketClosed.encode({ connId: this.connId, reason: code }));
    };
    // Pair mode, the far end's key frame not in yet: the stream keeps receiving until it is, so
    // what the script sent before closing still goes out (or the exchange times out).
    if (this.exchange !== undefined && !this.exchange.settled) {
      this.outgoing.run(() => {
        close();
        this.forget(this.connId);
      });
      return;
    }
    // After the frames still being sealed, so the far end gets everything sent before the close.
    if (this.outgoing.busy) this.outgoing.run(close);
    else close();
    this.forget(this.connId);
  }

  /** For the virtual host: data from the other end. */
  receive(data: Uint8Array): void {
    const sealKey = this.sealKey;
    if (sealKey === undefined) return this.deliver(data, false);
    if (this.broken) return;
    const exchange = this.exchange;
    if (exchange !== undefined && !exchange.settled) {
      // Pair mode: the first frame must be the far end's key frame.
      const message = parseKeyMessage(data, SealKind.STREAM);
      if (message === undefined) return this.decryptFailed("the other end's first message was not an encryption key (not in pair mode, or another setting); the connection was closed");
      return exchange.peerPublic(message.publicRaw);
    }
    if (this.closed) return;
    const sealWith = this.sealWith!;
    const count = (this.receivedFrames += 1n);
    const sealed = data.slice();
    const aad = additionalData(SealKind.STREAM, sealWith.peerIp, count, this.connId & 0xffff, this.connId >>> 16, this.version);
    const version = this.version;
    // Opened as it arrives, delivered in order.
    const opening = sealKey.then((key) => open(key, aad, sealed, false, version)).catch(() => undefined);
    this.incoming.pipe(opening, (plain) => {
      if (this.closed || this.broken) return;
      if (plain !== undefined) return this.deliver(plain, false);
      this.decryptFailed("a stream message failed authentication (another encryption key or setting, no encryption at the other end, or tampered with); the connection was closed");
    });
  }

  /** Never handed to the script: the stream ends, on both sides, with E_NETWORK_DECRYPT. */
  private decryptFailed(message: string): void {
    if (this.broken) return;
    this.broken = true;
    this.exchange?.fail();
    const farEndOpen = !this.aborted;
    this.aborted = true;
    if (farEndOpen) this.signaling.send(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, SocketClosed.encode({ connId: this.connId, reason: CloseReason.CLOSED }));
    this.forget(this.connId);
    this.ended(fault(NetworkError.DECRYPT, message));
  }

  /** For the virtual host: the other end, the server or the connection to it ended the stream. */
  end(problem: NetworkFault): void {
    if (this.sealWith === undefined) return this.ended(problem);
    this.aborted = true;
    // Frames held for a key that will not come now are dropped.
    if (this.exchange !== undefined && !this.exchange.settled) this.exchange.fail();
    // After the data that arrived before it.
    this.incoming.run(() => this.ended(problem));
  }
}

/** What a SOCKET_CLOSED reason means for the socket that gets it. */
export function closeReasonFault(reason: number): NetworkFault {
  switch (reason) {
    case CloseReason.PEER_GONE:
      return fault(NetworkError.PEER_GONE, "the other end lost its connection to the server");
    case CloseReason.SHUTDOWN:
      return fault(NetworkError.SHUTDOWN, "the signaling server shut down");
    case CloseReason.MESSAGE_TOO_LARGE:
      return peerRefusedTooLarge();
    case CloseReason.HANDSHAKE_FAILED:
      return peerRefusedHandshake();
    case CloseReason.NOT_RECOVERED:
      return fault(NetworkError.NOT_RECOVERED, "this engine was away from the signaling server too long, or was sent more meanwhile than the server holds");
    default:
      return fault(NetworkError.CLOSED, "the other end closed the connection");
  }
}
