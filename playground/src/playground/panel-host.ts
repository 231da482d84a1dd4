/**
 * What a live panel (sockets, hex inspector, stats plots, network conditions) may know of the
 * playground: the engine, what the running script has created, the tick and the async events.
 * main.ts builds one PanelHost from the script runner and hands it to every panel's `mount`, so
 * panels never reach into the runner or each other.
 */
import type { AsyncLoad } from "@gmnet/engine";

/** A socket the running script created, as the sockets panel lists it. */
export interface TrackedSocket {
  readonly id: number;
  /** "tcp" | "udp" | "ws" | "wss" — the network_socket_* kind it was made with. */
  readonly kind: string;
  /** "server" for network_create_server*, "socket" for network_create_socket*. */
  readonly role: "server" | "socket";
  /** The port it listens on (servers) or was bound to; undefined when none was given. */
  readonly port: number | undefined;
}

export interface PanelHost {
  /** Sockets the running script created and has not destroyed, oldest first. */
  sockets(): readonly TrackedSocket[];
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
