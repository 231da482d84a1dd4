/**
 * This engine's established virtual streams (the server's half: services/vsockets/streams.ts):
 * one VirtualStream per connId, fed by ARBITRARY_DATA (one Map get per data frame) and ended by
 * SOCKET_CLOSED, by an ERROR that says the server no longer knows the connId, or with the
 * connection to the server. Streams are opened by the handshake once SOCKET_CONNECTED names them.
 */
import { ARBITRARY_DATA_HEADER, Channel, FrameError, ProtocolError, SocketClosed, VSocketType, arbitraryDataConnId } from "@gmnet/protocol";
import type { PayloadCrypto } from "../e2e.js";
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import type { ErrorFrame } from "../signaling/signaling-client.js";
import type { HostContext } from "./host-context.js";
import { type StreamSeal, VirtualStream, closeReasonFault } from "./virtual-stream.js";

export class Streams {
  private readonly streams = new Map<number, VirtualStream>();

  constructor(
    private readonly host: HostContext,
    /** End-to-end encryption: streams opened while it is on are sealed (not bridged ones). */
    private readonly e2e: PayloadCrypto | undefined,
  ) {
    host.signaling.on(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, (p) => this.onData(p));
    host.signaling.on(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, (p) => this.onClosed(p));
  }

  /**
   * A stream with the engine at `peerIp`, sealed when encryption is on then (undefined: a bridged
   * real host, never sealed): with the shared key, or in pair mode with a key the stream agrees.
   */
  open(connId: number, peerIp: number | undefined): VirtualStream {
    const e2e = peerIp === undefined ? undefined : this.e2e;
    const salt = e2e?.pairSalt();
    const key = e2e?.current();
    const localIp = this.host.localIp();
    let sealWith: StreamSeal | undefined;
    if (peerIp !== undefined && salt !== undefined) sealWith = { pair: { salt, clock: this.host.clock }, localIp, peerIp };
    else if (peerIp !== undefined && key !== undefined) sealWith = { key, localIp, peerIp };
    const stream = new VirtualStream(connId, this.host.signaling, (id) => this.streams.delete(id), sealWith);
    this.streams.set(connId, stream);
    return stream;
  }

  private onData(payload: Uint8Array): void {
    // The hot path, read by hand: connId u32, seq u32 (unused: the session layer keeps order), data.
    if (payload.length < ARBITRARY_DATA_HEADER) throw new FrameError(ProtocolError.MALFORMED_PAYLOAD, `ArbitraryData needs ${ARBITRARY_DATA_HEADER} bytes, got ${payload.length}`);
    this.streams.get(arbitraryDataConnId(payload))?.receive(payload.subarray(ARBITRARY_DATA_HEADER));
  }

  private onClosed(payload: Uint8Array): void {
    const { connId, reason } = SocketClosed.decode(payload);
    const stream = this.streams.get(connId);
    if (stream === undefined) return;
    this.streams.delete(connId);
    stream.end(closeReasonFault(reason));
  }

  /** An ERROR for data sent on a stream the server no longer knows ends that stream; true when it was one. */
  onServerError(error: ErrorFrame): boolean {
    if (error.refType !== VSocketType.ARBITRARY_DATA || error.code !== ProtocolError.UNKNOWN_SOCKET) return false;
    // Data for a stream the server no longer knows was not delivered: the script must hear of it.
    const stream = this.streams.get(error.refId);
    if (stream === undefined) return false;
    this.streams.delete(error.refId);
    stream.end(fault(NetworkError.CLOSED, "the signaling server no longer knows this stream; data sent on it was not delivered"));
    return true;
  }

  /** Ends every stream (the connection to the server or this engine's address is gone). */
  endAll(problem: NetworkFault): void {
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const stream of streams) stream.end(problem);
  }
}
