/**
 * What the parts of the virtual host (handshake, streams, datagrams, names) share: the one
 * signaling connection, the clock, this engine's address, and one sequence of request ids, so a
 * reqId names exactly one request whichever part sent it (ERROR frames answer by reqId alone).
 */
import type { Clock } from "../../runtime/clock.js";
import type { SignalingClient } from "../signaling/signaling-client.js";

export const LOOPBACK_IP = 0x7f000001;

export interface HostContext {
  readonly signaling: SignalingClient;
  readonly clock: Clock;
  /** This engine's virtual IP, 0 before the first WELCOME. */
  localIp(): number;
  /** 127.0.0.1 or this engine's own address: served here, never through the server. */
  isLocal(ip: number): boolean;
  /** The next request id (u32, never 0). */
  requestId(): number;
}
