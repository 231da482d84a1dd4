/**
 * What one run of a script owns — sockets, buffers, request ids, extra engines, timers, a master
 * login, room or party, MCP tools — and how Stop gives it all back, so runs never leak into each other.
 *
 * The script never sees the engine's functions themselves: scope.ts hands it wrappers that record
 * here what they create, and RunResources.release() undoes it with the unwrapped functions.
 */
import type * as EngineNamespace from "@gmnet/engine";
import type { AsyncLoad, Engine } from "@gmnet/engine";
import type { SocketInfo, TrackedSocket } from "../panel-host.js";
import { McpTracker } from "./mcp-tracker.js";
import { SocketTracker } from "./socket-tracker.js";

/** The @gmnet/engine module namespace (injected, so nothing here imports the default engine by itself). */
export type EngineModule = typeof EngineNamespace;

const SOCKET_KINDS: Readonly<Record<number, string>> = { 0: "tcp", 1: "udp", 2: "ws", 3: "wss" };

/** "tcp" | "udp" | "ws" | "wss" for a network_socket_* value. */
export function socketKind(type: unknown): string {
  return typeof type === "number" ? (SOCKET_KINDS[type] ?? String(type)) : String(type);
}

/** What release() gave back, for the console's "stopped" line. */
export interface Released {
  readonly sockets: number;
  readonly buffers: number;
  readonly engines: number;
  readonly timers: number;
  /** MCP tools withdrawn. */
  readonly tools: number;
  /** "left the room", "logged out" … */
  readonly master: readonly string[];
}

type TimerKind = "timeout" | "interval" | "frame";

export class RunResources {
  private readonly socketTracker: SocketTracker;
  private readonly liveBuffers = new Set<number>();
  /** Every socket id this run ever had, destroyed ones included: their late events are not for the next run. */
  readonly everSockets = new Set<number>();
  /** Every request id this run got back (http_*, master_*, *_async …), and the ones release() made. */
  readonly requests = new Set<number>();
  private readonly engines: Engine[] = [];
  private readonly timers = new Map<number, TimerKind>();
  loggedIn = false;
  joinedRoom = false;
  joinedParty = false;
  /** The run's MCP tools and the calls agents made to them (the MCP panel). */
  readonly mcp: McpTracker;

  constructor(private readonly engine: EngineModule) {
    this.socketTracker = new SocketTracker(engine);
    this.mcp = new McpTracker(engine);
  }

  // ------------------------------------------------------------------ sockets

  /** The run's sockets as the sockets panel lists them (closed and failed ones for a few seconds), oldest first. */
  sockets(): readonly TrackedSocket[] {
    return this.socketTracker.list();
  }

  addSocket(socket: SocketInfo): void {
    this.socketTracker.add(socket);
    this.everSockets.add(socket.id);
  }

  /** network_connect* on `id` returned `result`. */
  connecting(id: unknown, result: unknown): void {
    if (typeof id === "number") this.socketTracker.connecting(id, result);
  }

  removeSocket(id: number): void {
    this.socketTracker.destroyed(id);
  }

  clearSockets(): void {
    this.socketTracker.destroyAll("network_shutdown");
  }

  /** Follows the sockets' events: connects, a server's clients coming and going, disconnects. */
  observe(load: AsyncLoad, eventType: number): void {
    const known = typeof load.socket === "number" && this.socketTracker.has(load.socket);
    this.socketTracker.observe(load, eventType);
    if (!known && typeof load.socket === "number" && this.socketTracker.has(load.socket)) this.everSockets.add(load.socket);
    this.mcp.observe(load, eventType);
  }

  // ------------------------------------------------------------------ buffers

  /** Buffers the script created that still exist, oldest first. */
  buffers(): readonly number[] {
    const existing: number[] = [];
    for (const id of this.liveBuffers) {
      if (this.engine.buffer_exists(id)) existing.push(id);
      else this.liveBuffers.delete(id);
    }
    return existing;
  }

  addBuffer(id: unknown): void {
    if (typeof id === "number" && id > 0 && this.engine.buffer_exists(id)) this.liveBuffers.add(id);
  }

  removeBuffer(id: number): void {
    this.liveBuffers.delete(id);
  }

  // ------------------------------------------------------------------ the rest

  addRequest(id: unknown): void {
    if (typeof id === "number" && id > 0) this.requests.add(id);
  }

  addEngine(engine: Engine): void {
    this.engines.push(engine);
  }

  addTimer(id: number, kind: TimerKind): void {
    this.timers.set(id, kind);
  }

  removeTimer(id: number): void {
    this.timers.delete(id);
  }

  /**
   * Gives everything back: timers cleared, extra engines shut down, MCP calls still open answered
   * with an error and the run's tools withdrawn, sockets destroyed (servers last), buffers
   * deleted, and the room, party and login this run made left. Never throws; the
   * request ids of the master requests it makes join `requests`, so their answers are known as
   * this run's.
   */
  release(): Released {
    const e = this.engine;
    const attempt = (action: () => void): void => {
      try {
        action();
      } catch {
        // Already gone: nothing to give back.
      }
    };

    const timers = this.timers.size;
    for (const [id, kind] of this.timers) {
      if (kind === "frame") cancelAnimationFrame(id);
      else if (kind === "interval") clearInterval(id);
      else clearTimeout(id);
    }
    this.timers.clear();

    const engines = this.engines.length;
    for (const engine of this.engines) attempt(() => engine.network_shutdown());
    this.engines.length = 0;

    // An agent waiting for an answer hears at once that none will come, instead of at its timeout.
    for (const call of this.mcp.openCalls()) attempt(() => e.network_mcp_tool_respond(call, "the playground script that offered this tool was stopped before it answered", true));
    const tools = this.mcp.offered();
    for (const name of tools) attempt(() => e.network_mcp_tool_unregister(name));
    this.mcp.stopped();

    const sockets = this.socketTracker.existing();
    for (const socket of [...sockets].sort((a, b) => Number(a.role === "server") - Number(b.role === "server") || b.id - a.id)) {
      attempt(() => e.network_destroy(socket.id));
    }
    this.socketTracker.destroyAll("stopped");

    const buffers = this.buffers();
    for (const id of buffers) attempt(() => e.buffer_delete(id));
    this.liveBuffers.clear();

    const master: string[] = [];
    if (this.joinedRoom && e.master_get_room() !== 0) {
      attempt(() => this.addRequest(e.master_room_leave()));
      master.push("left its room");
    }
    if (this.joinedParty && e.master_get_party() !== 0) {
      attempt(() => this.addRequest(e.master_party_leave()));
      master.push("left its party");
    }
    if (this.loggedIn && e.master_logged_in()) {
      attempt(() => this.addRequest(e.master_logout()));
      master.push("logged out");
    }
    this.loggedIn = this.joinedRoom = this.joinedParty = false;

    return { sockets: sockets.length, buffers: buffers.length, engines, timers, tools: tools.length, master };
  }
}
