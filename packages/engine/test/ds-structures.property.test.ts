/** Model-based: random command sequences on ds_map/ds_list/ds_queue agree with a plain JS Map/array model. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { freshEngine } from "./helpers.js";

const gm = freshEngine();
const keyArb = fc.oneof(fc.constantFrom("a", "b", "c", "type", "1"), fc.integer({ min: 0, max: 4 }));
const valueArb = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom("x", "y", undefined, true));
const posArb = fc.integer({ min: -2, max: 8 });

/**
 * For random sequences of `cmd` (at most `maxLength`), a fresh structure and a fresh model take
 * each command through `apply`, which changes both and checks what the engine returned; `agree`
 * compares them after every command, and `atEnd` once more after the last.
 */
function agreesWithModel<C, M>(spec: {
  cmd: fc.Arbitrary<C>;
  maxLength: number;
  create(): number;
  destroy(id: number): void;
  model(): M;
  apply(id: number, model: M, c: C): void;
  agree(id: number, model: M): void;
  atEnd?(id: number, model: M): void;
}): void {
  fc.assert(
    fc.property(fc.array(spec.cmd, { maxLength: spec.maxLength }), (cmds) => {
      const id = spec.create();
      const model = spec.model();
      for (const c of cmds) {
        spec.apply(id, model, c);
        spec.agree(id, model);
      }
      spec.atEnd?.(id, model);
      spec.destroy(id);
    }),
  );
}

describe("ds_map model", () => {
  const cmd = fc.oneof(
    fc.record({ op: fc.constant("add" as const), key: keyArb, value: valueArb }),
    fc.record({ op: fc.constant("replace" as const), key: keyArb, value: valueArb }),
    fc.record({ op: fc.constant("set" as const), key: keyArb, value: valueArb }),
    fc.record({ op: fc.constant("find" as const), key: keyArb }),
    fc.record({ op: fc.constant("exists" as const), key: keyArb }),
    fc.record({ op: fc.constant("delete" as const), key: keyArb }),
    fc.record({ op: fc.constant("clear" as const) }),
  );

  it("every command returns what a Map model returns, and size/keys/iteration match", () => {
    agreesWithModel({
      cmd,
      maxLength: 60,
      create: () => gm.ds_map_create(),
      destroy: (id) => gm.ds_map_destroy(id),
      model: () => new Map<string | number, unknown>(),
      apply(id, model, c) {
        switch (c.op) {
          case "add": {
            const expected = !model.has(c.key);
            if (expected) model.set(c.key, c.value);
            expect(gm.ds_map_add(id, c.key, c.value)).toBe(expected);
            break;
          }
          case "replace": {
            const expected = model.has(c.key);
            model.set(c.key, c.value);
            expect(gm.ds_map_replace(id, c.key, c.value)).toBe(expected);
            break;
          }
          case "set":
            model.set(c.key, c.value);
            gm.ds_map_set(id, c.key, c.value);
            break;
          case "find":
            expect(gm.ds_map_find_value(id, c.key)).toBe(model.get(c.key));
            break;
          case "exists":
            expect(gm.ds_map_exists(id, c.key)).toBe(model.has(c.key));
            break;
          case "delete":
            model.delete(c.key);
            gm.ds_map_delete(id, c.key);
            break;
          case "clear":
            model.clear();
            gm.ds_map_clear(id);
            break;
        }
      },
      agree: (id, model) => expect(gm.ds_map_size(id)).toBe(model.size),
      atEnd(id, model) {
        expect(gm.ds_map_keys_to_array(id)).toEqual([...model.keys()]);
        const iterated: unknown[] = [];
        for (let k = gm.ds_map_find_first(id); k !== undefined; k = gm.ds_map_find_next(id, k)) iterated.push(k);
        expect(iterated).toEqual([...model.keys()]);
      },
    });
  });
});

