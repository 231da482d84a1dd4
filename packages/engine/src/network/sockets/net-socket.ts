import type { ServerSocket } from "./server-socket.js";
import type { StreamSocket } from "./stream-socket.js";
import type { UdpSocket } from "./udp-socket.js";

/** Everything a network socket id can name. */
export type NetSocket = StreamSocket | ServerSocket | UdpSocket;
