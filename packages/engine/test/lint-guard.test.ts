/**
 * The lint guard in eslint.config.js: no focused, skipped, conditional (skipIf/runIf),
 * expected-failure (fails/fixme) or todo test of Vitest or Playwright can land, while plain tests,
 * test.each and modifiers that hide nothing (it.concurrent) pass. Each sample is linted as a test
 * file of this package with the repository's own configuration.
 */
import { ESLint } from "eslint";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const eslint = new ESLint({ cwd: repoRoot });

/** The samples the guard flags, linting them together (one a line) as a test file that imports the runners. */
async function flagged(samples: readonly string[]): Promise<string[]> {
  const source = ['import { describe, expect, it, test } from "vitest";', ...samples].join("\n");
  const [result] = await eslint.lintText(source, { filePath: `${repoRoot}packages/engine/test/lint-guard-sample.test.ts` });
  const lines = new Set(result!.messages.filter((message) => message.ruleId === "no-restricted-syntax").map((message) => message.line));
  return samples.filter((_, index) => lines.has(index + 2));
}

const BANNED = [
  // Vitest: focused, skipped, todo
  'it.only("a", () => {});',
  'it.skip("a", () => {});',
  'it.todo("a");',
  'test.only("a", () => {});',
  'test.skip("a", () => {});',
  'describe.only("a", () => {});',
  'describe.skip("a", () => {});',
  'describe.todo("a");',
  // Vitest: conditional and expected-failure
  'it.skipIf(true)("a", () => {});',
  'it.runIf(false)("a", () => {});',
  'it.fails("a", () => {});',
  'test.skipIf(true)("a", () => {});',
  'test.runIf(false)("a", () => {});',
  'test.fails("a", () => {});',
  'describe.skipIf(true)("a", () => {});',
  'describe.runIf(false)("a", () => {});',
  // Vitest: after another modifier
  'it.concurrent.only("a", () => {});',
  'it.skip.each([1])("a %i", () => {});',
  'describe.concurrent.skip("a", () => {});',
  // Playwright
  'test.fixme("a", () => {});',
  'test.describe.skip("a", () => {});',
  'test.describe.only("a", () => {});',
  'test.describe.fixme("a", () => {});',
  'test.describe.serial.only("a", () => {});',
  'test.describe.parallel.skip("a", () => {});',
];

const ALLOWED = [
  'describe("a", () => { it("b", () => { expect(1).toBe(1); }); });',
  'test.each([1])("a %i", (n) => { expect(n).toBe(1); });',
  'it.concurrent("a", () => { expect(/x/.test("x")).toBe(true); });',
  'test.describe("a", () => { test("b", () => {}); });',
];

describe("the lint guard against tests that do not run", () => {
  it("rejects every focused, skipped, conditional, expected-failure and todo form", async () => {
    expect(await flagged(BANNED)).toEqual(BANNED);
  });

  it("allows plain tests, test.each and it.concurrent", async () => {
    expect(await flagged(ALLOWED)).toEqual([]);
  });
});
