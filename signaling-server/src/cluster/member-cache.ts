/**
 * Which other nodes have members of an app channel or sessions bound to a UDP port, kept in
 * memory (PROTOCOL.md §15): a frame on an app channel or a BROADCAST is relayed to those nodes
 * without a Redis round trip of its own. A key is looked up in Redis once (channels.ts,
 * udp-ports.ts); after that, a node that joins or leaves tells every live node ("member" on the
 * bus, written before anything else it sends them afterwards), a node that dies is dropped when
 * its liveness key expires, and an entry older than MAX_AGE_MS is looked up again, in case a
 * notice was lost with a Redis outage. Lookups of one key resolve in the order they were made,
 * so a sender's frames keep their order.
 */

/** How long an entry is trusted without a notice: the bound on how long a lost notice can matter. */
export const MAX_AGE_MS = 5_000;
/** Entries kept at most (the oldest looked-up go first): keys come from clients (app keys, ports). */
export const MAX_ENTRIES = 10_000;

interface Entry {
  nodes: Set<number>;
  readAt: number;
  /** The lookup under way, if any; notices heard meanwhile are applied on top of its answer. */
  filling?: Promise<number[]>;
  heard: Array<{ node: number; joined: boolean }>;
}

/** What the shared tables (channels.ts, udp-ports.ts) need: the cache, and the notice to the other nodes. */
export interface Members {
  readonly cache: MemberCache;
  /** Tells every other live node that this one joined or left `key`; never rejects. */
  announce(key: string, joined: boolean): Promise<void>;
}

export interface MemberCache {
  /** The other live nodes of `key`: from memory, or from `lookup` when unknown or too old. */
  nodes(key: string, lookup: () => Promise<number[]>): Promise<number[]>;
  /** Node `node` said it joined or left `key`. */
  heard(key: string, node: number, joined: boolean): void;
  /** Node `node` is gone (its liveness key expired). */
  forget(node: number): void;
  /** Every node that some entry names (for the liveness watch). */
  known(): Iterable<number>;
}

export function createMemberCache(now: () => number = () => performance.now()): MemberCache {
  const entries = new Map<string, Entry>();
  const apply = (entry: Entry, node: number, joined: boolean): void => {
    if (joined) entry.nodes.add(node);
    else entry.nodes.delete(node);
  };
  return {
    nodes(key, lookup) {
      let entry = entries.get(key);
      if (entry?.filling !== undefined) return entry.filling.then(() => [...entry!.nodes]);
      if (entry !== undefined && now() - entry.readAt < MAX_AGE_MS) return Promise.resolve([...entry.nodes]);
      if (entry === undefined) {
        if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
        entries.set(key, (entry = { nodes: new Set(), readAt: 0, heard: [] }));
      } else {
        // Looked up again: it moves to the young end.
        entries.delete(key);
        entries.set(key, entry);
      }
      const filling = lookup().then(
        (nodes) => {
          entry.nodes = new Set(nodes);
          for (const { node, joined } of entry.heard) apply(entry, node, joined);
          entry.readAt = now();
          return nodes;
        },
        // Redis could not say: what was known stays, and the next frame asks again.
        () => [...entry.nodes],
      );
      entry.filling = filling;
      entry.heard = [];
      void filling.finally(() => {
        if (entry.filling === filling) entry.filling = undefined;
      });
      return filling.then(() => [...entry.nodes]);
    },
    heard(key, node, joined) {
      const entry = entries.get(key);
      if (entry === undefined) return;
      apply(entry, node, joined);
      if (entry.filling !== undefined) entry.heard.push({ node, joined });
    },
    forget(node) {
      for (const entry of entries.values()) entry.nodes.delete(node);
    },
    *known() {
      for (const entry of entries.values()) yield* entry.nodes;
    },
  };
}
