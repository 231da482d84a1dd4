/**
 * MCP tools in the playground and the demo, their pure parts: the MCP panel's account of a run's
 * tools and calls (runner/mcp-tracker.ts) and the cells it shows (panels/mcp-view.ts); the demo's
 * tools (demo/agent-tools.ts): their names per lobby, their schemas, and move_player's walk.
 */
import * as engine from "@gmnet/engine";
import { describe, expect, it } from "vitest";
import { MAX_AGENT_TEXT, MAX_MOVE_STEPS, TOOLS, toolName, walkTowards } from "../src/demo/agent-tools.js";
import { MAX_CHAT_LENGTH } from "../src/demo/protocol.js";
import { ARENA_HEIGHT, ARENA_WIDTH, type Body, PLAYER_RADIUS } from "../src/demo/simulation.js";
import { callAnswerCell, toolStatusCell } from "../src/playground/panels/mcp-view.js";
import { MAX_CALLS, MAX_SHOWN_CHARS, McpTracker, answerText } from "../src/playground/runner/mcp-tracker.js";

const e = engine;
const net = (load: Record<string, unknown>): [Record<string, unknown>, number] => [load, e.ev_async_web_networking];
const call = (callId: number, tool: string, args: unknown = {}): [Record<string, unknown>, number] =>
  net({ type: e.network_type_mcp_call, id: callId, call_id: callId, tool, arguments: args, channel: 2000 });

function offering(...names: string[]): McpTracker {
  const mcp = new McpTracker(e, () => 500);
  names.forEach((name, index) => {
    mcp.registering(name, `the ${name} tool`, 10 + index);
    mcp.observe(...net({ type: e.network_type_mcp_tool, id: 10 + index, name, succeeded: 1 }));
  });
  return mcp;
}

