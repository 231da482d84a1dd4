/**
 * What a live panel (sockets, hex inspector, stats plots, network conditions) may know of the
 * playground: the engine, what the running script has created, the tick and the async events.
 * main.ts builds one PanelHost from the script runner and hands it to every panel's `mount`, so
 * panels never reach into the runner or each other.
 */
import type { AsyncLoad } from "@gmnet/engine";
import type { TrackedCall, TrackedTool } from "./runner/mcp-tracker.js";

/**
 * Where a socket of the script is: "created" (a stream socket not yet asked to connect),
 * "connecting", "open" (connected; a server listening; a UDP socket bound), "closed" (destroyed,
 * or the other side ended it cleanly) or "failed" (its connect failed, or a fault ended it).
 */
export type SocketState = "created" | "connecting" | "open" | "closed" | "failed";

/** What a socket of the script is made of: how it was created. */
export interface SocketInfo {
  readonly id: number;
  /** "tcp" | "udp" | "ws" | "wss" — the network_socket_* kind it was made with. */
  readonly kind: string;
  /** "server" for network_create_server*, "socket" for network_create_socket*. */
  readonly role: "server" | "socket";
  /** The port it listens on (servers) or was bound to; undefined when none was given. */
  readonly port: number | undefined;
}

/** A socket the script created, as the sockets panel lists it. */
export interface TrackedSocket extends SocketInfo {
  readonly state: SocketState;
  /** Why it is closed or failed (an error code such as E_NETWORK_REFUSED, "destroyed", "stopped"); undefined otherwise. */
  readonly detail: string | undefined;
  /** performance.now() when it closed or failed; undefined while it is not. */
  readonly endedAt: number | undefined;
}

/** The MCP tools of a run and the calls agents made to them (runner/mcp-tracker.ts). */
export interface McpSnapshot {
  /** The run they belong to (0 before the first). */
  readonly run: number;
  /** Grows with every change within the run. */
  readonly version: number;
  /** In the order the script first registered them. */
  readonly tools: readonly TrackedTool[];
  /** Newest first, at most MAX_CALLS. */
  readonly calls: readonly TrackedCall[];
}

export interface PanelHost {
  /**
   * The sockets of the running script (or of the run that just ended), oldest first: the live
   * ones, and closed or failed ones for a few seconds after they ended (until the next run).
   */
  sockets(): readonly TrackedSocket[];
  /** The running script's MCP tools and calls (or the last run's, until the next one starts). */
  mcp(): McpSnapshot;
  /** Ids of buffers the running script created that still exist, oldest first. */
  buffers(): readonly number[];
  /** Calls `listener(now)` once per playground tick (after the script's step and event dispatch); returns an unsubscribe. */
  onTick(listener: (now: number) => void): () => void;
  /** Calls `listener` for every async event the playground dispatches; returns an unsubscribe. */
  onAsyncEvent(listener: (asyncLoad: AsyncLoad, eventType: number) => void): () => void;
  /** Shows an error as a readable message in the page (never only in the console). */
  showError(error: unknown): void;
}

/** Every panel module exports one of these: it builds its DOM inside `container`. */
export type MountPanel = (container: HTMLElement, host: PanelHost) => void;
