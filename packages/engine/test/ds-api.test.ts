/** ds_* handles (per type, never reused), misuse errors, ds_exists, and async_load read as a ds_map. */
import { describe, expect, it } from "vitest";
import { ErrorCode, GmnetError, ds_type_list, ds_type_map, ds_type_queue } from "../src/index.js";
import { freshEngine } from "./helpers.js";

function expectInvalid(run: () => unknown): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(GmnetError);
  expect((caught as GmnetError).code).toBe(ErrorCode.INVALID_ARGUMENT);
}

describe("ds handles", () => {
  it("uses GameMaker's ds_type values", () => {
    expect([ds_type_map, ds_type_list, ds_type_queue]).toEqual([1, 2, 4]);
    const gm = freshEngine();
    expect([gm.ds_type_map, gm.ds_type_list, gm.ds_type_queue]).toEqual([1, 2, 4]);
  });

  it("ds_exists answers per type; ids are per type", () => {
    const gm = freshEngine();
    const map = gm.ds_map_create();
    const list = gm.ds_list_create();
    const queue = gm.ds_queue_create();
    expect([map, list, queue]).toEqual([1, 1, 1]);
    for (const type of [ds_type_map, ds_type_list, ds_type_queue]) expect(gm.ds_exists(1, type)).toBe(true);
    gm.ds_list_destroy(list);
    expect(gm.ds_exists(1, ds_type_list)).toBe(false);
    expect(gm.ds_exists(1, ds_type_map)).toBe(true);
    expect(gm.ds_exists(1, ds_type_queue)).toBe(true);
    expect(gm.ds_exists(2, ds_type_map)).toBe(false);
    expect(gm.ds_exists(1, 3)).toBe(false); // ds_type_stack: not implemented
    expect(gm.ds_exists("1" as unknown as number, ds_type_map)).toBe(false);
    // A map id is not a list id: list 1 is gone even though map 1 lives.
    expectInvalid(() => gm.ds_list_size(1));
    expect(gm.ds_map_size(1)).toBe(0);
  });

  it("refuses ids of destroyed structures, and never reuses them", () => {
    const gm = freshEngine();
    const map = gm.ds_map_create();
    const list = gm.ds_list_create();
    const queue = gm.ds_queue_create();
    gm.ds_map_destroy(map);
    gm.ds_list_destroy(list);
    gm.ds_queue_destroy(queue);
    expectInvalid(() => gm.ds_map_find_value(map, "a"));
    expectInvalid(() => gm.ds_map_add(map, "a", 1));
    expectInvalid(() => gm.ds_map_destroy(map));
    expectInvalid(() => gm.ds_list_add(list, 1));
    expectInvalid(() => gm.ds_list_find_value(list, 0));
    expectInvalid(() => gm.ds_list_destroy(list));
    expectInvalid(() => gm.ds_queue_enqueue(queue, 1));
    expectInvalid(() => gm.ds_queue_dequeue(queue));
    expectInvalid(() => gm.ds_queue_destroy(queue));
    expect(gm.ds_map_create()).not.toBe(map);
    expect(gm.ds_list_create()).not.toBe(list);
    expect(gm.ds_queue_create()).not.toBe(queue);
  });

  it("refuses non-number ids, never-created ids, and bad keys or positions", () => {
    const gm = freshEngine();
    expectInvalid(() => gm.ds_map_size(99));
    expectInvalid(() => gm.ds_list_size("1" as unknown as number));
    expectInvalid(() => gm.ds_queue_size(Number.NaN));
    expectInvalid(() => gm.ds_map_destroy({} as unknown as number));
    const map = gm.ds_map_create();
    expectInvalid(() => gm.ds_map_set(map, {} as unknown as string, 1));
    const list = gm.ds_list_create();
    expectInvalid(() => gm.ds_list_find_value(list, "0" as unknown as number));
    expectInvalid(() => gm.ds_list_set(list, Number.POSITIVE_INFINITY, 1));
  });

  it("engines do not share structures", () => {
    const a = freshEngine();
    const b = freshEngine();
    const map = a.ds_map_create();
    a.ds_map_set(map, "k", 1);
    expectInvalid(() => b.ds_map_find_value(map, "k"));
  });
});

