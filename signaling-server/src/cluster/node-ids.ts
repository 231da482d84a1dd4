/**
 * Node-tagged ids (PROTOCOL.md §15): with --redis, connIds and routing ids carry the allocating
 * node's id in their high 8 bits and a per-node counter in the low 24, so nodes never collide
 * without coordination and any node can tell where an id was allocated (where a handshake answer
 * is routed). Without --redis ids keep the whole u32 range from 1 (§8.1).
 */
export const NODE_ID_BITS = 8;
const COUNTER_BITS = 32 - NODE_ID_BITS;
/** Node ids are 1–255: 0 would make the first ids of node 0 look like single-node ids. */
export const MAX_NODE_ID = 2 ** NODE_ID_BITS - 1;

/** The ids a node hands out: first..last inclusive (never 0). */
export interface IdRange {
  readonly first: number;
  readonly last: number;
}

export function idRangeOf(nodeId: number): IdRange {
  const base = nodeId * 2 ** COUNTER_BITS;
  return { first: base + 1, last: base + 2 ** COUNTER_BITS - 1 };
}

/** The node an id was allocated on. */
export function nodeOfId(id: number): number {
  return Math.floor(id / 2 ** COUNTER_BITS);
}

export function isNodeId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_NODE_ID;
}
