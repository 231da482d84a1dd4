/**
 * The game itself, without the page around it: matchmaking, the current session (host or guest),
 * the simulation of the local player, and the async events that drive them. main.ts calls
 * `frame()` once per animation frame and draws what `world` holds; the UI reads `phase`, `roomId`
 * and the session's socket for its status line.
 */
import {
  type AsyncLoad,
  ev_async_social,
  ev_async_web_networking,
  master_get_username,
  master_type_room_closed,
  master_type_room_update,
  master_type_session,
  network_config_virtual_ip,
  network_get_config,
  network_type_down,
  network_type_up,
  network_type_up_failed,
} from "@gmnet/engine";
import { type Message, type Recovery, describeNetworkFault, describeThrown } from "./errors.js";
import { GuestSession } from "./guest.js";
import { HostSession } from "./host.js";
import { type JoinedRoom, Matchmaker } from "./matchmaking.js";
import type { Session, SessionHooks } from "./session.js";
import { type Body, FixedStepper, type MoveInput, step } from "./simulation.js";
import { World } from "./world.js";

/** Where the game is: the status line shows it (data-testid="role"). */
export type Phase = "searching" | "joining" | "host" | "guest";

/** Positions are sent every this many ms of simulation time: 20 per second. */
const SEND_INTERVAL_MS = 50;
/** Pings go out once a second (PING/PONG over UDP: the round trip with every simulated delay in it). */
const PING_INTERVAL_MS = 1000;
/** After the host left, look for a game again after this long. */
const REJOIN_DELAY_MS = 1500;

export interface GameHooks {
  message(message: Message): void;
  chat(from: string, text: string, local: boolean): void;
  /** The status line's "what is happening" text changed. */
  status(text: string): void;
  /** The game is back online, or in a game again: messages about the trouble are obsolete. */
  recovered(recovery: Recovery): void;
}

/**
 * Steers the local player instead of the keyboard for one simulation step (the MCP agent's
 * move_player, agent-tools.ts): the body after the step, or undefined to leave it to the keys.
 */
export type Driver = (body: Body, keys: MoveInput) => Body | undefined;

export class Game {
  readonly world = new World();
  /** Set while something other than the keyboard moves the local player. */
  driver: Driver | undefined;
  phase: Phase = "searching";
  roomId = 0;
  session: Session | undefined;
  private readonly stepper = new FixedStepper();
  private readonly matchmaker: Matchmaker;
  private seq = 0;
  private lastSentAt = -Infinity;
  private lastPingAt = -Infinity;

  constructor(
    lobby: string,
    private readonly hooks: GameHooks,
  ) {
    this.matchmaker = new Matchmaker(lobby, {
      status: (text) => hooks.status(text),
      message: (message) => hooks.message(message),
      openServer: () => this.openServer(),
      hosting: (roomId) => {
        this.roomId = roomId;
        this.phase = "host";
        hooks.status(`hosting room ${roomId}: waiting for players`);
        hooks.recovered("in-game");
      },
      closeServer: () => this.endSession(),
      joined: (room) => this.connectTo(room),
    });
  }

  /** Starts looking for a game (or starts over: the "Find another game" button). */
  findGame(delayMs = 0): void {
    this.endSession();
    this.phase = "searching";
    this.matchmaker.start(delayMs);
  }

  /** One async event from async_event_dispatch. */
  handleEvent(load: AsyncLoad, eventType: number, now: number): void {
    if (eventType === ev_async_social) this.handleSocial(load);
    else if (eventType === ev_async_web_networking) this.handleNetwork(load, now);
  }

  /** Runs the simulation steps due by `now` with `input`, then sends the position when one is due. */
  frame(now: number, input: MoveInput): void {
    const local = this.world.local;
    for (let due = this.stepper.advance(now); due > 0; due--) local.body = this.driver?.(local.body, input) ?? step(local.body, input);
    if (this.session !== undefined && now - this.lastPingAt >= PING_INTERVAL_MS) {
      this.lastPingAt = now;
      // The clock right now, not the frame's start: a round trip must not come out shorter than it was.
      this.session.sendPing(performance.now());
    }
    if (this.session === undefined || this.stepper.time - this.lastSentAt < SEND_INTERVAL_MS) return;
    this.lastSentAt = this.stepper.time;
    this.session.sendPosition({ player: local.id, seq: ++this.seq, time: this.stepper.time, x: local.body.x, y: local.body.y });
  }

