/**
 * GameMaker's ds_map_*, ds_list_* and ds_queue_* over integer ids, as networking scripts use them
 * (clients kept in a ds_list, `ds_map_find_value(async_load, "type")`).
 *
 * Ids are per type, like GameMaker's: map 1 and list 1 are different structures. Unlike GameMaker,
 * ids are never reused, so a stale id is refused instead of reaching a newer structure.
 * Misuse — an id that is not a live structure of that type, or a non-number id or position —
 * throws GmnetError E_INVALID_ARGUMENT (see docs/GML.md).
 */
import { ErrorCode, GmnetError } from "../errors.js";
import type { AsyncLoad } from "../events/async-events.js";
import { type EngineContext, requireNumber } from "../runtime/context.js";
import { HandleTable } from "../runtime/handle-table.js";
import { ds_type_list, ds_type_map, ds_type_queue } from "./constants.js";

/** A ds_map id, or an async_load (a plain object) for the read-only map functions. */
export type DsMapLike = number | AsyncLoad;

/** Keys of a ds_map: GameMaker keys are reals or strings. */
export type DsKey = string | number;

interface DsQueue {
  items: unknown[];
  /** Index of the head in `items`; dequeued slots are compacted lazily. */
  head: number;
}

const { INVALID_ARGUMENT } = ErrorCode;

function requireId(value: unknown, fn: string): number {
  return requireNumber(value, "id", fn);
}

function requireKey(value: unknown, fn: string): DsKey {
  if (typeof value === "string" || (typeof value === "number" && !Number.isNaN(value))) return value;
  throw new GmnetError(INVALID_ARGUMENT, `${fn}: key must be a string or a number, not ${typeof value}`);
}

function requirePos(value: unknown, fn: string): number {
  const pos = requireNumber(value, "pos", fn);
  if (!Number.isFinite(pos)) throw new GmnetError(INVALID_ARGUMENT, `${fn}: pos must be finite, not ${pos}`);
  return Math.floor(pos);
}

