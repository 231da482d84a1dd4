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

/**
 * Every banned modifier after every way of reaching a runner (Vitest's it/test/describe, plain or
 * after another modifier, and Playwright's test.describe variants), as a call with its arguments.
 * Built from parts, so this file holds no skipped or focused test of its own for a scanner to find.
 */
const CHAINS = ["it", "test", "describe", "it.concurrent", "describe.concurrent", "test.describe", "test.describe.serial", "test.describe.parallel"];
const MODIFIERS: Record<string, string> = {
  only: '("a", () => {});',
  skip: '("a", () => {});',
  todo: '("a");',
  fixme: '("a", () => {});',
  skipIf: '(true)("a", () => {});',
  runIf: '(false)("a", () => {});',
  fails: '("a", () => {});',
};
const BANNED = [
  ...CHAINS.flatMap((chain) => Object.entries(MODIFIERS).map(([modifier, call]) => `${chain}.${modifier}${call}`)),
  // A banned modifier before another one.
  ["it", "skip", "each"].join(".") + '([1])("a %i", () => {});',
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
