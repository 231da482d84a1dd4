/**
 * A listening stream server (network_create_server / _raw with network_socket_tcp) on this
 * engine's virtual IP and, in Node with the `listen` option, on a real port too (TCP, or WebSocket
 * for network_socket_ws). It accepts up to max_client clients from all of them together (more are
 * refused: a virtual client sees E_NETWORK_REFUSED, a real one a closed connection), and reports
 * network_type_connect once a client finished the handshake, network_type_disconnect when one
 * goes away (id = the server, socket = the client).
 */
import { formatIpv4 } from "@gmnet/protocol";
import type { EngineContext } from "../../runtime/context.js";
import type { HandleTable } from "../../runtime/handle-table.js";
import { network_socket_ws, network_type_connect, network_type_disconnect, network_type_listen } from "../constants.js";
import type { NetworkFault } from "../errors.js";
import type { NetworkRuntime } from "../runtime.js";
import type { Listener } from "../vsockets/handshake.js";
import { TrafficStats } from "../stats.js";
import type { ByteStream } from "../transport/byte-stream.js";
import { type WebSocketServerConstructor, listenOnRealPort } from "../transport/node-listener.js";
import type { WireMode } from "../wire/connection.js";
import type { NetSocket } from "./net-socket.js";
import { faultKeys } from "./socket-events.js";
import { StreamSocket } from "./stream-socket.js";

export class ServerSocket implements Listener {
  readonly kind = "server";
  readonly clients = new Set<StreamSocket>();
  readonly stats = new TrafficStats();
  private reserved = 0;
  private closed = false;
  private stopRealListener: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly type: number,
    readonly port: number,
    readonly maxClients: number,
    readonly mode: WireMode,
    private readonly sockets: HandleTable<NetSocket>,
    readonly context: EngineContext,
    readonly net: NetworkRuntime,
  ) {}

  reserve(): boolean {
    if (this.closed || this.clients.size + this.reserved >= this.maxClients) return false;
    this.reserved++;
    return true;
  }

  abandoned(): void {
    this.reserved = Math.max(0, this.reserved - 1);
  }

  /** A client that connected: a virtual IP from the virtual host, a real address (dotted or IPv6) from the real port. */
  accepted(stream: ByteStream, peerIp: number | string, peerPort: number): void {
    this.abandoned();
    if (this.closed) return stream.close();
    let client!: StreamSocket;
    this.sockets.addWith((id) => (client = new StreamSocket(id, this.type, this.context, this.net, this)));
    client.mode = this.mode;
    client.localPort = this.port;
    client.remoteIp = typeof peerIp === "number" ? formatIpv4(peerIp) : peerIp;
    client.remotePort = peerPort;
    this.clients.add(client);
    client.onRelease = () => {
      this.clients.delete(client);
      this.sockets.delete(client.id);
    };
    client.attach(stream, "server");
  }

  /** Called by a client socket when its handshake is done. */
  clientEstablished(client: StreamSocket): void {
    this.net.emit({ type: network_type_connect, id: this.id, socket: client.id, server: this.id, ip: client.remoteIp, port: client.remotePort });
  }

  /** Called by a client socket that ended; only clients that were connected are reported. */
  clientLost(client: StreamSocket, wasOpen: boolean, problem: NetworkFault): void {
    if (!wasOpen) return;
    this.net.emit({ type: network_type_disconnect, id: this.id, socket: client.id, server: this.id, ip: client.remoteIp, port: client.remotePort, ...faultKeys(problem) });
  }

  /**
   * Listens on a real port as well (Node, the `listen` option); network_type_listen reports the
   * bound port, or why there is none (the virtual IP keeps listening either way).
   */
  listenOnRealPort(options: { host: string; port: number; WebSocketServer?: WebSocketServerConstructor | undefined }): void {
    const report = (load: Record<string, unknown>): void => this.net.emit({ type: network_type_listen, id: this.id, server: this.id, ip: options.host, ...load });
    this.stopRealListener = listenOnRealPort({
      kind: this.type === network_socket_ws ? "ws" : "tcp",
      ...options,
      accepted: (stream, ip, port) => {
        if (!this.reserve()) return stream.close();
        this.accepted(stream, ip, port);
      },
      listening: (port) => report({ port, succeeded: 1 }),
      failed: (problem) => {
        this.stopRealListener = undefined;
        report({ port: options.port, succeeded: 0, ...faultKeys(problem) });
      },
    });
  }

  /** network_destroy on the server: stops listening and disconnects every client. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopRealListener?.();
    this.stopRealListener = undefined;
    this.net.host.unlisten(this.port);
    this.net.host.releaseTcpPort(this.port);
    for (const client of [...this.clients]) client.destroy();
  }
}
