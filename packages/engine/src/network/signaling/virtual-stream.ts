/**
 * One end of a virtual TCP stream (PROTOCOL.md §8.2): ARBITRARY_DATA frames on a connId, through
 * the signaling server. A message longer than one frame carries is split over several frames,
 * as TCP would split it; the GameMaker wire format reassembles packets either way.
 */
import { ARBITRARY_DATA_HEADER, CloseReason, SocketClosed, VSocketType, Channel, encodeArbitraryDataFrame } from "../../protocol/index.js";
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import { StreamBase, type StreamCloseReason, peerRefusedHandshake, peerRefusedTooLarge } from "../transport/byte-stream.js";
import type { SignalingClient } from "./signaling-client.js";


export class VirtualStream extends StreamBase {
  private seq = 0;

  constructor(
    readonly connId: number,
    private readonly signaling: SignalingClient,
    private readonly forget: (connId: number) => void,
  ) {
    super();
  }

  get bufferedAmount(): number {
    return this.signaling.bufferedAmount;
  }

  send(data: Uint8Array): boolean {
    if (this.closed) return false;
    const chunk = Math.max(1, (this.signaling.welcome?.maxFrameSize ?? 65536) - ARBITRARY_DATA_HEADER);
    let sent = true;
    let at = 0;
    do {
      this.seq = (this.seq + 1) >>> 0;
      sent = this.signaling.sendFrame(encodeArbitraryDataFrame(this.connId, this.seq, data.subarray(at, at + chunk))) && sent;
      at += chunk;
    } while (at < data.length);
    return sent;
  }

  protected closeTransport(reason: StreamCloseReason): void {
    const code = reason === "too-large" ? CloseReason.MESSAGE_TOO_LARGE : reason === "bad-handshake" ? CloseReason.HANDSHAKE_FAILED : CloseReason.CLOSED;
    this.signaling.send(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, SocketClosed.encode({ connId: this.connId, reason: code }));
    this.forget(this.connId);
  }

  /** For the virtual host: data from the other end. */
  receive(data: Uint8Array): void {
    this.deliver(data, false);
  }

  /** For the virtual host: the other end, the server or the connection to it ended the stream. */
  end(problem: NetworkFault): void {
    this.ended(problem);
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
