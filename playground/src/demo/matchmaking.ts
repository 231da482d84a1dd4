/**
 * Finding a game through the master services: log in as a guest, list the demo's rooms, and join
 * the oldest one with space — or, when there is none, open a server and register a room for it.
 *
 * Every master_* call returns a request id at once and is answered later by an ev_async_social
 * event (master_type_response) with that id: `ask` remembers what to do with each answer.
 *
 * Two tabs opened at the same instant both find no room and both create one. Each host therefore
 * lists the rooms once more right after creating its own: the room list is oldest first, so the
 * host whose room is not the first one gives up (leaves its room, closes its server) and joins
 * the older room. Both tabs see the same order, so exactly one of them stays host. Guests that
 * had already found the younger room get master_type_room_closed and simply search again.
 */
import {
  type AsyncLoad,
  master_get_room,
  master_get_username,
  master_logged_in,
  master_login_guest,
  master_room_create,
  master_room_join,
  master_room_leave,
  master_room_list,
  master_type_response,
} from "@gmnet/engine";
import { type Message, describeMasterFailure } from "./errors.js";
import { PROTOCOL_VERSION } from "./protocol.js";
import { MAX_PLAYERS } from "./session.js";

/** Marks the demo's rooms among every other game's on the same server (and keeps lobbies apart). */
export function roomProperties(lobby: string): Record<string, string | number> {
  return { game: "gmnet-demo", lobby, version: PROTOCOL_VERSION };
}

/** A room this tab joined: where its host's game server listens. */
export interface JoinedRoom {
  readonly roomId: number;
  readonly host: string;
  readonly ip: string;
  readonly tcpPort: number;
  readonly udpPort: number;
}

export interface MatchmakingHooks {
  /** What the search is doing, for the status line. */
  status(text: string): void;
  message(message: Message): void;
  /** Open the game server; its ports, or undefined when it could not be opened (already reported). */
  openServer(): { tcpPort: number; udpPort: number } | undefined;
  /** The room for our server is registered: we are the host. */
  hosting(roomId: number): void;
  /** Another host's room is older: close our server (the room is being left). */
  closeServer(): void;
  /** We joined a room: connect to its host. */
  joined(room: JoinedRoom): void;
}

/** How long to wait before searching again after a failure, ms. */
const RETRY_MS = 3000;

export class Matchmaker {
  /** What to do with the answer to each request still waiting. */
  private readonly waiting = new Map<number, { ok: (load: AsyncLoad) => void; failed: (load: AsyncLoad) => void }>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly lobby: string,
    private readonly hooks: MatchmakingHooks,
  ) {}

  /** (Re)starts the search after `delayMs`, leaving the room this tab is in first. Forgets any search under way. */
  start(delayMs = 0): void {
    this.cancel();
    if (master_get_room() !== 0) {
      const next = (): void => this.later(delayMs);
      this.ask(master_room_leave(), next, next);
    } else {
      this.later(delayMs);
    }
  }

  /** Stops the search: answers still on their way are ignored. */
  cancel(): void {
    this.waiting.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Handles an ev_async_social response to one of our requests; other events are left alone. */
  handleSocial(load: AsyncLoad): void {
    if (load.type !== master_type_response) return;
    const handlers = this.waiting.get(Number(load.id));
    if (handlers === undefined) return;
    this.waiting.delete(Number(load.id));
    if (load.succeeded === true) handlers.ok(load);
    else handlers.failed(load);
  }

  private later(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.search(), delayMs);
  }

  /** Remembers what to do with the answer to `requestId`; by default a failure is shown and the search starts over. */
  private ask(requestId: number, ok: (load: AsyncLoad) => void, failed = (load: AsyncLoad) => this.retry(load)): void {
    this.waiting.set(requestId, { ok, failed });
  }

  private retry(load: AsyncLoad): void {
    this.hooks.message({ ...describeMasterFailure(load), until: "in-game" });
    this.hooks.status(`retrying in ${RETRY_MS / 1000} s…`);
    this.start(RETRY_MS);
  }

  private search(): void {
    // 1. A guest account (each tab its own): it also gives this tab its account's virtual IP,
    //    so it comes before any socket is opened.
    if (!master_logged_in()) {
      this.hooks.status("logging in…");
      this.ask(master_login_guest(), () => this.search());
      return;
    }
    // 2. The oldest demo room of this lobby that has space.
    this.hooks.status("looking for a room…");
    this.ask(master_room_list({ not_full: true, properties: roomProperties(this.lobby) }), (load) => {
      const oldest = firstRoom(load);
      if (oldest !== undefined) this.join(oldest);
      else this.host();
    });
  }

  /** 3a. No room: open the server, register a room bound to its TCP port, with the UDP port in its properties. */
  private host(): void {
    const ports = this.hooks.openServer();
    if (ports === undefined) {
      this.start(RETRY_MS);
      return;
    }
    this.hooks.status("creating a room…");
    const properties = { ...roomProperties(this.lobby), udp_port: ports.udpPort };
    const created = master_room_create(`${master_get_username()}'s arena`, MAX_PLAYERS, ports.tcpPort, { properties });
    this.ask(
      created,
      (load) => {
        const roomId = Number(load.room_id);
        this.hooks.hosting(roomId);
        this.checkForOlderRoom(roomId);
      },
      (load) => {
        this.hooks.closeServer();
        this.retry(load);
      },
    );
  }

  /** 4. Two tabs may have created rooms at the same time: the younger room's host joins the older one. */
  private checkForOlderRoom(ownRoomId: number): void {
    this.ask(
      master_room_list({ not_full: true, properties: roomProperties(this.lobby) }),
      (load) => {
        const oldest = firstRoom(load);
        if (oldest === undefined || oldest.room_id === ownRoomId) return;
        this.hooks.message({ level: "info", code: "yield", text: `Room ${oldest.room_id} was opened just before ours: joining it instead` });
        this.hooks.closeServer();
        const join = (): void => this.join(oldest);
        this.ask(master_room_leave(), join, join);
      },
      // Not being able to check is no reason to stop hosting.
      (load) => this.hooks.message({ ...describeMasterFailure(load, "warn"), until: "in-game" }),
    );
  }

  /** 3b. Join a room; its answer says where the host's game server listens. */
  private join(room: RoomSummary): void {
    this.hooks.status(`joining room ${room.room_id}…`);
    this.ask(
      master_room_join(room.room_id),
      (load) => {
        const udpPort = Number((load.properties as Record<string, unknown> | undefined)?.udp_port);
        this.hooks.joined({ roomId: Number(load.room_id), host: String(load.host), ip: String(load.ip), tcpPort: Number(load.port), udpPort });
      },
      (load) => {
        // Filled up or closed since the list: not worth an error, just look again.
        if (load.error === "room_full" || load.error === "room_not_found") {
          this.hooks.message(describeMasterFailure(load, "info"));
          this.start(500);
        } else {
          this.retry(load);
        }
      },
    );
  }
}

/** The keys of a listed room this file uses. */
interface RoomSummary {
  readonly room_id: number;
}

/** The first (oldest) room of a master_room_list answer. */
function firstRoom(load: AsyncLoad): RoomSummary | undefined {
  const rooms = load.rooms as readonly RoomSummary[] | undefined;
  return rooms?.[0];
}
