/**
 * Two connected streams inside one engine: a socket connecting to its own virtual IP (or
 * 127.0.0.1). The signaling server refuses loopback connects, so the engine serves them itself.
 * Delivery is deferred to a microtask, as it would be over a network, so a send never runs the
 * receiver's code from inside the sender's call.
 */
import { NetworkError, fault } from "../errors.js";
import { StreamBase, type StreamCloseReason, peerCloseFault } from "./byte-stream.js";

class LoopbackEnd extends StreamBase {
  other: LoopbackEnd | undefined;

  get bufferedAmount(): number {
    return 0;
  }

  send(data: Uint8Array, text = false): boolean {
    const other = this.other;
    if (this.closed || other === undefined) return false;
    const copy = data.slice();
    queueMicrotask(() => other.receive(copy, text));
    return true;
  }

  receive(data: Uint8Array, text: boolean): void {
    this.deliver(data, text);
  }

  protected closeTransport(reason: StreamCloseReason): void {
    const other = this.other;
    if (other !== undefined) queueMicrotask(() => other.farClosed(reason));
  }

  farClosed(reason: StreamCloseReason): void {
    this.ended(peerCloseFault(reason) ?? fault(NetworkError.CLOSED, "the other end closed the connection"));
  }
}

/** Returns [client end, server end]. */
export function createLoopbackPair(): [LoopbackEnd, LoopbackEnd] {
  const a = new LoopbackEnd();
  const b = new LoopbackEnd();
  a.other = b;
  b.other = a;
  return [a, b];
}
