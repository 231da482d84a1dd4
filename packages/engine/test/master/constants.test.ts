/** master_* constants are the protocol's numbers, reachable from every entry point. */
import { describe, expect, it } from "vitest";
import * as engine from "../../src/index.js";
import * as masterConstants from "../../src/master/constants.js";
import { CHAT_CHANNELS, MasterOp, MasterStatus } from "../../src/protocol/index.js";

const exported = engine as unknown as Record<string, unknown>;

describe("master constants", () => {
  it("have a master_op_* for every MasterOp and a master_status_* for every MasterStatus, with the wire's values", () => {
    for (const [name, value] of Object.entries(MasterOp)) expect(exported[`master_op_${name.toLowerCase()}`], name).toBe(value);
    for (const [name, value] of Object.entries(MasterStatus)) expect(exported[`master_status_${name.toLowerCase()}`], name).toBe(value);
    const ops = Object.keys(masterConstants).filter((name) => name.startsWith("master_op_"));
    const statuses = Object.keys(masterConstants).filter((name) => name.startsWith("master_status_"));
    expect(ops).toHaveLength(Object.keys(MasterOp).length);
    expect(statuses).toHaveLength(Object.keys(MasterStatus).length);
  });

  it("number the event types and chat channels as documented", () => {
    expect([
      engine.master_type_response,
      engine.master_type_chat,
      engine.master_type_party_invite,
      engine.master_type_party_update,
      engine.master_type_room_update,
      engine.master_type_room_closed,
      engine.master_type_presence,
      engine.master_type_session,
      engine.master_type_world_update,
    ]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([engine.master_chat_global, engine.master_chat_room, engine.master_chat_party, engine.master_chat_whisper]).toEqual([0, 1, 2, 3]);
    for (const [index, name] of CHAT_CHANNELS.entries()) expect(exported[`master_chat_${name}`]).toBe(index);
    expect(engine.ev_async_social).toBe(70);
  });

  it("are engine constants and properties of every engine", () => {
    const gm = engine.createEngine({ storage: engine.createMemoryStorage() });
    for (const [name, value] of Object.entries(masterConstants)) {
      expect((engine.engineConstants as Record<string, unknown>)[name], name).toBe(value);
      expect((gm as unknown as Record<string, unknown>)[name], name).toBe(value);
    }
    expect(engine.engineConstants.ev_async_social).toBe(70);
  });
});