describe("the MCP tracker", () => {
  it("a tool is pending until the server answers, then registered or refused with its error", () => {
    const mcp = new McpTracker(e);
    mcp.registering("roll_dice", "Rolls a die", 7);
    mcp.registering("say", "Says", 8);
    expect(mcp.tools().map(({ name, status }) => [name, status])).toEqual([
      ["roll_dice", "pending"],
      ["say", "pending"],
    ]);
    expect(mcp.offers("roll_dice")).toBe(true);
    const before = mcp.version;
    mcp.observe(...net({ type: e.network_type_mcp_tool, id: 7, name: "roll_dice", succeeded: 1 }));
    mcp.observe(...net({ type: e.network_type_mcp_tool, id: 8, name: "say", succeeded: 0, error: "E_NETWORK_MCP_DISABLED", message: "no token for gmnet" }));
    expect(mcp.version).toBeGreaterThan(before);
    expect(mcp.tools()).toEqual([
      { name: "roll_dice", description: "Rolls a die", status: "registered", error: undefined, message: undefined },
      { name: "say", description: "Says", status: "refused", error: "E_NETWORK_MCP_DISABLED", message: "no token for gmnet" },
    ]);
    expect(mcp.offers("say")).toBe(false);
    expect(mcp.offered()).toEqual(["roll_dice"]);
    // A tool lost after a reconnect (id -1) is refused by name.
    mcp.observe(...net({ type: e.network_type_mcp_tool, id: -1, name: "roll_dice", succeeded: 0, error: "E_NETWORK_MCP_TOOL_TAKEN", message: "taken" }));
    expect(mcp.tools()[0]).toMatchObject({ status: "refused", error: "E_NETWORK_MCP_TOOL_TAKEN" });
  });

  it("unregister withdraws a tool only when the engine did (0); a late answer leaves it withdrawn", () => {
    const mcp = offering("roll_dice");
    mcp.unregistered("roll_dice", -1);
    expect(mcp.tools()[0]!.status).toBe("registered");
    mcp.unregistered("roll_dice", 0);
    expect(mcp.tools()[0]!.status).toBe("withdrawn");
    mcp.observe(...net({ type: e.network_type_mcp_tool, id: 10, name: "roll_dice", succeeded: 1 }));
    expect(mcp.tools()[0]!.status).toBe("withdrawn");
    // Registered again: pending, then offered.
    mcp.registering("roll_dice", "v2", 11);
    expect(mcp.tools()[0]).toMatchObject({ status: "pending", description: "v2" });
  });

  it("calls come newest first with their arguments, and keep the script's answer or how they ended", () => {
    const mcp = offering("roll_dice", "slow");
    mcp.observe(...call(1, "roll_dice", { sides: 6 }));
    mcp.observe(...call(2, "slow"));
    mcp.observe(...call(3, "roll_dice", { sides: 20 }));
    mcp.observe(...call(4, "not_ours"));
    expect(mcp.calls().map(({ callId, tool, args, state }) => [callId, tool, args, state])).toEqual([
      [3, "roll_dice", '{"sides":20}', "open"],
      [2, "slow", "{}", "open"],
      [1, "roll_dice", '{"sides":6}', "open"],
    ]);
    expect(mcp.calls()[0]!.at).toBe(500);
    expect(mcp.hasCall(4)).toBe(false);

    mcp.responded(1, { sides: 6, value: 4 }, false, 0);
    mcp.responded(3, "no such die", true, 0);
    mcp.responded(2, "too big", false, -2);
    mcp.observe(...net({ type: e.network_type_mcp_call_ended, id: 2, call_id: 2, tool: "slow", reason: "timeout", error: "E_NETWORK_TIMEOUT" }));
    // Answered once: a second answer changes nothing.
    mcp.responded(1, "again", false, 0);
    expect(mcp.calls().map(({ callId, state, answer, reason }) => [callId, state, answer, reason])).toEqual([
      [3, "failed", "no such die", undefined],
      [2, "ended", undefined, "timeout"],
      [1, "answered", '{"sides":6,"value":4}', undefined],
    ]);
    expect(mcp.openCalls()).toEqual([]);
  });

  it("keeps MAX_CALLS calls, dropping the oldest settled one first, and cuts long texts", () => {
    const mcp = offering("t");
    mcp.observe(...call(1, "t"));
    for (let id = 2; id <= MAX_CALLS + 5; id++) {
      mcp.observe(...call(id, "t", { text: "x".repeat(id === 2 ? MAX_SHOWN_CHARS + 10 : 1) }));
      mcp.responded(id, "ok", false, 0);
    }
    const calls = mcp.calls();
    expect(calls).toHaveLength(MAX_CALLS);
    expect(calls[0]!.callId).toBe(MAX_CALLS + 5);
    // Call 1 is still open: it stays, the settled ones after it went.
    expect(calls.at(-1)!.callId).toBe(1);
    expect(calls.map((entry) => entry.callId)).not.toContain(2);

    const long = offering("t");
    long.observe(...call(9, "t", { text: "y".repeat(MAX_SHOWN_CHARS) }));
    expect(long.calls()[0]!.args).toHaveLength(MAX_SHOWN_CHARS + 1);
    expect(long.calls()[0]!.args.endsWith("…")).toBe(true);
  });

  it("Stop withdraws every tool and ends the open calls", () => {
    const mcp = offering("a", "b");
    mcp.registering("c", "pending one", 30);
    mcp.observe(...call(5, "a"));
    mcp.observe(...call(6, "b"));
    mcp.responded(6, "done", false, 0);
    expect(mcp.offered()).toEqual(["a", "b", "c"]);
    expect(mcp.openCalls()).toEqual([5]);
    mcp.stopped();
    expect(mcp.tools().map((tool) => tool.status)).toEqual(["withdrawn", "withdrawn", "withdrawn"]);
    expect(mcp.calls().map(({ state, reason }) => [state, reason])).toEqual([
      ["answered", undefined],
      ["ended", "stopped"],
    ]);
    expect(mcp.offered()).toEqual([]);
  });

  it("answers are what network_mcp_tool_respond sends: text as it is, anything else as JSON", () => {
    expect(answerText("4")).toBe("4");
    expect(answerText({ value: 4 })).toBe('{"value":4}');
    expect(answerText(4)).toBe("4");
    expect(answerText(undefined)).toBe("");
  });
});

