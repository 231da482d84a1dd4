/**
 * The playground's game loop: about 60 ticks a second.
 *
 * requestAnimationFrame drives it while the tab is visible, so ticks line up with painting (the
 * panels draw in them). A hidden tab gets no animation frames at all, and a game script must keep
 * answering its peers there — a host forwarding positions, a server answering pings — so a
 * setInterval runs beside it and ticks whenever no frame has come for a while. Browsers slow such
 * timers in background tabs (to about once a second), which is as fast as a hidden tab can go.
 *
 * On displays faster than 60 Hz, frames closer than MIN_TICK_MS to the last tick are skipped, so
 * step() runs at roughly GameMaker's usual 60 per second rather than 120 or 144.
 */

/** Frames closer together than this are skipped (a 120 Hz display ticks every other frame). */
const MIN_TICK_MS = 12;
/** The fallback timer ticks once no frame came for this long (hidden tab, or a stalled compositor). */
const FALLBACK_AFTER_MS = 50;
const FALLBACK_INTERVAL_MS = 1000 / 60;

export class Ticker {
  private frame: number | undefined;
  private interval: ReturnType<typeof setInterval> | undefined;
  private last = -Infinity;

  constructor(private readonly tick: (now: number) => void) {}

  start(): void {
    if (this.interval !== undefined) return;
    const onFrame = (now: number): void => {
      this.frame = requestAnimationFrame(onFrame);
      if (now - this.last >= MIN_TICK_MS) this.run(now);
    };
    this.frame = requestAnimationFrame(onFrame);
    this.interval = setInterval(() => {
      const now = performance.now();
      if (now - this.last >= FALLBACK_AFTER_MS) this.run(now);
    }, FALLBACK_INTERVAL_MS);
  }

  stop(): void {
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    if (this.interval !== undefined) clearInterval(this.interval);
    this.frame = this.interval = undefined;
  }

  private run(now: number): void {
    this.last = now;
    this.tick(now);
  }
}
