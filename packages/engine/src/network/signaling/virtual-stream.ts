/**
 * One end of a virtual TCP stream (PROTOCOL.md §8.2): ARBITRARY_DATA frames on a connId, through
 * the signaling server. A message longer than one frame carries is split over several frames,
 * as TCP would split it; the GameMaker wire format reassembles packets either way.
 */
import { ARBITRARY_DATA_HEADER, CloseReason, SocketClosed, VSocketType, Channel, encodeArbitraryDataFrame } from "../../protocol/index.js";
import { STREAM_SEAL_OVERHEAD, SealKind, Serial, additionalData, open, seal } from "../e2e.js";
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import { StreamBase, type StreamCloseReason, peerRefusedHandshake, peerRefusedTooLarge } from "../transport/byte-stream.js";
import type { SignalingClient } from "./signaling-client.js";


/**
 * End-to-end encryption of one stream (docs/NETWORK.md "Encryption"): the key it was opened with,
 * and both ends' virtual IPs as each knows the other.
 */
export interface StreamSeal {
  key: Promise<CryptoKey>;
  localIp: number;
  peerIp: number;
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

  constructor(
    readonly connId: number,
    private readonly signaling: SignalingClient,
    private readonly forget: (connId: number) => void,
    private readonly sealWith?: StreamSeal,
  ) {
    super();
  }

  get bufferedAmount(): number {
    return this.signaling.bufferedAmount + this.sealing;
  }

  send(data: Uint8Array): boolean {
    if (this.closed) return false;
    const sealWith = this.sealWith;
    const chunk = Math.max(1, (this.signaling.welcome?.maxFrameSize ?? 65536) - ARBITRARY_DATA_HEADER - (sealWith === undefined ? 0 : STREAM_SEAL_OVERHEAD));
    let sent = true;
    let at = 0;
    do {
      const piece = data.subarray(at, at + chunk);
      this.seq = (this.seq + 1) >>> 0;
      if (sealWith === undefined) sent = this.signaling.sendFrame(encodeArbitraryDataFrame(this.connId, this.seq, piece)) && sent;
      else this.sendSealed(sealWith, this.seq, piece.slice());
      at += chunk;
    } while (at < data.length);
    return sent;
  }

  /** One frame, sealed asynchronously and sent after the frames before it. */
  private sendSealed(sealWith: StreamSeal, frameSeq: number, piece: Uint8Array): void {
    const count = (this.sentFrames += 1n);
    this.sealing += piece.length;
    this.outgoing.run(async () => {
      try {
        const sealed = await seal(await sealWith.key, additionalData(SealKind.STREAM, sealWith.localIp, count, this.connId & 0xffff, this.connId >>> 16), piece);
        if (!this.aborted) this.signaling.sendFrame(encodeArbitraryDataFrame(this.connId, frameSeq, sealed));
      } finally {
        this.sealing -= piece.length;
      }
    });
  }

  protected closeTransport(reason: StreamCloseReason): void {
    const code = reason === "too-large" ? CloseReason.MESSAGE_TOO_LARGE : reason === "bad-handshake" ? CloseReason.HANDSHAKE_FAILED : CloseReason.CLOSED;
    const close = (): void => {
      if (!this.aborted) this.signaling.send(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, SocketClosed.encode({ connId: this.connId, reason: code }));
    };
    // After the frames still being sealed, so the far end gets everything sent before the close.
    if (this.outgoing.busy) this.outgoing.run(close);
    else close();
    this.forget(this.connId);
  }

  /** For the virtual host: data from the other end. */
  receive(data: Uint8Array): void {
    const sealWith = this.sealWith;
    if (sealWith === undefined) return this.deliver(data, false);
    if (this.closed || this.broken) return;
    const count = (this.receivedFrames += 1n);
    const sealed = data.slice();
    this.incoming.run(async () => {
      if (this.closed || this.broken) return;
      let plain: Uint8Array | undefined;
      try {
        plain = await open(await sealWith.key, additionalData(SealKind.STREAM, sealWith.peerIp, count, this.connId & 0xffff, this.connId >>> 16), sealed, false);
      } catch {
        plain = undefined;
      }
      if (this.closed || this.broken) return;
      if (plain !== undefined) return this.deliver(plain, false);
      // Never handed to the script: the stream ends, on both sides.
      this.broken = true;
      const farEndOpen = !this.aborted;
      this.aborted = true;
      if (farEndOpen) this.signaling.send(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, SocketClosed.encode({ connId: this.connId, reason: CloseReason.CLOSED }));
      this.forget(this.connId);
      this.ended(fault(NetworkError.DECRYPT, "a stream message failed authentication (another encryption key, no encryption at the other end, or tampered with); the connection was closed"));
    });
  }

  /** For the virtual host: the other end, the server or the connection to it ended the stream. */
  end(problem: NetworkFault): void {
    if (this.sealWith === undefined) return this.ended(problem);
    this.aborted = true;
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
