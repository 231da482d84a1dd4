/**
 * Random ids for rooms and parties (PROTOCOL.md §16.4): integers 1–2³¹−1, so a private room or
 * a party cannot be found by counting.
 */

export const MAX_ID = 2 ** 31 - 1;

/** Random draws before falling back to probing (only a broken `random` needs more). */
const DRAWS = 64;

/**
 * A random id in 1…MAX_ID for which `taken` is false. Draws from `random` (uniform in [0, 1));
 * should every draw collide, probes upward from the last one, so it always ends while any id is free.
 */
export function randomId(random: () => number, taken: (id: number) => boolean): number {
  let id = 1;
  for (let i = 0; i < DRAWS; i++) {
    id = 1 + Math.min(MAX_ID - 1, Math.floor(random() * MAX_ID));
    if (!taken(id)) return id;
  }
  for (let i = 0; i < MAX_ID; i++) {
    id = id >= MAX_ID ? 1 : id + 1;
    if (!taken(id)) return id;
  }
  throw new Error("every id is taken");
}
