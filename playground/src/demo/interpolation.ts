/**
 * Snapshot interpolation for one remote player. No DOM, no engine: plain numbers in, a position out.
 *
 * Position packets arrive ~20 times a second, late (latency), unevenly (jitter), sometimes out of
 * order and sometimes not at all (loss). Drawing each one as it arrives would stutter, so the
 * remote player is drawn a little in the PAST instead — `delayMs` behind the newest time we can
 * expect to have heard of — where there are usually two snapshots on either side to blend between.
 *
 * Times: each snapshot carries the SENDER's clock (`time`, ms of its simulation). The receiver
 * does not share that clock, so it estimates the offset between the two: the smallest
 * `receivedAt - time` among recent packets is the fastest trip (pure latency, no jitter). The
 * "playback" clock then shows the sender's timeline at `now - offset - delayMs`, and is steered
 * towards it gently (a little faster or slower than real time) when the offset changes, so turning
 * simulated latency on or off slows the remote player down for a moment instead of teleporting it.
 *
 * When packets are missing the playback time runs past the newest snapshot: the player is then
 * EXTRAPOLATED along its last velocity for at most `maxExtrapolationMs`, and held there after that.
 */

/** One position as the sender had it at its simulation time `time` (ms). */
export interface Snapshot {
  readonly seq: number;
  readonly time: number;
  readonly x: number;
  readonly y: number;
}

export interface InterpolationOptions {
  /** How far behind the estimated newest data to draw, ms. 100–150 covers 50 ms send intervals, one lost packet and some jitter. */
  readonly delayMs: number;
  /** How long to keep moving along the last velocity when snapshots stop coming, ms. */
  readonly maxExtrapolationMs: number;
  /** How many recent packets the clock offset is estimated from (~2 s at 20 Hz). */
  readonly offsetWindow: number;
}

export const DEFAULT_INTERPOLATION: InterpolationOptions = { delayMs: 120, maxExtrapolationMs: 250, offsetWindow: 40 };

/** How a sample was made: between two snapshots, past the newest one, or held still. */
export type SampleMode = "interpolating" | "extrapolating" | "holding";

export interface Sample {
  readonly x: number;
  readonly y: number;
  readonly mode: SampleMode;
}

/** Snapshots kept at most (~3 s at 20 Hz); older ones are useless once the playback clock passed them. */
const MAX_SNAPSHOTS = 64;
/** Further than this from where it should be (ms), the playback clock jumps instead of catching up. */
const SNAP_AFTER_MS = 1000;
/** The playback clock closes half of a small error in about this many ms of real time. */
const CATCH_UP_MS = 500;

export class SnapshotBuffer {
  /** Ascending by seq (and so by time). */
  private readonly snapshots: Snapshot[] = [];
  private lastSeq = -1;
  private readonly offsets: number[] = [];
  private playback: number | undefined;
  private lastNow: number | undefined;
  /** Packets that arrived after a newer one, or twice: dropped. */
  dropped = 0;
  /** Packets accepted. */
  accepted = 0;

  constructor(private readonly options: InterpolationOptions = DEFAULT_INTERPOLATION) {}

  /** Adds a snapshot received at local time `receivedAt` (ms). False when it is older than one already seen (dropped). */
  push(snapshot: Snapshot, receivedAt: number): boolean {
    if (snapshot.seq <= this.lastSeq) {
      this.dropped++;
      return false;
    }
    this.lastSeq = snapshot.seq;
    this.accepted++;
    this.snapshots.push(snapshot);
    if (this.snapshots.length > MAX_SNAPSHOTS) this.snapshots.shift();
    this.offsets.push(receivedAt - snapshot.time);
    if (this.offsets.length > this.options.offsetWindow) this.offsets.shift();
    return true;
  }

  /** Whether any snapshot arrived yet. */
  get empty(): boolean {
    return this.snapshots.length === 0;
  }

  /** Where to draw the player at local time `now` (ms); undefined before the first snapshot. Call it with a non-decreasing `now`. */
  sample(now: number): Sample | undefined {
    const first = this.snapshots[0];
    const last = this.snapshots[this.snapshots.length - 1];
    if (first === undefined || last === undefined) return undefined;
    const time = this.advancePlayback(now);
    this.forgetBefore(time);

    if (time <= first.time) return { x: first.x, y: first.y, mode: "holding" };
    if (time <= last.time) {
      // The first pair (a, b) with a.time <= time <= b.time: forgetBefore leaves it near the front.
      for (let i = 1; i < this.snapshots.length; i++) {
        const a = this.snapshots[i - 1]!;
        const b = this.snapshots[i]!;
        if (time <= b.time) {
          const t = b.time === a.time ? 1 : (time - a.time) / (b.time - a.time);
          return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t, mode: "interpolating" };
        }
      }
    }
    // Past the newest snapshot: carry on along the last known velocity, for a while.
    const previous = this.snapshots[this.snapshots.length - 2];
    if (previous === undefined || last.time === previous.time) return { x: last.x, y: last.y, mode: "holding" };
    const ahead = Math.min(time - last.time, this.options.maxExtrapolationMs);
    const vx = (last.x - previous.x) / (last.time - previous.time);
    const vy = (last.y - previous.y) / (last.time - previous.time);
    return { x: last.x + vx * ahead, y: last.y + vy * ahead, mode: ahead < time - last.time ? "holding" : "extrapolating" };
  }

  /** The estimated clock offset (receiver minus sender, ms): the fastest recent trip. */
  private offset(): number {
    return Math.min(...this.offsets);
  }

  /** Moves the playback clock to `now` and returns it (in the sender's time). */
  private advancePlayback(now: number): number {
    const target = now - this.offset() - this.options.delayMs;
    const elapsed = this.lastNow === undefined ? 0 : Math.max(0, now - this.lastNow);
    this.lastNow = now;
    if (this.playback === undefined || Math.abs(target - this.playback) > SNAP_AFTER_MS) {
      this.playback = target;
    } else {
      // Run at 50–150 % speed until caught up: smooth, and never backwards.
      const error = target - (this.playback + elapsed);
      const speed = Math.min(1.5, Math.max(0.5, 1 + error / CATCH_UP_MS));
      this.playback += elapsed * speed;
    }
    return this.playback;
  }

  /** Drops snapshots the playback clock has left behind, keeping the one just before it (the start of the current pair). */
  private forgetBefore(time: number): void {
    while (this.snapshots.length > 2 && this.snapshots[1]!.time <= time) this.snapshots.shift();
  }
}
