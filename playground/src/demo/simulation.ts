/**
 * The game's rules, with no DOM and no network: how the local player moves. Fixed steps at 60 Hz
 * (the same speed on a 60 Hz and a 144 Hz screen, and the same in a throttled background tab),
 * velocity-based: keys set a wanted velocity, the player accelerates towards it and stops at walls.
 */

export const ARENA_WIDTH = 960;
export const ARENA_HEIGHT = 540;
export const PLAYER_RADIUS = 16;

/** Simulation steps per second, and one step in ms and s. */
export const TICK_RATE = 60;
export const TICK_MS = 1000 / TICK_RATE;
const TICK_S = 1 / TICK_RATE;

/** Top speed in px/s, and how fast it is reached (px/s²). */
const MAX_SPEED = 280;
const ACCELERATION = 2400;

export interface Body {
  readonly x: number;
  readonly y: number;
  readonly vx: number;
  readonly vy: number;
}

/** Wanted direction, each axis −1, 0 or 1 (both keys of an axis held: 0). */
export interface MoveInput {
  readonly x: number;
  readonly y: number;
}

/** A body at rest somewhere in the middle half of the arena, so it can move a good way in every direction. */
export function spawn(random: () => number = Math.random): Body {
  return {
    x: ARENA_WIDTH * (0.25 + random() * 0.5),
    y: ARENA_HEIGHT * (0.25 + random() * 0.5),
    vx: 0,
    vy: 0,
  };
}

/** One 1/60 s step. */
export function step(body: Body, input: MoveInput): Body {
  const length = Math.hypot(input.x, input.y);
  const wantX = length === 0 ? 0 : (input.x / length) * MAX_SPEED;
  const wantY = length === 0 ? 0 : (input.y / length) * MAX_SPEED;
  let vx = approach(body.vx, wantX, ACCELERATION * TICK_S);
  let vy = approach(body.vy, wantY, ACCELERATION * TICK_S);
  let x = body.x + vx * TICK_S;
  let y = body.y + vy * TICK_S;
  // Walls: stop there, and lose the velocity into them.
  if (x < PLAYER_RADIUS || x > ARENA_WIDTH - PLAYER_RADIUS) {
    x = clamp(x, PLAYER_RADIUS, ARENA_WIDTH - PLAYER_RADIUS);
    vx = 0;
  }
  if (y < PLAYER_RADIUS || y > ARENA_HEIGHT - PLAYER_RADIUS) {
    y = clamp(y, PLAYER_RADIUS, ARENA_HEIGHT - PLAYER_RADIUS);
    vy = 0;
  }
  return { x, y, vx, vy };
}

/**
 * Turns real elapsed time into whole simulation steps: `advance(now)` returns how many steps are
 * due. Left-over time waits for the next call. After a long pause (a background tab's timers run
 * once a second) it catches up at most `maxCatchUpMs`, so the simulation clock stays close to the
 * real one without running minutes of steps at once.
 */
export class FixedStepper {
  private last: number | undefined;
  private carry = 0;
  /** Steps taken so far: the simulation clock is `ticks * TICK_MS`. */
  ticks = 0;

  constructor(private readonly maxCatchUpMs = 1000) {}

  advance(now: number): number {
    const elapsed = this.last === undefined ? 0 : Math.min(now - this.last, this.maxCatchUpMs);
    this.last = now;
    this.carry += Math.max(0, elapsed);
    const due = Math.floor(this.carry / TICK_MS);
    this.carry -= due * TICK_MS;
    this.ticks += due;
    return due;
  }

  /** The simulation clock, ms. */
  get time(): number {
    return this.ticks * TICK_MS;
  }
}

function approach(value: number, target: number, maxDelta: number): number {
  return value < target ? Math.min(value + maxDelta, target) : Math.max(value - maxDelta, target);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
