/**
 * The relay benchmark's configurations and what its parts share (relay.bench.ts): the server kinds
 * and the settings each configuration changes, the options, a configuration's figures, and the
 * app key, listening port and step timeout of its clients.
 */
import type { ServerConfig } from "../../src/config.js";

export type ServerKind = "bare" | "gmnet";

/** Server settings a configuration changes; everything else keeps its default (database, redis, nodeId and durableSessions: a cluster node, cluster.bench.ts). */
export type ServerOverrides = Partial<Pick<ServerConfig, "tickRate" | "highTickRate" | "normalTickRate" | "lowTickRate" | "batching" | "database" | "redis" | "nodeId" | "durableSessions">>;

export interface RelayConfig {
  /** Short id used by --only. */
  readonly id: string;
  readonly label: string;
  readonly kind: ServerKind;
  /** gmnet only: what differs from the server's defaultConfig (port, host, db and logLevel aside). */
  readonly overrides: ServerOverrides;
}

export const CONFIGS: readonly RelayConfig[] = [
  { id: "bare", label: "bare ws forwarder", kind: "bare", overrides: {} },
  // tickRate 0: what one turn of the event loop queued for a client leaves as one message at its end.
  { id: "default", label: "gmnet, default config", kind: "gmnet", overrides: {} },
  { id: "unbatched", label: "gmnet, unbatched (batching: false)", kind: "gmnet", overrides: { batching: false } },
  { id: "tick60", label: "gmnet, tickRate 60", kind: "gmnet", overrides: { tickRate: 60 } },
];

/** Whether gmnet clients ask for a resumable session (as the engine does by default) or send HELLO alone. */
export type SessionKind = "resumable" | "plain";

export interface RelayOptions {
  pairs: number;
  /** Messages in flight per pair (sent by A, not yet received by B). */
  window: number;
  /** Application bytes per message. */
  size: number;
  warmupMs: number;
  durationMs: number;
  /** gmnet relay path: "auto" = ARBITRARY_DATA if the server has virtual sockets, else an app channel. */
  relay: "auto" | "vsocket" | "app-channel";
  /** gmnet sessions: resumable (HELLO + RESUME, ACKs; the engine's default) or plain (HELLO alone). */
  session: SessionKind;
  /**
   * How gmnet senders write: "message" = every message its own WebSocket message (as the bare
   * clients must); "task" = the frames of one task as one WebSocket message, as the engine sends.
   */
  sender: "message" | "task";
}

export type RelayPath = "ws message" | "ARBITRARY_DATA" | "app channel";

export interface Measurement {
  readonly config: string;
  readonly path: RelayPath;
  /** Why the app-channel fallback was used, if it was. */
  readonly fallbackReason: string | undefined;
  readonly delivered: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  /** Server process user+system CPU per delivered message, in microseconds. */
  readonly serverCpuPerMessageUs: number;
  /** Server process CPU time over wall time (1.0 = one core busy). */
  readonly serverCpuLoad: number;
  /** Client (this process) CPU time over wall time. */
  readonly clientCpuLoad: number;
  /** Relayed messages per WebSocket message arriving at the receivers (> 1 when the server batches). */
  readonly messagesPerWsMessage: number;
}

export const APP_KEY = "relay-bench";
export const LISTEN_PORT = 7000;
export const STEP_TIMEOUT_MS = 3000;
