/**
 * The demo's wire format, written and read with buffer_* as a GameMaker game would. Every message
 * starts with a buffer_u8 type; numbers are little-endian, strings NUL-terminated (buffer_string).
 *
 * UDP (unreliable, ~20 per second per player; a lost one is simply replaced by the next):
 *   POSITION   u8 type, u16 player id, u32 sequence, u32 sim time (ms), f32 x, f32 y        19 bytes
 *   PING       u8 type, u32 the sender's clock (ms)       once a second; answered at once by
 *   PONG       u8 type, u32 the same clock value          … so the sender gets the round trip
 *
 * TCP (reliable and ordered; GameMaker packets, one message per network_send_packet):
 *   HELLO      guest → host   string name, u16 the guest's UDP port
 *   WELCOME    host → guest   u16 the guest's player id, u8 count, count × (u16 id, string name, string ip)
 *   JOINED     host → guests  u16 id, string name, string ip
 *   LEFT       host → guests  u16 id
 *   CHAT       both ways      u16 from (0 from a guest: the host knows who sent it), string text
 *
 * Topology: a star. Guests talk only to the host; the host forwards each guest's POSITION
 * datagrams, untouched, to the other guests, and relays CHAT to everyone else.
 */
import {
  buffer_create,
  buffer_f32,
  buffer_grow,
  buffer_read,
  buffer_seek,
  buffer_seek_start,
  buffer_string,
  buffer_tell,
  buffer_u16,
  buffer_u32,
  buffer_u8,
  buffer_write,
} from "@gmnet/engine";

/** Bumped on any change of the format; part of the room's properties, so old and new tabs never meet. */
export const PROTOCOL_VERSION = 1;

export const MSG_POSITION = 1;
export const MSG_PING = 2;
export const MSG_PONG = 3;
export const MSG_HELLO = 10;
export const MSG_WELCOME = 11;
export const MSG_JOINED = 12;
export const MSG_LEFT = 13;
export const MSG_CHAT = 14;

/** The longest chat line, in characters (the chat field's maxlength; the host cuts longer ones). */
export const MAX_CHAT_LENGTH = 200;

/** The host is always player 1; guests get 2, 3, … in joining order. */
export const HOST_PLAYER_ID = 1;

export interface Position {
  readonly player: number;
  readonly seq: number;
  /** The sender's simulation clock, ms. */
  readonly time: number;
  readonly x: number;
  readonly y: number;
}

/** A UDP datagram, decoded. */
export type Datagram =
  | { readonly type: typeof MSG_POSITION; readonly position: Position }
  | { readonly type: typeof MSG_PING | typeof MSG_PONG; readonly time: number };

export interface PlayerInfo {
  readonly id: number;
  readonly name: string;
  readonly ip: string;
}

export type TcpMessage =
  | { readonly type: typeof MSG_HELLO; readonly name: string; readonly udpPort: number }
  | { readonly type: typeof MSG_WELCOME; readonly yourId: number; readonly players: readonly PlayerInfo[] }
  | { readonly type: typeof MSG_JOINED; readonly player: PlayerInfo }
  | { readonly type: typeof MSG_LEFT; readonly id: number }
  | { readonly type: typeof MSG_CHAT; readonly from: number; readonly text: string };

/** A message that does not follow the format (a bug, or another program on the port). */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

/**
 * One grow buffer, reused for every message this tab sends: written from the start, then sent as
 * bytes [0, size). (network_send_* copy the bytes, so the next message can overwrite them at once.)
 */
const out = buffer_create(64, buffer_grow, 1);

/** Writes a message with `write` into the shared buffer; returns the buffer and its size for network_send_*. */
function compose(type: number, write: () => void): { buffer: number; size: number } {
  buffer_seek(out, buffer_seek_start, 0);
  buffer_write(out, buffer_u8, type);
  write();
  // buffer_tell, not buffer_get_used_size: the used size remembers the longest message so far.
  return { buffer: out, size: buffer_tell(out) };
}

export function encodePosition(position: Position): { buffer: number; size: number } {
  return compose(MSG_POSITION, () => {
    buffer_write(out, buffer_u16, position.player);
    buffer_write(out, buffer_u32, position.seq >>> 0);
    buffer_write(out, buffer_u32, Math.round(position.time) >>> 0);
    buffer_write(out, buffer_f32, position.x);
    buffer_write(out, buffer_f32, position.y);
  });
}

