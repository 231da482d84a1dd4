/**
 * The sockets of one run and where each one is — created, connecting, open, closed, failed —
 * told from what the script called (network_create_*, network_connect*, network_destroy) and
 * from the async events the engine sent about them (network_type_non_blocking_connect,
 * network_type_connect, network_type_disconnect). The engine has no call that says a socket's
 * state, so this is the playground's own account of it, for the sockets panel.
 *
 * A socket that closed or failed stays listed for LINGER_MS (the panel fades it out), then
 * drops out of the list; whether it still exists in the engine (and so has to be destroyed at
 * Stop) is kept apart from that: a client whose connect failed is still the script's socket.
 *
 * Pure: no DOM, no engine calls; the engine's constants and the clock are passed in.
 */
import type { AsyncLoad } from "@gmnet/engine";
import type { SocketInfo, SocketState, TrackedSocket } from "../panel-host.js";

/** How long a closed or failed socket stays in the list. */
export const LINGER_MS = 5000;

/** The engine constants the tracker reads events with. */
export interface SocketEventConstants {
  readonly ev_async_web_networking: number;
  readonly network_type_connect: number;
  readonly network_type_disconnect: number;
  readonly network_type_non_blocking_connect: number;
  readonly network_socket_udp: number;
}

/** Error codes of a disconnect that is an ordinary end, not a failure. */
const CLEAN_ENDS = new Set(["E_NETWORK_CLOSED"]);

interface Entry {
  readonly info: SocketInfo;
  state: SocketState;
  detail: string | undefined;
  endedAt: number | undefined;
  /** Still a socket in the engine (not destroyed, not an accepted client that went away). */
  exists: boolean;
  /** The server that accepted it, for a server's client. */
  readonly acceptedBy: number | undefined;
}

const ended = (state: SocketState): boolean => state === "closed" || state === "failed";

export class SocketTracker {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly constants: SocketEventConstants,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A socket or server the script created: servers and UDP sockets are open at once, stream sockets wait for a connect. */
  add(info: SocketInfo, acceptedBy?: number): void {
    const open = info.role === "server" || info.kind === "udp" || acceptedBy !== undefined;
    this.entries.set(info.id, { info, state: open ? "open" : "created", detail: undefined, endedAt: undefined, exists: true, acceptedBy });
  }

  has(id: number): boolean {
    return this.entries.has(id);
  }

  /** network_connect* returned `result` for `id`: under way (0), or refused at once (below 0). */
  connecting(id: number, result: unknown): void {
    const entry = this.entries.get(id);
    if (entry === undefined || !entry.exists || entry.state === "connecting" || entry.state === "open") return;
    if (typeof result === "number" && result >= 0) this.set(entry, "connecting", undefined);
    else this.set(entry, "failed", `the connect returned ${String(result)}`);
  }

  /** network_destroy: the socket is gone, and so are the clients a server accepted. */
  destroyed(id: number, why = "destroyed"): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.gone(entry, why);
    for (const client of this.entries.values()) if (client.acceptedBy === id) this.gone(client, why);
  }

  /** Every socket is gone (network_shutdown, the end of the run). */
  destroyAll(why: string): void {
    for (const entry of this.entries.values()) this.gone(entry, why);
  }

  /** Follows the engine's events about the sockets (a server's new client is added here). */
  observe(load: AsyncLoad, eventType: number): void {
    const c = this.constants;
    if (eventType !== c.ev_async_web_networking) return;
    const socketId = typeof load.socket === "number" ? load.socket : typeof load.id === "number" ? load.id : undefined;
    if (socketId === undefined) return;
    const serverId = typeof load.server === "number" ? load.server : undefined;
    const server = serverId === undefined ? undefined : this.entries.get(serverId);
    const error = typeof load.error === "string" && load.error !== "" ? load.error : undefined;

    if (load.type === c.network_type_connect) {
      if (server === undefined || server.info.role !== "server" || this.entries.has(socketId)) return;
      this.add({ id: socketId, kind: server.info.kind, role: "socket", port: server.info.port }, server.info.id);
      return;
    }
    const entry = this.entries.get(socketId);
    if (entry === undefined) return;
    if (load.type === c.network_type_non_blocking_connect) {
      if (load.succeeded === 1 || load.succeeded === true) this.set(entry, "open", undefined);
      else this.set(entry, "failed", error ?? "the connect failed");
    } else if (load.type === c.network_type_disconnect) {
      if (ended(entry.state)) return;
      this.set(entry, error === undefined || CLEAN_ENDS.has(error) ? "closed" : "failed", error ?? "disconnected");
      // A server's client that went away is gone from the engine too.
      if (entry.acceptedBy !== undefined) entry.exists = false;
    }
  }

  /** The sockets still in the engine that the script made itself (not a server's clients, which go with their server), oldest first. */
  existing(): SocketInfo[] {
    return [...this.entries.values()].filter((entry) => entry.exists && entry.acceptedBy === undefined).map((entry) => entry.info);
  }

  /** Whether `id` is a client a server of this run accepted. */
  isAccepted(id: number): boolean {
    return this.entries.get(id)?.acceptedBy !== undefined;
  }

  /** The list to show: every socket that is not closed or failed, and those that ended less than LINGER_MS ago. */
  list(): TrackedSocket[] {
    const now = this.now();
    const shown: TrackedSocket[] = [];
    for (const [id, entry] of this.entries) {
      if (entry.endedAt !== undefined && now - entry.endedAt >= LINGER_MS) {
        // Long gone from the engine and the list: forget it.
        if (!entry.exists) this.entries.delete(id);
        continue;
      }
      shown.push({ ...entry.info, state: entry.state, detail: entry.detail, endedAt: entry.endedAt });
    }
    return shown;
  }

  private gone(entry: Entry, why: string): void {
    if (!entry.exists) return;
    entry.exists = false;
    if (!ended(entry.state)) this.set(entry, "closed", why);
  }

  private set(entry: Entry, state: SocketState, detail: string | undefined): void {
    entry.state = state;
    entry.detail = detail;
    entry.endedAt = ended(state) ? this.now() : undefined;
  }
}
