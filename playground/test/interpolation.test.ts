/**
 * The demo's snapshot interpolation (playground/src/demo/interpolation.ts): a remote player that
 * moves steadily must be drawn moving steadily, whatever latency, jitter, loss and reordering do
 * to its packets.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SnapshotBuffer } from "../src/demo/interpolation.js";

const SEND_INTERVAL_MS = 50;
const SPEED = 0.2; // px per ms of the sender's clock

/** A packet stream from a sender moving along x at SPEED: one packet per interval, with its own delay, or lost. */
const stream = fc.record({
  latency: fc.integer({ min: 0, max: 300 }),
  clockOffset: fc.integer({ min: -1e6, max: 1e6 }),
  packets: fc.array(fc.record({ jitter: fc.integer({ min: 0, max: 80 }), lost: fc.integer({ min: 0, max: 19 }).map((n) => n === 0) }), { minLength: 10, maxLength: 120 }),
});

describe("demo snapshot interpolation", () => {
  it("has nothing to draw before the first snapshot", () => {
    expect(new SnapshotBuffer().sample(1000)).toBeUndefined();
  });

  it("drops packets older than, or equal to, one already accepted", () => {
    const buffer = new SnapshotBuffer();
    expect(buffer.push({ seq: 5, time: 250, x: 50, y: 0 }, 300)).toBe(true);
    expect(buffer.push({ seq: 4, time: 200, x: 40, y: 0 }, 310)).toBe(false);
    expect(buffer.push({ seq: 5, time: 250, x: 50, y: 0 }, 320)).toBe(false);
    expect([buffer.accepted, buffer.dropped]).toEqual([1, 2]);
  });

  it("interpolates halfway between two snapshots at the halfway playback time", () => {
    const buffer = new SnapshotBuffer({ delayMs: 100, maxExtrapolationMs: 250, offsetWindow: 40 });
    buffer.push({ seq: 1, time: 0, x: 0, y: 10 }, 1000);
    buffer.push({ seq: 2, time: 50, x: 10, y: 20 }, 1050);
    // Offset 1000, delay 100: at now = 1125 the first sample sets the playback clock to 25.
    expect(buffer.sample(1125)).toEqual({ x: 5, y: 15, mode: "interpolating" });
  });

  it("never draws a steadily moving player going backwards, nor off its path, under latency, jitter, loss and reordering", () => {
    fc.assert(
      fc.property(stream, ({ latency, clockOffset, packets }) => {
        // Arrival times, then delivery in arrival order (so jitter reorders packets).
        const arrivals = packets
          .map((packet, seq) => ({ seq, time: seq * SEND_INTERVAL_MS, arrive: seq * SEND_INTERVAL_MS + clockOffset + latency + packet.jitter, lost: packet.lost }))
          .filter((packet) => !packet.lost)
          .sort((a, b) => a.arrive - b.arrive || a.seq - b.seq);
        const buffer = new SnapshotBuffer();
        const newestSent = packets.length * SEND_INTERVAL_MS;
        let previousX = -Infinity;
        let next = 0;
        const end = (arrivals.at(-1)?.arrive ?? 0) + 500;
        for (let now = (arrivals[0]?.arrive ?? 0); now <= end; now += 16) {
          while (next < arrivals.length && arrivals[next]!.arrive <= now) {
            const packet = arrivals[next++]!;
            buffer.push({ seq: packet.seq, time: packet.time, x: packet.time * SPEED, y: 7 }, packet.arrive);
          }
          const sample = buffer.sample(now);
          if (sample === undefined) continue;
          expect(sample.x).toBeGreaterThanOrEqual(previousX - 1e-9);
          expect(sample.x).toBeLessThanOrEqual(newestSent * SPEED + 250 * SPEED + 1e-9);
          expect(sample.y).toBe(7);
          previousX = sample.x;
        }
      }),
      { numRuns: 200 },
    );
  });
});
