/**
 * A listening stream server (network_create_server / _raw with network_socket_tcp) on this
 * engine's virtual IP. It accepts up to max_client clients (more are refused, and the client
 * sees E_NETWORK_REFUSED), and reports network_type_connect once a client finished the handshake,
 * network_type_disconnect when one goes away (id = the server, socket = the client).
 */
import { formatIpv4 } from "../../protocol/index.js";
import type { EngineContext } from "../../runtime/context.js";
import type { HandleTable } from "../../runtime/handle-table.js";
import { network_type_connect, network_type_disconnect } from "../constants.js";
import type { NetworkFault } from "../errors.js";
import type { NetworkRuntime } from "../runtime.js";
import type { Listener } from "../signaling/virtual-host.js";
import { TrafficStats } from "../stats.js";
import type { ByteStream } from "../transport/byte-stream.js";
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

  accepted(stream: ByteStream, peerIp: number, peerPort: number): void {
    this.abandoned();
    if (this.closed) return stream.close();
    let client!: StreamSocket;
    this.sockets.addWith((id) => (client = new StreamSocket(id, this.type, this.context, this.net, this)));
    client.mode = this.mode;
    client.localPort = this.port;
    client.remoteIp = formatIpv4(peerIp);
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

  /** network_destroy on the server: stops listening and disconnects every client. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.net.host.unlisten(this.port);
    this.net.host.releaseTcpPort(this.port);
    for (const client of [...this.clients]) client.destroy();
  }
}
