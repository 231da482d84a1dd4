/** show_debug_message, show_debug_message_ext and show_message in every engine, and where their text goes. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ErrorCode, GmnetError, createEngine, createMemoryStorage, installGlobals } from "../src/index.js";

function recordingEngine() {
  const debug: string[] = [];
  const message: string[] = [];
  const gm = createEngine({ storage: createMemoryStorage(), output: { debug: (text) => debug.push(text), message: (text) => message.push(text) } });
  return { gm, debug, message };
}

afterEach(() => {
  vi.restoreAllMocks();
  delete (globalThis as { alert?: unknown }).alert;
});

describe("show_debug_message", () => {
  it("fills {0}, {1} … with the further values, as GameMaker's manual shows", () => {
    const { gm, debug } = recordingEngine();
    gm.show_debug_message("player {0} has {1} hp", "ann", 42);
    gm.show_debug_message("{1} before {0}, {0} again", "a", "b");
    expect(debug).toEqual(["player ann has 42 hp", "b before a, a again"]);
  });

  it("leaves a placeholder without a value as it is", () => {
    const { gm, debug } = recordingEngine();
    gm.show_debug_message("{0} and {3}", 1);
    expect(debug).toEqual(["1 and {3}"]);
  });

  it("joins values without placeholders with spaces, and prints one value alone", () => {
    const { gm, debug } = recordingEngine();
    gm.show_debug_message("socket", 3, "closed");
    gm.show_debug_message(2.5);
    gm.show_debug_message(undefined);
    gm.show_debug_message({ type: 1, ip: "10.0.0.1" });
    gm.show_debug_message([1, "two", 3n]);
    expect(debug).toEqual(["socket 3 closed", "2.5", "undefined", '{"type":1,"ip":"10.0.0.1"}', '[1,"two","3n"]']);
  });

  it("show_debug_message_ext takes the values as one array, and refuses anything else", () => {
    const { gm, debug } = recordingEngine();
    gm.show_debug_message_ext("{0}:{1}", ["10.0.0.1", 6510]);
    expect(debug).toEqual(["10.0.0.1:6510"]);
    let caught: unknown;
    try {
      gm.show_debug_message_ext("{0}", "not an array");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GmnetError);
    expect((caught as GmnetError).code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(debug).toHaveLength(1);
  });

  it("writes to console.log by default", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    createEngine({ storage: createMemoryStorage() }).show_debug_message("hp {0}", 7);
    expect(log).toHaveBeenCalledWith("hp 7");
  });
});

describe("show_message", () => {
  it("goes to the engine's message output as text", () => {
    const { gm, debug, message } = recordingEngine();
    gm.show_message("Connected!");
    gm.show_message(404);
    expect(message).toEqual(["Connected!", "404"]);
    expect(debug).toEqual([]);
  });

  it("opens the platform's alert() where there is one (a browser page), as GameMaker's HTML5 runner does", () => {
    const alert = vi.fn();
    (globalThis as { alert?: unknown }).alert = alert;
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    createEngine({ storage: createMemoryStorage() }).show_message("Game over");
    expect(alert).toHaveBeenCalledWith("Game over");
    expect(log).not.toHaveBeenCalled();
  });

  it("falls back to console.log where there is no alert() (Node)", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    createEngine({ storage: createMemoryStorage() }).show_message("Game over");
    expect(log).toHaveBeenCalledWith("Game over");
  });

  it("is installed with the other functions by installGlobals", () => {
    const target: Record<string, unknown> = {};
    const names = installGlobals(target);
    for (const name of ["show_message", "show_debug_message", "show_debug_message_ext"]) {
      expect(names).toContain(name);
      expect(typeof target[name]).toBe("function");
    }
  });
});
