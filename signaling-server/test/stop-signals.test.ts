/**
 * Stop signals (src/stop-signals.ts): the first drains; the same Ctrl-C delivered twice (by the
 * terminal and by npm) within SAME_KEYPRESS_MS is one keypress; a later one exits at once.
 */
import { describe, expect, it } from "vitest";
import { stopSignalListener } from "../src/stop-signals.js";

function harness() {
  let clock = 1_000;
  const calls: string[] = [];
  const listener = stopSignalListener({
    drain: (signal) => calls.push(`drain ${signal}`),
    exitNow: (signal) => calls.push(`exit ${signal}`),
    now: () => clock,
  });
  return { calls, listener, advance: (ms: number) => (clock += ms) };
}

describe("stop signals", () => {
  it("drain on the first, ignore the echo of the same keypress, exit on a later one", () => {
    const { calls, listener, advance } = harness();
    listener("SIGINT");
    advance(2); // npm's forward of the same Ctrl-C
    listener("SIGINT");
    advance(497); // 499 ms after the first: still the same keypress
    listener("SIGINT");
    expect(calls).toEqual(["drain SIGINT"]);
    advance(1); // 500 ms after the first
    listener("SIGTERM");
    expect(calls).toEqual(["drain SIGINT", "exit SIGTERM"]);
  });
});
