import type { HandleTable } from "../../runtime/handle-table.js";
import type { ServerSocket } from "./server-socket.js";
import type { StreamSocket } from "./stream-socket.js";
import type { UdpSocket } from "./udp-socket.js";

/** Everything a network socket id can name. */
export type NetSocket = StreamSocket | ServerSocket | UdpSocket;

/** The socket `value` names in `sockets` when it is of that kind, else undefined (also for a value that is no id). */
export function socketOfKind<T extends NetSocket>(sockets: HandleTable<NetSocket>, value: unknown, kind: new (...args: never[]) => T): T | undefined {
  const socket = typeof value === "number" ? sockets.get(value) : undefined;
  return socket instanceof kind ? socket : undefined;
}