/** A PING (with the sender's clock) or the PONG that answers it (with the same value). */
export function encodePing(type: typeof MSG_PING | typeof MSG_PONG, time: number): { buffer: number; size: number } {
  return compose(type, () => buffer_write(out, buffer_u32, Math.round(time) >>> 0));
}

/** The round trip of a PONG that carries `sentAt` (u32 ms), at local time `now`. */
export function roundTrip(sentAt: number, now: number): number {
  return (Math.round(now) - sentAt) >>> 0;
}

export function encodeTcp(message: TcpMessage): { buffer: number; size: number } {
  return compose(message.type, () => {
    switch (message.type) {
      case MSG_HELLO:
        buffer_write(out, buffer_string, message.name);
        buffer_write(out, buffer_u16, message.udpPort);
        break;
      case MSG_WELCOME:
        buffer_write(out, buffer_u16, message.yourId);
        buffer_write(out, buffer_u8, message.players.length);
        for (const player of message.players) writePlayer(player);
        break;
      case MSG_JOINED:
        writePlayer(message.player);
        break;
      case MSG_LEFT:
        buffer_write(out, buffer_u16, message.id);
        break;
      case MSG_CHAT:
        buffer_write(out, buffer_u16, message.from);
        buffer_write(out, buffer_string, message.text);
        break;
    }
  });
}

function writePlayer(player: PlayerInfo): void {
  buffer_write(out, buffer_u16, player.id);
  buffer_write(out, buffer_string, player.name);
  buffer_write(out, buffer_string, player.ip);
}

/** Reads a datagram (from the start of an async_load buffer). Throws ProtocolError when it is not one. */
export function decodeDatagram(buffer: number): Datagram {
  buffer_seek(buffer, buffer_seek_start, 0);
  const type = buffer_read(buffer, buffer_u8);
  switch (type) {
    case MSG_POSITION: {
      const position = {
        player: readNumber(buffer, buffer_u16),
        seq: readNumber(buffer, buffer_u32),
        time: readNumber(buffer, buffer_u32),
        x: readNumber(buffer, buffer_f32),
        y: readNumber(buffer, buffer_f32),
      };
      return { type, position };
    }
    case MSG_PING:
    case MSG_PONG:
      return { type, time: readNumber(buffer, buffer_u32) };
    default:
      throw new ProtocolError(`unknown datagram type ${String(type)}`);
  }
}

/** Reads one TCP message (from the start of an async_load buffer). Throws ProtocolError when it is not one. */
export function decodeTcp(buffer: number): TcpMessage {
  buffer_seek(buffer, buffer_seek_start, 0);
  const type = buffer_read(buffer, buffer_u8);
  switch (type) {
    case MSG_HELLO:
      return { type, name: readString(buffer), udpPort: readNumber(buffer, buffer_u16) };
    case MSG_WELCOME: {
      const yourId = readNumber(buffer, buffer_u16);
      const count = readNumber(buffer, buffer_u8);
      const players: PlayerInfo[] = [];
      for (let i = 0; i < count; i++) players.push(readPlayer(buffer));
      return { type, yourId, players };
    }
    case MSG_JOINED:
      return { type, player: readPlayer(buffer) };
    case MSG_LEFT:
      return { type, id: readNumber(buffer, buffer_u16) };
    case MSG_CHAT:
      return { type, from: readNumber(buffer, buffer_u16), text: readString(buffer) };
    default:
      throw new ProtocolError(`unknown message type ${String(type)}`);
  }
}

function readPlayer(buffer: number): PlayerInfo {
  return { id: readNumber(buffer, buffer_u16), name: readString(buffer), ip: readString(buffer) };
}

/** buffer_read gives undefined past the end of the data: a message cut short. */
function readNumber(buffer: number, type: number): number {
  const value = buffer_read(buffer, type);
  if (typeof value !== "number") throw new ProtocolError("message cut short");
  return value;
}

function readString(buffer: number): string {
  const value = buffer_read(buffer, buffer_string);
  if (typeof value !== "string") throw new ProtocolError("message cut short");
  return value;
}
