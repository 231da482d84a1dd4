/**
 * Keeping every pair's window of messages in flight full during a measurement (relay.bench.ts,
 * cluster-measure.ts), and the check of what was delivered once it stops.
 */
import type { Pair } from "./pairs.js";

/** Whether senders keep their windows full; cleared to stop a measurement. */
export let pumping = false;
export let windowSize = 0;

export function onDelivered(pair: Pair): void {
  if (pumping) fill(pair);
}

/** Fills every pair's window and keeps it full (each delivery tops its pair up) until stopPumping(). */
export function startPumping(pairs: readonly Pair[], window: number): void {
  windowSize = window;
  pumping = true;
  for (const pair of pairs) fill(pair);
}

/** Messages delivered between two counts, once every pair checked its order and nothing went missing. */
export function verifiedDeliveries(pairs: readonly Pair[], label: string, before: number, after: number): number {
  for (const pair of pairs) pair.verify();
  const outOfOrder = pairs.reduce((sum, pair) => sum + pair.outOfOrder, 0);
  if (outOfOrder > 0) throw new Error(`${label}: ${outOfOrder} messages arrived out of order or were lost`);
  const delivered = after - before;
  if (delivered <= 0) throw new Error(`${label}: nothing was delivered during the measurement`);
  return delivered;
}

export function stopPumping(): void {
  pumping = false;
}

export function fill(pair: Pair): void {
  while (pair.sent - pair.received < windowSize) pair.sendOne(pair.sent++);
}
