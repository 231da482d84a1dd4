/**
 * The host's side of a game: a TCP game server (network_create_server) that guests connect to for
 * chat and the player list, and a UDP socket bound to a known port for positions. The host is the
 * centre of a star: it sends its own position to every guest and forwards each guest's position
 * datagrams, unchanged, to the others; chat lines go through it the same way.
 */
import {
  type AsyncLoad,
  network_create_server,
  network_create_socket_ext,
  network_destroy,
  network_send_packet,
  network_send_udp,
  network_socket_tcp,
  network_socket_udp,
  network_type_connect,
  network_type_data,
  network_type_disconnect,
} from "@gmnet/engine";
import { DemoError, describeNetworkFault } from "./errors.js";
import {
  HOST_PLAYER_ID,
  MAX_CHAT_LENGTH,
  MSG_CHAT,
  MSG_HELLO,
  MSG_JOINED,
  MSG_LEFT,
  MSG_PING,
  MSG_PONG,
  MSG_POSITION,
  MSG_WELCOME,
  type PlayerInfo,
  type Position,
  type TcpMessage,
  decodeDatagram,
  decodeTcp,
  encodePing,
  encodePosition,
  encodeTcp,
  roundTrip,
} from "./protocol.js";
import { HOST_TCP_PORT, HOST_UDP_PORT, MAX_PLAYERS, type Session, type SessionHooks, decodedOrReported } from "./session.js";

/** A guest's TCP connection; it becomes a player once its HELLO arrived. */
interface Guest {
  readonly socket: number;
  readonly ip: string;
  player?: PlayerInfo;
  udpPort?: number;
}

/** A guest that said HELLO. */
type Joined = Guest & { player: PlayerInfo; udpPort: number };

export class HostSession implements Session {
  readonly role = "host";
  readonly udpSocket: number;
  private readonly server: number;
  /** By TCP socket id. */
  private readonly guests = new Map<number, Guest>();
  private nextPlayerId = HOST_PLAYER_ID + 1;

  /** Opens the server and the UDP socket; throws DemoError when a port is taken. */
  constructor(private readonly hooks: SessionHooks) {
    this.server = network_create_server(network_socket_tcp, HOST_TCP_PORT, MAX_PLAYERS - 1);
    if (this.server < 0) throw new DemoError("E_DEMO_PORT_TAKEN", `TCP port ${HOST_TCP_PORT} is already in use in this tab`);
    this.udpSocket = network_create_socket_ext(network_socket_udp, HOST_UDP_PORT);
    if (this.udpSocket < 0) {
      network_destroy(this.server);
      throw new DemoError("E_DEMO_PORT_TAKEN", `UDP port ${HOST_UDP_PORT} is already in use in this tab`);
    }
    hooks.world.local.id = HOST_PLAYER_ID;
  }

  /** The ports to put in the room: guests connect to the TCP one, and send positions to the UDP one. */
  get ports(): { tcpPort: number; udpPort: number } {
    return { tcpPort: HOST_TCP_PORT, udpPort: HOST_UDP_PORT };
  }

  handleNetwork(load: AsyncLoad, now: number): void {
    switch (load.type) {
      case network_type_connect:
        if (load.server === this.server) this.guests.set(Number(load.socket), { socket: Number(load.socket), ip: String(load.ip) });
        break;
      case network_type_disconnect:
        if (load.server === this.server) this.guestLeft(Number(load.socket), load);
        break;
      case network_type_data:
        if (load.id === this.udpSocket) this.datagramArrived(load, now);
        else if (load.server === this.server) this.tcpArrived(Number(load.id), Number(load.buffer));
        break;
    }
  }

  sendPosition(position: Position): void {
    const { buffer, size } = encodePosition(position);
    for (const guest of this.players()) network_send_udp(this.udpSocket, guest.ip, guest.udpPort, buffer, size);
  }

  sendPing(now: number): void {
    const { buffer, size } = encodePing(MSG_PING, now);
    for (const guest of this.players()) network_send_udp(this.udpSocket, guest.ip, guest.udpPort, buffer, size);
  }

  sendChat(text: string): void {
    this.hooks.chat(this.hooks.world.local.name, text, true);
    this.sendToGuests({ type: MSG_CHAT, from: HOST_PLAYER_ID, text });
  }

