/**
 * Whether the signaling server still answers, and how fast (PROTOCOL.md §7): ECHO_REQUEST probes
 * every echo interval measure the round-trip time, and a watchdog gives the server up when it
 * leaves them unanswered, or sends nothing past its own heartbeat deadline. Apart from the
 * connection's other work (framing, batching, resume) because it is the one part that runs on
 * its own timers for as long as a connection is open; SignalingClient starts and stops it.
 */
import { Channel, ControlType, Echo, Priority, type WelcomeMessage, encodeFrame } from "@gmnet/protocol";
import type { Clock } from "../../runtime/clock.js";
import { NetworkError, type NetworkFault, fault } from "../errors.js";

const DEFAULT_ECHO_INTERVAL_MS = 2000;
/** Slack on top of the server's heartbeat deadline before a silent server is given up on. */
const WATCHDOG_SLACK_MS = 5000;

export interface LivenessOptions {
  clock: Clock;
  /** How often to measure the round-trip time with ECHO_REQUEST. */
  echoIntervalMs?: number;
  /** A server that leaves our ECHO probes unanswered this long is taken as gone (also a half-open path); default 3 echo intervals. */
  livenessTimeoutMs?: number;
}

/** What the liveness check needs of the connection it watches. */
export interface WatchedConnection {
  /** The WELCOME of the open connection, undefined while none is open. */
  openWelcome(): WelcomeMessage | undefined;
  /** Sends a control frame at once, outside any batch. */
  sendNow(bytes: Uint8Array): void;
  /** The server is taken as gone. */
  abort(problem: NetworkFault): void;
}

export class Liveness {
  /**
   * Latest ECHO round trip in ms, and a smoothed one (as TCP's SRTT: 7/8 old + 1/8 new); both
   * undefined while there is no socket, so nobody shows the round trip of a connection that is gone.
   */
  rtt: number | undefined;
  smoothedRtt: number | undefined;
  private probeTimer: unknown;
  private watchdog: unknown;
  private echoNonce = 0;
  private echoSentAt = new Map<number, number>();

  constructor(
    private readonly options: LivenessOptions,
    private readonly connection: WatchedConnection,
  ) {}

  /** The connection opened (or resumed): arm the watchdog and send the first probe. */
  start(): void {
    this.armWatchdog();
    this.probe();
  }

  /** The socket is gone: no more timers, and no round trip to show. */
  stop(): void {
    for (const timer of [this.probeTimer, this.watchdog]) if (timer !== undefined) this.options.clock.clearTimeout(timer);
    this.probeTimer = this.watchdog = undefined;
    this.echoSentAt.clear();
    this.rtt = this.smoothedRtt = undefined;
  }

  private probe(): void {
    if (this.connection.openWelcome() === undefined) return;
    const nonce = (this.echoNonce = (this.echoNonce + 1) >>> 0);
    this.echoSentAt.set(nonce, this.options.clock.now());
    this.connection.sendNow(encodeFrame(Channel.CONTROL, ControlType.ECHO_REQUEST, Priority.CRITICAL, Echo.encode({ nonce })));
    this.probeTimer = this.options.clock.setTimeout(() => this.probe(), this.options.echoIntervalMs ?? DEFAULT_ECHO_INTERVAL_MS);
  }

  /** ECHO_REPLY came for `nonce`. */
  echoed(nonce: number): void {
    const sentAt = this.echoSentAt.get(nonce);
    if (sentAt === undefined) return;
    // Older probes that never came back are forgotten with this one, so the map stays small.
    for (const key of this.echoSentAt.keys()) if (key <= nonce) this.echoSentAt.delete(key);
    const sample = this.options.clock.now() - sentAt;
    // Only an answer to our own probe proves the path works both ways (a half-open socket still
    // delivers the server's frames, or takes ours into a black hole).
    this.armWatchdog();
    this.rtt = sample;
    this.smoothedRtt = this.smoothedRtt === undefined ? sample : (this.smoothedRtt * 7 + sample) / 8;
  }

  /**
   * A server that sends nothing past its own heartbeat deadline is gone; so is one that leaves
   * our ECHO probes unanswered for a few intervals (a dead path notices no FIN: Wi-Fi to mobile).
   */
  private armWatchdog(): void {
    const welcome = this.connection.openWelcome();
    if (welcome === undefined) return;
    if (this.watchdog !== undefined) this.options.clock.clearTimeout(this.watchdog);
    const heartbeat = welcome.heartbeatIntervalMs + welcome.heartbeatTimeoutMs + WATCHDOG_SLACK_MS;
    const limit = Math.min(heartbeat, this.options.livenessTimeoutMs ?? 3 * (this.options.echoIntervalMs ?? DEFAULT_ECHO_INTERVAL_MS));
    this.watchdog = this.options.clock.setTimeout(() => this.connection.abort(fault(NetworkError.SIGNALING, `the signaling server left ${limit} ms without an answer`)), limit);
  }
}
