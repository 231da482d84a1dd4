/**
 * ReplayBuffer (PROTOCOL.md §14) against a plain model: the list of every frame ever recorded,
 * numbered 1, 2, 3… A resume asking for the frames after `received` must get exactly the model's
 * frames after that number, or undefined when the buffer no longer holds them all; the byte bound
 * is never passed; numbers wrap around u32 without a seam.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReplayBuffer } from "../src/index.js";

type Step = { kind: "record"; size: number } | { kind: "ack"; back: number } | { kind: "resume"; back: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("record" as const), size: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("ack" as const), back: fc.integer({ min: -3, max: 30 }) }),
  fc.record({ kind: fc.constant("resume" as const), back: fc.integer({ min: -3, max: 30 }) }),
);

/** Runs `steps` from `start` (the number of the last frame before the buffer existed) against the model. */
function check(start: number, maxBytes: number, steps: Step[]): void {
  const buffer = new ReplayBuffer(maxBytes);
  buffer.sent = start >>> 0;
  const frames: Uint8Array[] = [];
  let acked = 0; // frames the other end has confirmed (model index)
  for (const s of steps) {
    if (s.kind === "record") {
      const frame = new Uint8Array(s.size).fill(frames.length & 0xff);
      frames.push(frame);
      buffer.record(frame);
      expect(buffer.sent).toBe((start + frames.length) >>> 0);
      expect(buffer.bytes).toBeLessThanOrEqual(maxBytes);
      continue;
    }
    const upTo = frames.length - s.back; // the other end claims to have this many frames
    const received = (start + upTo) >>> 0;
    const oldestHeld = frames.length - buffer.length; // model index of the first frame still held
    if (s.kind === "ack") {
      buffer.acknowledge(received);
      if (upTo >= oldestHeld && upTo <= frames.length) acked = Math.max(acked, upTo);
      expect(frames.length - buffer.length).toBeGreaterThanOrEqual(Math.min(acked, frames.length));
    } else {
      const missing = buffer.since(received);
      if (upTo < oldestHeld || upTo > frames.length) expect(missing).toBeUndefined();
      else expect(missing).toEqual(frames.slice(upTo));
    }
  }
  // What is held is exactly the newest frames, and their bytes are counted right.
  const held = frames.slice(frames.length - buffer.length);
  expect(buffer.bytes).toBe(held.reduce((sum, frame) => sum + frame.length, 0));
}

describe("ReplayBuffer", () => {
  it("hands back exactly the frames after `received`, or undefined when some are gone", () => {
    fc.assert(fc.property(fc.integer({ min: 8, max: 400 }), fc.array(step, { maxLength: 120 }), (maxBytes, steps) => check(0, maxBytes, steps)));
  });

  it("numbers frames across the u32 wrap without a seam", () => {
    fc.assert(fc.property(fc.integer({ min: 0xffffffff - 40, max: 0xffffffff }), fc.array(step, { maxLength: 120 }), (start, steps) => check(start, 10_000, steps)));
  });

  it("forgets acknowledged frames and evicts the oldest past the byte bound", () => {
    const buffer = new ReplayBuffer(10);
    for (const size of [4, 4, 4]) buffer.record(new Uint8Array(size));
    // 12 bytes > 10: frame 1 was evicted, so a resume from 0 is refused and one from 1 works.
    expect([buffer.length, buffer.bytes, buffer.base]).toEqual([2, 8, 1]);
    expect(buffer.since(0)).toBeUndefined();
    expect(buffer.since(1)).toHaveLength(2);
    buffer.acknowledge(2);
    expect([buffer.length, buffer.bytes]).toEqual([1, 4]);
    // An acknowledgement of frames never sent is ignored.
    buffer.acknowledge(9);
    expect(buffer.length).toBe(1);
  });
});