  destroy(): void {
    // Destroying the server disconnects every guest (they see network_type_disconnect).
    network_destroy(this.server);
    network_destroy(this.udpSocket);
    this.guests.clear();
  }

  /** Guests that said HELLO: the ones positions and chat go to. */
  private *players(except?: Guest): Generator<Joined> {
    for (const guest of this.guests.values()) {
      if (guest !== except && guest.player !== undefined && guest.udpPort !== undefined) yield guest as Joined;
    }
  }

  private sendToGuests(message: TcpMessage, except?: Guest): void {
    const { buffer, size } = encodeTcp(message);
    for (const guest of this.players(except)) network_send_packet(guest.socket, buffer, size);
  }

  private tcpArrived(socket: number, buffer: number): void {
    const guest = this.guests.get(socket);
    if (guest === undefined) return;
    const message = decodedOrReported(this.hooks, `A message from ${guest.ip}`, () => decodeTcp(buffer));
    if (message === undefined) return;
    if (message.type === MSG_HELLO && guest.player === undefined) this.welcome(guest, message.name, message.udpPort);
    else if (message.type === MSG_CHAT && guest.player !== undefined) {
      // The host decides who said it: the guest's own `from` is not trusted.
      const text = message.text.slice(0, MAX_CHAT_LENGTH);
      this.hooks.chat(guest.player.name, text, false);
      this.sendToGuests({ type: MSG_CHAT, from: guest.player.id, text }, guest);
    }
  }

  /** HELLO: the guest becomes a player, learns who is here, and everyone else learns of it. */
  private welcome(guest: Guest, name: string, udpPort: number): void {
    const player: PlayerInfo = { id: this.nextPlayerId++, name: name.slice(0, 32) || `player ${guest.ip}`, ip: guest.ip };
    const { local } = this.hooks.world;
    const others = [...this.players()].map((other) => other.player);
    const welcome = encodeTcp({ type: MSG_WELCOME, yourId: player.id, players: [{ id: local.id, name: local.name, ip: local.ip }, ...others] });
    network_send_packet(guest.socket, welcome.buffer, welcome.size);
    this.sendToGuests({ type: MSG_JOINED, player });
    guest.player = player;
    guest.udpPort = udpPort;
    this.hooks.world.addRemote(player);
    this.hooks.message({ level: "info", code: "joined", text: `${player.name} (${player.ip}) joined` });
  }

  private guestLeft(socket: number, load: AsyncLoad): void {
    const guest = this.guests.get(socket);
    this.guests.delete(socket);
    if (guest?.player === undefined) return;
    this.hooks.world.removeRemote(guest.player.id);
    this.sendToGuests({ type: MSG_LEFT, id: guest.player.id });
    this.hooks.message(describeNetworkFault(load, `${guest.player.name} left`, "info"));
  }

  /** A datagram from a guest: its position (kept for drawing, and forwarded to the other guests), or a ping. */
  private datagramArrived(load: AsyncLoad, now: number): void {
    const datagram = decodedOrReported(this.hooks, `A datagram from ${String(load.ip)}`, () => decodeDatagram(Number(load.buffer)));
    if (datagram === undefined) return;
    // Only players may send, and only from their own address.
    const sender = [...this.players()].find((guest) => guest.ip === load.ip);
    if (sender === undefined) return;
    switch (datagram.type) {
      case MSG_POSITION:
        // A guest moves only its own player. Out-of-order datagrams are dropped here, and not forwarded either.
        if (datagram.position.player !== sender.player.id || !this.hooks.world.receive(datagram.position, now)) return;
        for (const guest of this.players(sender)) network_send_udp(this.udpSocket, guest.ip, guest.udpPort, Number(load.buffer), Number(load.size));
        break;
      case MSG_PING: {
        const pong = encodePing(MSG_PONG, datagram.time);
        network_send_udp(this.udpSocket, sender.ip, sender.udpPort, pong.buffer, pong.size);
        break;
      }
      case MSG_PONG: {
        const player = this.hooks.world.remotes.get(sender.player.id);
        if (player !== undefined) player.pingMs = roundTrip(datagram.time, performance.now());
        break;
      }
    }
  }
}
