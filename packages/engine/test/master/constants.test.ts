/** master_* constants have the numbers docs/MASTER.md and PROTOCOL.md give, on every entry point. */
import { describe, expect, it } from "vitest";
import * as engine from "../../src/index.js";
import * as masterConstants from "../../src/master/constants.js";
import { CHAT_CHANNELS, MasterOp, MasterStatus } from "@gmnet/protocol";
import { ASYNC_EVENT_CONSTANTS, MASTER_CONSTANTS } from "../expected-constants.js";

const exported = engine as unknown as Record<string, unknown>;
const documentedWith = (prefix: string) => Object.fromEntries(Object.entries(MASTER_CONSTANTS).filter(([name]) => name.startsWith(prefix)));

describe("master constants", () => {
  it("are exactly the documented master_* numbers, as named exports and on every engine", () => {
    expect({ ...masterConstants }).toEqual(MASTER_CONSTANTS);
    const gm = engine.createEngine({ storage: engine.createMemoryStorage() }) as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(MASTER_CONSTANTS)) {
      expect(exported[name], name).toBe(value);
      expect(gm[name], name).toBe(value);
    }
    expect(engine.ev_async_social).toBe(ASYNC_EVENT_CONSTANTS.ev_async_social);
  });

  it("the wire's opcodes, statuses and chat channels have the same documented numbers", () => {
    // The protocol module names them in upper case (MasterOp.LOGIN_GUEST) and the GML constants in lower case.
    const wireOps = Object.fromEntries(Object.entries(MasterOp).map(([name, value]) => [`master_op_${name.toLowerCase()}`, value]));
    const wireStatuses = Object.fromEntries(Object.entries(MasterStatus).map(([name, value]) => [`master_status_${name.toLowerCase()}`, value]));
    const wireChannels = Object.fromEntries(CHAT_CHANNELS.map((name, index) => [`master_chat_${name}`, index]));
    expect(wireOps).toEqual(documentedWith("master_op_"));
    expect(wireStatuses).toEqual(documentedWith("master_status_"));
    expect(wireChannels).toEqual(documentedWith("master_chat_"));
  });
});