  sendChat(text: string): boolean {
    if (this.session === undefined || this.phase === "joining") return false;
    this.session.sendChat(text);
    return true;
  }

  private handleSocial(load: AsyncLoad): void {
    this.matchmaker.handleSocial(load);
    switch (load.type) {
      case master_type_room_closed:
        // The server closes a room when its host leaves; the TCP disconnect may come first or after.
        if (this.phase === "guest" || this.phase === "joining") this.hostLeft({ level: "warn", code: String(load.reason ?? "host_left"), text: "The host left" });
        break;
      case master_type_room_update:
        if (load.reason === "updated") this.hooks.message({ level: "info", code: "room", text: `Room ${String(load.room_id)} was updated` });
        break;
      case master_type_session:
        if (load.state !== "resumed") this.hooks.message({ level: "error", code: String(load.reason ?? load.state), text: `The guest login ended (${String(load.state)})`, until: "in-game" });
        break;
    }
  }

  private handleNetwork(load: AsyncLoad, now: number): void {
    switch (load.type) {
      case network_type_up:
        this.world.local.ip = String(load.ip);
        this.hooks.recovered("online");
        return;
      case network_type_up_failed:
        this.hooks.message({ ...describeNetworkFault(load, "No connection"), until: "online" });
        return;
      case network_type_down:
        // Rooms do not survive a lost connection: start over once the engine is back.
        this.hooks.message({ ...describeNetworkFault(load, "Lost the connection to the signaling server"), until: "online" });
        if (this.session !== undefined) this.findGame(REJOIN_DELAY_MS);
        return;
    }
    this.session?.handleNetwork(load, now);
  }

  private sessionHooks(): SessionHooks {
    return {
      world: this.world,
      message: (message) => this.hooks.message(message),
      chat: (from, text, local) => this.hooks.chat(from, text, local),
      ready: () => {
        this.phase = "guest";
        this.hooks.status(`playing in room ${this.roomId}`);
        this.hooks.recovered("in-game");
      },
      ended: (why) => this.hostLeft(why),
    };
  }

  private openServer(): { tcpPort: number; udpPort: number } | undefined {
    this.endSession();
    this.prepareLocalPlayer();
    try {
      const host = new HostSession(this.sessionHooks());
      this.session = host;
      return host.ports;
    } catch (error) {
      this.hooks.message(describeThrown(error, "Opening the game server"));
      return undefined;
    }
  }

  private connectTo(room: JoinedRoom): void {
    this.endSession();
    this.prepareLocalPlayer();
    this.roomId = room.roomId;
    this.phase = "joining";
    this.hooks.status(`connecting to ${room.host} at ${room.ip}:${room.tcpPort}…`);
    try {
      this.session = new GuestSession(this.sessionHooks(), { ip: room.ip, tcpPort: room.tcpPort, udpPort: room.udpPort });
    } catch (error) {
      this.hooks.message(describeThrown(error, "Connecting to the host"));
      this.findGame(REJOIN_DELAY_MS);
    }
  }

  /** The host left, or the connection to it failed or broke: say so, and look for a game again. */
  private hostLeft(why: Message): void {
    if (this.session === undefined) return;
    this.hooks.message({ ...why, until: why.until ?? "in-game" });
    this.hooks.status("looking for another game…");
    this.findGame(REJOIN_DELAY_MS);
  }

  /** Closes the current session's sockets and forgets the other players (the room is left by the matchmaker). */
  private endSession(): void {
    this.session?.destroy();
    this.session = undefined;
    this.world.clearRemotes();
    this.world.local.id = 0;
    this.roomId = 0;
    if (this.phase === "host" || this.phase === "guest" || this.phase === "joining") this.phase = "searching";
  }

  /** Our name and address, as the login set them. */
  private prepareLocalPlayer(): void {
    this.world.local.name = master_get_username();
    this.world.local.ip = String(network_get_config(network_config_virtual_ip));
  }
}