function isPlainLoad(value: unknown): value is AsyncLoad {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function liveOf<T>(table: HandleTable<T>, id: unknown, kind: string, fn: string): T {
  const value = table.get(requireId(id, fn));
  if (value === undefined) throw new GmnetError(INVALID_ARGUMENT, `${fn}: ${String(id)} is not a live ds_${kind}`);
  return value;
}

function queueSize(queue: DsQueue): number {
  return queue.items.length - queue.head;
}

/** ds_* functions and constants; every engine gets its own tables, so engines never share structures. */
export function createDsApi(_context: EngineContext) {
  const maps = new HandleTable<Map<DsKey, unknown>>();
  const lists = new HandleTable<unknown[]>();
  const queues = new HandleTable<DsQueue>();

  const map = (id: unknown, fn: string) => liveOf(maps, id, "map", fn);
  const list = (id: unknown, fn: string) => liveOf(lists, id, "list", fn);
  const queue = (id: unknown, fn: string) => liveOf(queues, id, "queue", fn);

  /** For the read-only functions: a live map id, or an async_load object read as a map. */
  function readable(id: unknown, fn: string): { has(key: DsKey): boolean; get(key: DsKey): unknown; keys(): DsKey[] } {
    if (isPlainLoad(id)) {
      const load = id;
      const own = (key: DsKey) => Object.prototype.hasOwnProperty.call(load, String(key));
      return { has: own, get: (key) => (own(key) ? load[String(key)] : undefined), keys: () => Object.keys(load) };
    }
    const m = map(id, fn);
    return { has: (key) => m.has(key), get: (key) => m.get(key), keys: () => [...m.keys()] };
  }

  return {
    ds_type_map,
    ds_type_list,
    ds_type_queue,

    /** True when `id` is a live structure of `type` (ds_type_map/list/queue); false otherwise, never throws. */
    ds_exists(id: number, type: number): boolean {
      if (typeof id !== "number") return false;
      switch (type) {
        case ds_type_map: return maps.has(id);
        case ds_type_list: return lists.has(id);
        case ds_type_queue: return queues.has(id);
        default: return false;
      }
    },

    // ---- ds_map ----

    ds_map_create(): number {
      return maps.add(new Map());
    },

    ds_map_destroy(id: number): void {
      map(id, "ds_map_destroy");
      maps.delete(id);
    },

    /** Adds `key` only if it is absent: true if added, false if the key already existed (its value is kept). */
    ds_map_add(id: number, key: DsKey, value: unknown): boolean {
      const m = map(id, "ds_map_add");
      const k = requireKey(key, "ds_map_add");
      if (m.has(k)) return false;
      m.set(k, value);
      return true;
    },

    /** Sets `key` to `value`: true if an existing key was replaced, false if the key was added. */
    ds_map_replace(id: number, key: DsKey, value: unknown): boolean {
      const m = map(id, "ds_map_replace");
      const k = requireKey(key, "ds_map_replace");
      const existed = m.has(k);
      m.set(k, value);
      return existed;
    },

    /** Sets `key` to `value`, adding or overwriting (GameMaker's `map[? key] = value`). */
    ds_map_set(id: number, key: DsKey, value: unknown): void {
      map(id, "ds_map_set").set(requireKey(key, "ds_map_set"), value);
    },

    /** The value under `key`, or undefined when absent. Also accepts an async_load object. */
    ds_map_find_value(id: DsMapLike, key: DsKey): unknown {
      return readable(id, "ds_map_find_value").get(requireKey(key, "ds_map_find_value"));
    },

    /** Whether `key` is in the map. Also accepts an async_load object. */
    ds_map_exists(id: DsMapLike, key: DsKey): boolean {
      return readable(id, "ds_map_exists").has(requireKey(key, "ds_map_exists"));
    },

    /** Removes `key` (nothing happens when it is absent). */
    ds_map_delete(id: number, key: DsKey): void {
      map(id, "ds_map_delete").delete(requireKey(key, "ds_map_delete"));
    },

    /** Number of keys. Also accepts an async_load object. */
    ds_map_size(id: DsMapLike): number {
      if (isPlainLoad(id)) return Object.keys(id).length;
      return map(id, "ds_map_size").size;
    },

    ds_map_clear(id: number): void {
      map(id, "ds_map_clear").clear();
    },

    /** The keys in insertion order, appended to `array` when one is given (and returned). Also accepts an async_load object. */
    ds_map_keys_to_array(id: DsMapLike, array?: unknown[]): unknown[] {
      const keys = readable(id, "ds_map_keys_to_array").keys();
      if (array === undefined) return keys;
      if (!Array.isArray(array)) throw new GmnetError(INVALID_ARGUMENT, "ds_map_keys_to_array: array must be an array");
      array.push(...keys);
      return array;
    },

    /** The first key (insertion order), or undefined when the map is empty. */
    ds_map_find_first(id: number): DsKey | undefined {
      const first = map(id, "ds_map_find_first").keys().next();
      return first.done === true ? undefined : first.value;
    },

    /** The key after `key` (insertion order), or undefined when `key` is the last one or not in the map. */
    ds_map_find_next(id: number, key: DsKey): DsKey | undefined {
      const m = map(id, "ds_map_find_next");
      const k = requireKey(key, "ds_map_find_next");
      if (!m.has(k)) return undefined;
      let found = false;
      for (const candidate of m.keys()) {
        if (found) return candidate;
        if (candidate === k) found = true;
      }
      return undefined;
    },

    // ---- ds_list ----

    ds_list_create(): number {
      return lists.add([]);
    },

    ds_list_destroy(id: number): void {
      list(id, "ds_list_destroy");
      lists.delete(id);
    },

    /** Appends every value, in order. */
    ds_list_add(id: number, ...values: unknown[]): void {
      list(id, "ds_list_add").push(...values);
    },

    /** Removes the entry at `pos`; nothing happens when `pos` is out of range. */
    ds_list_delete(id: number, pos: number): void {
      const l = list(id, "ds_list_delete");
      const p = requirePos(pos, "ds_list_delete");
      if (p >= 0 && p < l.length) l.splice(p, 1);
    },

    /** Position of the first entry equal (===) to `value`, or −1. */
    ds_list_find_index(id: number, value: unknown): number {
      return list(id, "ds_list_find_index").indexOf(value);
    },

    /** The entry at `pos`, or undefined when out of range. */
    ds_list_find_value(id: number, pos: number): unknown {
      const l = list(id, "ds_list_find_value");
      const p = requirePos(pos, "ds_list_find_value");
      return p >= 0 && p < l.length ? l[p] : undefined;
    },

    ds_list_size(id: number): number {
      return list(id, "ds_list_size").length;
    },

    ds_list_clear(id: number): void {
      list(id, "ds_list_clear").length = 0;
    },

    /** Inserts `value` before `pos` (0…size; size appends); nothing happens when `pos` is out of range. */
    ds_list_insert(id: number, pos: number, value: unknown): void {
      const l = list(id, "ds_list_insert");
      const p = requirePos(pos, "ds_list_insert");
      if (p >= 0 && p <= l.length) l.splice(p, 0, value);
    },

    /** Overwrites the entry at `pos`; nothing happens when `pos` is out of range. */
    ds_list_replace(id: number, pos: number, value: unknown): void {
      const l = list(id, "ds_list_replace");
      const p = requirePos(pos, "ds_list_replace");
      if (p >= 0 && p < l.length) l[p] = value;
    },

    /** Sets the entry at `pos`, padding the list with 0 up to `pos` when it is beyond the end (GameMaker's `list[| pos] = value`). */
    ds_list_set(id: number, pos: number, value: unknown): void {
      const l = list(id, "ds_list_set");
      const p = requirePos(pos, "ds_list_set");
      if (p < 0) return;
      while (l.length < p) l.push(0);
      l[p] = value;
    },

    // ---- ds_queue ----

    ds_queue_create(): number {
      return queues.add({ items: [], head: 0 });
    },

    ds_queue_destroy(id: number): void {
      queue(id, "ds_queue_destroy");
      queues.delete(id);
    },

    /** Adds every value at the tail, in order. */
    ds_queue_enqueue(id: number, ...values: unknown[]): void {
      queue(id, "ds_queue_enqueue").items.push(...values);
    },

    /** Removes and returns the head, or undefined when the queue is empty. */
    ds_queue_dequeue(id: number): unknown {
      const q = queue(id, "ds_queue_dequeue");
      if (queueSize(q) === 0) return undefined;
      const value = q.items[q.head];
      q.items[q.head] = undefined;
      q.head++;
      if (q.head === q.items.length) {
        q.items = [];
        q.head = 0;
      } else if (q.head >= 1024 && q.head * 2 >= q.items.length) {
        q.items = q.items.slice(q.head);
        q.head = 0;
      }
      return value;
    },

    /** The head (next to dequeue) without removing it, or undefined when empty. */
    ds_queue_head(id: number): unknown {
      const q = queue(id, "ds_queue_head");
      return queueSize(q) === 0 ? undefined : q.items[q.head];
    },

    /** The tail (last enqueued), or undefined when empty. */
    ds_queue_tail(id: number): unknown {
      const q = queue(id, "ds_queue_tail");
      return queueSize(q) === 0 ? undefined : q.items[q.items.length - 1];
    },

    ds_queue_size(id: number): number {
      return queueSize(queue(id, "ds_queue_size"));
    },

    ds_queue_empty(id: number): boolean {
      return queueSize(queue(id, "ds_queue_empty")) === 0;
    },

    ds_queue_clear(id: number): void {
      const q = queue(id, "ds_queue_clear");
      q.items = [];
      q.head = 0;
    },
  };
}
