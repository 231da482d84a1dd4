/**
 * Why a bridged connection ended: the reasons as logged and as metric labels, what the services'
 * SOCKET_CLOSED and REQUEST_FAILED reasons mean for it, and the WebSocket close a client gets.
 */
import { CloseReason, FailReason } from "@gmnet/protocol";

/** Why a bridged connection ended, as logged and as a metric label. */
export type BridgeEndReason =
  | "client-closed"
  | "client-error"
  | "target-closed"
  | "target-gone"
  | "offline"
  | "not-listening"
  | "refused"
  | "timeout"
  | "idle"
  | "slow-consumer"
  | "protocol-error"
  | "malformed"
  | "bad-handshake"
  | "tls-error"
  | "tls-timeout"
  | "shutdown";

/** WebSocket close codes and reasons (at most 123 bytes) by why the connection ended. */
export function wsClose(reason: BridgeEndReason): [number, string] {
  switch (reason) {
    case "malformed":
      return [1011, "malformed GameMaker stream from the server"];
    case "bad-handshake":
      return [1002, "bad GameMaker handshake"];
    case "shutdown":
      return [1001, "server shutting down"];
    case "idle":
      return [1000, "idle timeout"];
    case "target-closed":
    case "client-closed":
      return [1000, ""];
    default:
      return [1011, reason];
  }
}

/** Why the tab's side ended the stream: the tab's server refused the client's GameMaker handshake is worth its own name. */
export function closedBecause(reason: number): BridgeEndReason {
  switch (reason) {
    case CloseReason.HANDSHAKE_FAILED:
      return "bad-handshake";
    case CloseReason.CLOSED:
    case CloseReason.MESSAGE_TOO_LARGE:
      return "target-closed";
    case CloseReason.SHUTDOWN:
      return "shutdown";
    default:
      return "target-gone";
  }
}

export function failReason(reason: number): BridgeEndReason {
  switch (reason) {
    case FailReason.OFFLINE:
      return "offline";
    case FailReason.NOT_LISTENING:
      return "not-listening";
    case FailReason.REFUSED:
      return "refused";
    case FailReason.TIMEOUT:
      return "timeout";
    default:
      return "target-gone";
  }
}
