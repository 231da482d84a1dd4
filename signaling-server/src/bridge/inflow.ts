/**
 * Flow control for bytes read from a real TCP connection (a bridged client, or the native server
 * of an outbound connection) and passed on to a virtual session: the per-client rate limit, as for
 * WebSocket clients, and the receiving session's backlog.
 *
 * Reading pauses while the rate limiter is in debt (until it refills) and while the receiving
 * session's queue is over half of maxQueuedBytes. That session gives no "drained" event to the
 * TCP side (its queue empties as its WebSocket flushes), so the backlog is looked at again every
 * BACKPRESSURE_CHECK_MS until it is low enough, and reading resumes then.
 */
import type { ServerConfig } from "../config.js";
import type { Metrics } from "../observability/metrics.js";
import type { ServerClock, ServerContext } from "../server-context.js";
import { RateLimiter } from "../session/rate-limiter.js";

/** While the receiving session's queue is over its bound, how often to look whether it drained. */
const BACKPRESSURE_CHECK_MS = 20;
/** As the WebSocket path charges per message (session/connection.ts). */
const MESSAGE_COST_BYTES = 64;

export interface InflowOptions {
  readonly clock: ServerClock;
  readonly limiter: RateLimiter;
  readonly metrics: Pick<Metrics, "throttled">;
  readonly config: Pick<ServerConfig, "maxQueuedBytes">;
  /** Stops reading from the TCP side. */
  pause(): void;
  /** Reads from the TCP side again. */
  resume(): void;
  /** Bytes the receiving session has queued and not sent yet (0 when it has no such queue). */
  backlog(): number;
  /** Whether the connection still carries data; when not, nothing resumes. */
  isOpen(): boolean;
}

export class InflowControl {
  private throttleTimer: unknown;
  private pollTimer: unknown;

  constructor(private readonly options: InflowOptions) {}

  /** With the per-client rate limit of the server's config (rateLimitBytes a second, twice that as burst), as for WebSocket clients. */
  static perClient(context: Pick<ServerContext, "clock" | "config" | "metrics">, side: Pick<InflowOptions, "pause" | "resume" | "backlog" | "isOpen">): InflowControl {
    const { clock, config, metrics } = context;
    return new InflowControl({ clock, config, metrics, limiter: new RateLimiter(config.rateLimitBytes, config.rateLimitBytes * 2, clock.now()), ...side });
  }

  /** True while reading is held back, by the rate limit or until the next look at the backlog. */
  get holding(): boolean {
    return this.throttleTimer !== undefined || this.pollTimer !== undefined;
  }

  /** `bytes` were read and passed on: charges them to the rate limit, then pauses or reads on. */
  received(bytes: number): void {
    const { clock, limiter, metrics } = this.options;
    const waitMs = limiter.debit(clock.now(), bytes + MESSAGE_COST_BYTES);
    if (waitMs > 0 && this.throttleTimer === undefined) {
      metrics.throttled.inc();
      this.options.pause();
      this.throttleTimer = clock.setTimeout(() => {
        this.throttleTimer = undefined;
        this.resumeWhenDrained();
      }, Math.ceil(waitMs));
      return;
    }
    this.resumeWhenDrained();
  }

  /** Reads on while the receiving session takes what it is sent; pauses (and looks again soon) while its queue is over half its bound. */
  private resumeWhenDrained(): void {
    const { clock, config } = this.options;
    if (!this.options.isOpen() || this.throttleTimer !== undefined) return;
    if (this.options.backlog() > config.maxQueuedBytes / 2) {
      this.options.pause();
      if (this.pollTimer === undefined) {
        this.pollTimer = clock.setTimeout(() => {
          this.pollTimer = undefined;
          this.resumeWhenDrained();
        }, BACKPRESSURE_CHECK_MS);
      }
      return;
    }
    if (this.pollTimer === undefined) this.options.resume();
  }

  /** The connection ended: no timer fires any more. */
  stop(): void {
    for (const timer of [this.pollTimer, this.throttleTimer]) if (timer !== undefined) this.options.clock.clearTimeout(timer);
    this.pollTimer = undefined;
    this.throttleTimer = undefined;
  }
}