describe("the MCP panel's cells", () => {
  it("a tool's status, with the server's message for a refused one", () => {
    expect(toolStatusCell({ status: "registered", error: undefined, message: undefined }).text).toBe("registered");
    expect(toolStatusCell({ status: "pending", error: undefined, message: undefined }).text).toBe("pending");
    expect(toolStatusCell({ status: "withdrawn", error: undefined, message: undefined }).text).toBe("withdrawn");
    expect(toolStatusCell({ status: "refused", error: "E_NETWORK_MCP_DISABLED", message: "no token" })).toEqual({ text: "refused: E_NETWORK_MCP_DISABLED", title: "no token" });
  });

  it("a call's answer, its error, or how it ended", () => {
    expect(callAnswerCell({ state: "open", answer: undefined, reason: undefined }).text).toBe("waiting…");
    expect(callAnswerCell({ state: "answered", answer: '{"value":4}', reason: undefined }).text).toBe('{"value":4}');
    expect(callAnswerCell({ state: "failed", answer: "no", reason: undefined }).text).toBe("error: no");
    expect(callAnswerCell({ state: "ended", answer: undefined, reason: "timeout" }).text).toBe("ended: timeout");
    expect(callAnswerCell({ state: "ended", answer: undefined, reason: "cancelled" }).text).toBe("ended: cancelled");
  });
});

describe("the demo's agent tools", () => {
  it("are named plainly in the default lobby and after the lobby in any other", () => {
    expect(toolName("list_players", "public")).toBe("list_players");
    expect(toolName("move_player", "e2e-abc123")).toBe("e2e-abc123_move_player");
    // The longest lobby (32 characters) still gives a valid MCP tool name.
    expect(toolName("list_players", "L".repeat(32))).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
  });

  it("have object schemas whose strings all have a maxLength, and say fits a chat line with its mark", () => {
    for (const { schema } of Object.values(TOOLS)) {
      expect(schema.type).toBe("object");
      for (const property of Object.values(schema.properties) as Array<Record<string, unknown>>) {
        if (property.type === "string") expect(property.maxLength).toBeTypeOf("number");
      }
    }
    expect(TOOLS.say.schema.properties.text.maxLength).toBe(MAX_AGENT_TEXT);
    expect(MAX_AGENT_TEXT).toBeLessThan(MAX_CHAT_LENGTH);
    expect(TOOLS.move_player.schema.properties.x).toMatchObject({ minimum: PLAYER_RADIUS, maximum: ARENA_WIDTH - PLAYER_RADIUS });
    expect(TOOLS.move_player.schema.properties.y).toMatchObject({ minimum: PLAYER_RADIUS, maximum: ARENA_HEIGHT - PLAYER_RADIUS });
  });

  /** Steps until arrival; the bodies on the way. */
  function walk(start: Body, target: { x: number; y: number }): Body[] {
    const path = [start];
    for (let steps = 0; steps < MAX_MOVE_STEPS; steps++) {
      const { body, arrived } = walkTowards(path.at(-1)!, target);
      path.push(body);
      if (arrived) return path;
    }
    throw new Error(`did not arrive at ${target.x}, ${target.y} within ${MAX_MOVE_STEPS} steps`);
  }

  it("move_player walks at the keys' speed and stops exactly on the target", () => {
    const path = walk({ x: 100, y: 100, vx: 0, vy: 0 }, { x: 700, y: 400 });
    expect(path.at(-1)).toEqual({ x: 700, y: 400, vx: 0, vy: 0 });
    // 671 px at 280 px/s is a little over 2.4 s: about 145 steps at 60 Hz, none a jump.
    expect(path.length).toBeGreaterThan(140);
    expect(path.length).toBeLessThan(160);
    for (let i = 1; i < path.length; i++) expect(Math.hypot(path[i]!.x - path[i - 1]!.x, path[i]!.y - path[i - 1]!.y)).toBeLessThanOrEqual(280 / 60 + 1e-9);
  });

  it("arrives from any start, even running the other way, and at once when already there", () => {
    expect(walk({ x: 500, y: 300, vx: 280, vy: -280 }, { x: 200, y: 350 }).at(-1)).toMatchObject({ x: 200, y: 350, vx: 0, vy: 0 });
    expect(walk({ x: 500, y: 300, vx: 0, vy: 280 }, { x: 505, y: 300 }).at(-1)).toMatchObject({ x: 505, y: 300 });
    expect(walkTowards({ x: 40, y: 40, vx: 0, vy: 0 }, { x: 40, y: 40 })).toEqual({ body: { x: 40, y: 40, vx: 0, vy: 0 }, arrived: true });
  });
});
