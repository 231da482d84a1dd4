/**
 * The playground's "Encrypted chat" example, run by the real ScriptRunner against the real server:
 * three engines on one app channel with shared-key encryption — the two with the game's secret
 * read each other, the one with another secret gets E_NETWORK_DECRYPT and no data.
 */
import * as engine from "@gmnet/engine";
import { afterEach, expect, it } from "vitest";
import { type TestNetwork, startNetwork } from "../../packages/engine/test/network/support.js";
import { exampleById } from "../src/playground/examples/index.js";
import type { EngineModule } from "../src/playground/runner/resources.js";
import { ScriptRunner } from "../src/playground/runner/script-runner.js";

let network: TestNetwork | undefined;
afterEach(async () => {
  await network?.close();
  network = undefined;
});

it("bob reads ann's sealed line, eve cannot open it and is told why", async () => {
  network = await startNetwork();
  const net = network;
  const module = { ...engine, ...net.engine(), createEngine: (options?: engine.EngineOptions) => net.engine(options?.network ?? {}) } as unknown as EngineModule;
  const lines: string[] = [];
  const problems: string[] = [];
  const runner = new ScriptRunner(module, { print: (line) => lines.push(line.text), problem: (problem) => problems.push(JSON.stringify(problem)), event: () => {}, runStart: () => {}, state: () => {} });
  const example = exampleById("encrypted-chat");
  expect(example).toBeDefined();
  expect(runner.start(example!.code)).toBe(true);
  await expect
    .poll(() => {
      runner.tick(performance.now());
      return lines.find((line) => line.startsWith("✓"));
    }, { timeout: 15_000 })
    .toBe('✓ encrypted chat done: bob read "meet at the old mill", eve could not open it (E_NETWORK_DECRYPT)');
  expect(lines).not.toContainEqual(expect.stringMatching(/^\[eve\] .* says:/));
  expect(problems).toEqual([]);
  runner.stop();
});
