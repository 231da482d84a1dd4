/**
 * What the host and guest sessions (host.ts, guest.ts) have in common: the game's ports, the
 * hooks through which a session tells the rest of the page what happened, and the interface the
 * game loop drives them through.
 */
import type { AsyncLoad } from "@gmnet/engine";
import { type Message, describeThrown } from "./errors.js";
import type { Position } from "./protocol.js";
import type { World } from "./world.js";

/** The host's game server (TCP: chat and who is who) and its UDP port (positions). Every tab has its own virtual IP, so fixed ports never collide. */
export const HOST_TCP_PORT = 6510;
export const HOST_UDP_PORT = 6511;
/** Where a guest binds its UDP socket (told to the host in HELLO). */
export const GUEST_UDP_PORT = 6512;
/** Players per room, the host included. */
export const MAX_PLAYERS = 8;

export interface SessionHooks {
  readonly world: World;
  /** Something worth telling the player (joins, leaves, errors). */
  message(message: Message): void;
  /** A chat line to show; `local` for this tab's own. */
  chat(from: string, text: string, local: boolean): void;
  /** The guest is in: the host welcomed it (guests only). */
  ready(): void;
  /** The session cannot go on (the host left, the connection broke). The page ends it and looks for a game again. */
  ended(why: Message): void;
}

/**
 * What `decode()` reads from a packet, or undefined after telling the player (through `hooks`)
 * that what `from` sent could not be read: a bad packet is dropped, it never ends the session.
 */
export function decodedOrReported<T>(hooks: SessionHooks, from: string, decode: () => T): T | undefined {
  try {
    return decode();
  } catch (error) {
    hooks.message(describeThrown(error, from));
    return undefined;
  }
}

export interface Session {
  readonly role: "host" | "guest";
  /** The UDP socket positions travel on (for network_get_stats). */
  readonly udpSocket: number;
  /** Handles an ev_async_web_networking event if it concerns this session's sockets. */
  handleNetwork(load: AsyncLoad, now: number): void;
  /** Sends the local player's position to whoever needs it. */
  sendPosition(position: Position): void;
  /** Pings whoever this tab talks to directly (the host, or every guest) with the clock `now` (performance.now()); PONGs set their pingMs. */
  sendPing(now: number): void;
  /** Sends a chat line (and shows it here). */
  sendChat(text: string): void;
  /** Closes every socket of the session. */
  destroy(): void;
}
