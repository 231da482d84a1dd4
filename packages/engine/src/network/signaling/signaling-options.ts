/**
 * What a SignalingClient (signaling-client.ts) is told: where to connect and as whom, its clock and
 * WebSocket, and the timing and bounds of its connection and session. Read at every connect(), so
 * the url, app key and tick rate can change between connections.
 */
import type { Clock } from "../../runtime/clock.js";
import type { WebSocketConstructor } from "../transport/websocket-like.js";

export interface SignalingClientOptions {
  url: string;
  appKey: string;
  secret: string;
  /** Master session token sent in HELLO so the server resumes the login (PROTOCOL.md §16.3); "" (the default) for none. */
  token?: string;
  WebSocket: WebSocketConstructor;
  clock: Clock;
  /** Outgoing batches per second; 0 flushes at the end of the current script task. */
  tickRate: number;
  /** Give up on a connection attempt that has no WELCOME after this long. */
  connectTimeoutMs: number;
  /** How often to measure the round-trip time with ECHO_REQUEST. */
  echoIntervalMs?: number;
  /** A server that leaves our ECHO probes unanswered this long is taken as gone (also a half-open path); default 3 echo intervals. */
  livenessTimeoutMs?: number;
  /** Ask for a resumable session (PROTOCOL.md §14); default true. */
  resume?: boolean;
  /** Bytes held for the server while suspended, and kept for replay until acknowledged. */
  maxHeldBytes?: number;
}

/** Default bound of what is held while suspended (and of the replay buffer). */
export const DEFAULT_MAX_HELD_BYTES = 8 * 1024 * 1024;