describe("ds_list model", () => {
  const cmd = fc.oneof(
    fc.record({ op: fc.constant("add" as const), values: fc.array(valueArb, { maxLength: 3 }) }),
    fc.record({ op: fc.constant("delete" as const), pos: posArb }),
    fc.record({ op: fc.constant("insert" as const), pos: posArb, value: valueArb }),
    fc.record({ op: fc.constant("replace" as const), pos: posArb, value: valueArb }),
    fc.record({ op: fc.constant("set" as const), pos: posArb, value: valueArb }),
    fc.record({ op: fc.constant("findIndex" as const), value: valueArb }),
    fc.record({ op: fc.constant("findValue" as const), pos: posArb }),
    fc.record({ op: fc.constant("clear" as const) }),
  );
  const inRange = (model: unknown[], pos: number) => pos >= 0 && pos < model.length;

  it("every command returns what an array model returns, and sizes match", () => {
    agreesWithModel({
      cmd,
      maxLength: 60,
      create: () => gm.ds_list_create(),
      destroy: (id) => gm.ds_list_destroy(id),
      model: (): unknown[] => [],
      apply(id, model, c) {
        switch (c.op) {
          case "add":
            model.push(...c.values);
            gm.ds_list_add(id, ...c.values);
            break;
          case "delete":
            if (inRange(model, c.pos)) model.splice(c.pos, 1);
            gm.ds_list_delete(id, c.pos);
            break;
          case "insert":
            if (c.pos >= 0 && c.pos <= model.length) model.splice(c.pos, 0, c.value);
            gm.ds_list_insert(id, c.pos, c.value);
            break;
          case "replace":
            if (inRange(model, c.pos)) model[c.pos] = c.value;
            gm.ds_list_replace(id, c.pos, c.value);
            break;
          case "set":
            if (c.pos >= 0) {
              while (model.length < c.pos) model.push(0);
              model[c.pos] = c.value;
            }
            gm.ds_list_set(id, c.pos, c.value);
            break;
          case "findIndex":
            expect(gm.ds_list_find_index(id, c.value)).toBe(model.indexOf(c.value));
            break;
          case "findValue":
            expect(gm.ds_list_find_value(id, c.pos)).toBe(inRange(model, c.pos) ? model[c.pos] : undefined);
            break;
          case "clear":
            model.length = 0;
            gm.ds_list_clear(id);
            break;
        }
      },
      agree: (id, model) => expect(gm.ds_list_size(id)).toBe(model.length),
      atEnd(id, model) {
        for (let i = 0; i < model.length; i++) expect(gm.ds_list_find_value(id, i)).toBe(model[i]);
      },
    });
  });
});

describe("ds_queue model", () => {
  const cmd = fc.oneof(
    fc.record({ op: fc.constant("enqueue" as const), values: fc.array(valueArb, { maxLength: 3 }) }),
    fc.record({ op: fc.constant("dequeue" as const) }),
    fc.record({ op: fc.constant("head" as const) }),
    fc.record({ op: fc.constant("tail" as const) }),
    fc.record({ op: fc.constant("clear" as const) }),
  );

  it("every command returns what an array model returns, and sizes match", () => {
    agreesWithModel({
      cmd,
      maxLength: 80,
      create: () => gm.ds_queue_create(),
      destroy: (id) => gm.ds_queue_destroy(id),
      model: (): unknown[] => [],
      apply(id, model, c) {
        switch (c.op) {
          case "enqueue":
            model.push(...c.values);
            gm.ds_queue_enqueue(id, ...c.values);
            break;
          case "dequeue":
            expect(gm.ds_queue_dequeue(id)).toBe(model.shift());
            break;
          case "head":
            expect(gm.ds_queue_head(id)).toBe(model[0]);
            break;
          case "tail":
            expect(gm.ds_queue_tail(id)).toBe(model.at(-1));
            break;
          case "clear":
            model.length = 0;
            gm.ds_queue_clear(id);
            break;
        }
      },
      agree(id, model) {
        expect(gm.ds_queue_size(id)).toBe(model.length);
        expect(gm.ds_queue_empty(id)).toBe(model.length === 0);
      },
    });
  });

  it("a long-running queue (compaction) keeps FIFO order", () => {
    const id = gm.ds_queue_create();
    let next = 0;
    for (let round = 0; round < 5000; round++) {
      gm.ds_queue_enqueue(id, round * 2, round * 2 + 1);
      expect(gm.ds_queue_dequeue(id)).toBe(next++);
    }
    expect(gm.ds_queue_size(id)).toBe(5000);
    expect(gm.ds_queue_head(id)).toBe(next);
    expect(gm.ds_queue_tail(id)).toBe(9999);
    gm.ds_queue_destroy(id);
  });
});
