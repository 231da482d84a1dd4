/**
 * A guest's side of a game: one TCP connection to the host's game server (network_connect to the
 * ip and port the room gave) for chat and the player list, and a UDP socket for positions, which
 * go to the host's UDP port (from the room's properties) and come back from it, forwarded.
 */
import {
  type AsyncLoad,
  network_connect,
  network_create_socket,
  network_create_socket_ext,
  network_destroy,
  network_send_packet,
  network_send_udp,
  network_socket_tcp,
  network_socket_udp,
  network_type_data,
  network_type_disconnect,
  network_type_non_blocking_connect,
} from "@gmnet/engine";
import { DemoError, describeNetworkFault } from "./errors.js";
import {
  HOST_PLAYER_ID,
  MSG_CHAT,
  MSG_HELLO,
  MSG_JOINED,
  MSG_LEFT,
  MSG_PING,
  MSG_PONG,
  MSG_POSITION,
  MSG_WELCOME,
  type Position,
  type TcpMessage,
  decodeDatagram,
  decodeTcp,
  encodePing,
  encodePosition,
  encodeTcp,
  roundTrip,
} from "./protocol.js";
import { GUEST_UDP_PORT, type Session, type SessionHooks, decodedOrReported } from "./session.js";

/** Where the room says the host is. */
export interface HostAddress {
  readonly ip: string;
  readonly tcpPort: number;
  readonly udpPort: number;
}

export class GuestSession implements Session {
  readonly role = "guest";
  readonly udpSocket: number;
  /** The port udpSocket is bound to, told to the host in HELLO. */
  private readonly udpPort: number;
  private readonly tcp: number;
  private welcomed = false;

  /** Opens the sockets and starts connecting; throws DemoError when that cannot start. */
  constructor(
    private readonly hooks: SessionHooks,
    private readonly host: HostAddress,
  ) {
    if (!Number.isInteger(host.udpPort) || host.udpPort < 1 || host.udpPort > 65535) {
      throw new DemoError("E_DEMO_ROOM", `the room gives no valid UDP port (${String(host.udpPort)})`);
    }
    [this.udpSocket, this.udpPort] = bindUdp();
    this.tcp = network_create_socket(network_socket_tcp);
    // The answer arrives as network_type_non_blocking_connect (a browser cannot block).
    if (network_connect(this.tcp, host.ip, host.tcpPort) < 0) {
      this.destroy();
      throw new DemoError("E_DEMO_CONNECT", `cannot connect to ${host.ip}:${host.tcpPort}`);
    }
    hooks.world.local.id = 0;
  }

  handleNetwork(load: AsyncLoad, now: number): void {
    switch (load.type) {
      case network_type_non_blocking_connect:
        if (load.id !== this.tcp) return;
        if (load.succeeded === 1) this.send({ type: MSG_HELLO, name: this.hooks.world.local.name, udpPort: this.udpPort });
        else this.hooks.ended(describeNetworkFault(load, `Could not connect to the host at ${this.host.ip}:${this.host.tcpPort}`));
        break;
      case network_type_disconnect:
        if (load.id === this.tcp) this.hooks.ended(describeNetworkFault(load, "The host left", "warn"));
        break;
      case network_type_data:
        if (load.id === this.tcp) this.tcpArrived(Number(load.buffer));
        // Everything comes through the host: datagrams from anywhere else are not ours.
        else if (load.id === this.udpSocket && load.ip === this.host.ip) this.datagramArrived(Number(load.buffer), now);
        break;
    }
  }

  sendPosition(position: Position): void {
    if (!this.welcomed) return;
    const { buffer, size } = encodePosition(position);
    network_send_udp(this.udpSocket, this.host.ip, this.host.udpPort, buffer, size);
  }

  sendPing(now: number): void {
    if (!this.welcomed) return;
    const { buffer, size } = encodePing(MSG_PING, now);
    network_send_udp(this.udpSocket, this.host.ip, this.host.udpPort, buffer, size);
  }

  sendChat(text: string): void {
    this.hooks.chat(this.hooks.world.local.name, text, true);
    this.send({ type: MSG_CHAT, from: 0, text });
  }

  destroy(): void {
    network_destroy(this.tcp);
    network_destroy(this.udpSocket);
  }

  private send(message: TcpMessage): void {
    const { buffer, size } = encodeTcp(message);
    network_send_packet(this.tcp, buffer, size);
  }

  private tcpArrived(buffer: number): void {
    const message = decodedOrReported(this.hooks, "A message from the host", () => decodeTcp(buffer));
    if (message === undefined) return;
    const { world } = this.hooks;
    switch (message.type) {
      case MSG_WELCOME:
        world.local.id = message.yourId;
        for (const player of message.players) world.addRemote(player);
        this.welcomed = true;
        this.hooks.ready();
        break;
      case MSG_JOINED:
        world.addRemote(message.player);
        this.hooks.message({ level: "info", code: "joined", text: `${message.player.name} (${message.player.ip}) joined` });
        break;
      case MSG_LEFT: {
        const gone = world.removeRemote(message.id);
        if (gone !== undefined) this.hooks.message({ level: "info", code: "left", text: `${gone.name} left` });
        break;
      }
      case MSG_CHAT:
        this.hooks.chat(world.remotes.get(message.from)?.name ?? `player ${message.from}`, message.text, false);
        break;
    }
  }

  private datagramArrived(buffer: number, now: number): void {
    const datagram = decodedOrReported(this.hooks, "A datagram from the host", () => decodeDatagram(buffer));
    if (datagram === undefined) return;
    switch (datagram.type) {
      case MSG_POSITION:
        this.hooks.world.receive(datagram.position, now);
        break;
      case MSG_PING: {
        const pong = encodePing(MSG_PONG, datagram.time);
        network_send_udp(this.udpSocket, this.host.ip, this.host.udpPort, pong.buffer, pong.size);
        break;
      }
      case MSG_PONG: {
        const host = this.hooks.world.remotes.get(HOST_PLAYER_ID);
        if (host !== undefined) host.pingMs = roundTrip(datagram.time, performance.now());
        break;
      }
    }
  }
}

/** A UDP socket on GUEST_UDP_PORT, or the next free port after it: [socket, port]. */
function bindUdp(): [number, number] {
  for (let port = GUEST_UDP_PORT; port < GUEST_UDP_PORT + 10; port++) {
    const socket = network_create_socket_ext(network_socket_udp, port);
    if (socket >= 0) return [socket, port];
  }
  throw new DemoError("E_DEMO_PORT_TAKEN", `UDP ports ${GUEST_UDP_PORT}–${GUEST_UDP_PORT + 9} are all in use in this tab`);
}