describe("GameMaker semantics", () => {
  it("ds_map_add keeps the existing value; ds_map_replace and ds_map_set overwrite", () => {
    const gm = freshEngine();
    const m = gm.ds_map_create();
    expect(gm.ds_map_add(m, "hp", 10)).toBe(true);
    expect(gm.ds_map_add(m, "hp", 20)).toBe(false);
    expect(gm.ds_map_find_value(m, "hp")).toBe(10);
    expect(gm.ds_map_replace(m, "hp", 30)).toBe(true);
    expect(gm.ds_map_replace(m, "mp", 5)).toBe(false);
    gm.ds_map_set(m, "hp", 40);
    expect(gm.ds_map_find_value(m, "hp")).toBe(40);
    expect(gm.ds_map_find_value(m, "nope")).toBeUndefined();
    // 1 and "1" are different keys, as in GameMaker.
    gm.ds_map_set(m, 1, "num");
    expect(gm.ds_map_exists(m, "1")).toBe(false);
    expect(gm.ds_map_keys_to_array(m, ["x"])).toEqual(["x", "hp", "mp", 1]);
    expect(gm.ds_map_find_next(m, "missing")).toBeUndefined();
  });

  it("a ds_list of clients: add, find, delete", () => {
    const gm = freshEngine();
    const clients = gm.ds_list_create();
    gm.ds_list_add(clients, 7, 9, 12);
    gm.ds_list_delete(clients, gm.ds_list_find_index(clients, 9));
    expect(gm.ds_list_find_index(clients, 9)).toBe(-1);
    expect(gm.ds_list_size(clients)).toBe(2);
    gm.ds_list_set(clients, 4, 99);
    expect([0, 1, 2, 3, 4, 5].map((i) => gm.ds_list_find_value(clients, i))).toEqual([7, 12, 0, 0, 99, undefined]);
  });

  it("an empty queue dequeues, heads and tails undefined", () => {
    const gm = freshEngine();
    const q = gm.ds_queue_create();
    expect(gm.ds_queue_empty(q)).toBe(true);
    expect([gm.ds_queue_dequeue(q), gm.ds_queue_head(q), gm.ds_queue_tail(q)]).toEqual([undefined, undefined, undefined]);
    gm.ds_queue_enqueue(q, "a", "b");
    expect([gm.ds_queue_head(q), gm.ds_queue_tail(q), gm.ds_queue_dequeue(q), gm.ds_queue_size(q)]).toEqual(["a", "b", "a", 1]);
  });
});

describe("async_load as a ds_map", () => {
  it("reads a real async event's async_load with ds_map_find_value / exists / size / keys_to_array", async () => {
    const gm = freshEngine();
    const b = gm.buffer_create(4, gm.buffer_fixed, 1);
    const request = gm.buffer_save_async(b, "ds-interop.bin", 0, 4);
    expect(await gm.async_event_wait(5000)).toBe(true);
    const seen: unknown[] = [];
    gm.async_event_dispatch((async_load, event_type) => {
      expect(event_type).toBe(gm.ev_async_save_load);
      seen.push(gm.ds_map_find_value(async_load, "id"), gm.ds_map_find_value(async_load, "status"));
      expect(gm.ds_map_exists(async_load, "id")).toBe(true);
      expect(gm.ds_map_exists(async_load, "type")).toBe(false);
      expect(gm.ds_map_find_value(async_load, "type")).toBeUndefined();
      expect(gm.ds_map_size(async_load)).toBe(Object.keys(async_load).length);
      expect(gm.ds_map_keys_to_array(async_load).sort()).toEqual(Object.keys(async_load).sort());
    });
    expect(seen).toEqual([request, true]);
  });

  it("reads a plain object like a network event's async_load, without inherited keys", () => {
    const gm = freshEngine();
    const load = { type: gm.network_type_data, id: 3, size: 10 };
    expect(gm.ds_map_find_value(load, "type")).toBe(gm.network_type_data);
    expect(gm.ds_map_find_value(load, "toString")).toBeUndefined();
    expect(gm.ds_map_exists(load, "constructor")).toBe(false);
    expect(gm.ds_map_size(load)).toBe(3);
    expect(gm.ds_map_keys_to_array(load)).toEqual(["type", "id", "size"]);
    // Only the read functions accept an object; writing to async_load is refused.
    expectInvalid(() => gm.ds_map_set(load as unknown as number, "x", 1));
  });
});
