// ESLint flat config: the recommended JavaScript and TypeScript rules, plus a few that keep
// tests honest (no focused, skipped, conditional or expected-failure tests can land) and one that
// keeps the engine out of the signaling server.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/dist/**", "**/node_modules/**", "test-results/**", "playwright-report/**", "e2e/artifacts/**", "data/**", "coverage/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser, ...globals.node },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      // it/test/describe/suite/bench with a focusing, skipping, conditional or expected-failure
      // modifier, directly or after other modifiers (Vitest's concurrent, Playwright's describe,
      // serial and parallel). A condition or an expected failure hides a test as surely as a skip:
      // a test that cannot run here must fail, not vanish.
      "no-restricted-syntax": ["error", ...bannedTestModifiers()],
    },
  },
  {
    // The server speaks the wire protocol through @gmnet/protocol; the engine (simple-peer, pako,
    // the hashes) is no dependency of it at run time, only of its tests.
    files: ["signaling-server/src/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ regex: "^@gmnet/engine(/|$)|/packages/engine/", message: "signaling-server/src must not import the engine: take the wire protocol from @gmnet/protocol." }] }],
    },
  },
);

function bannedTestModifiers() {
  const runners = "/^(it|test|describe|suite|bench)$/";
  const modifiers = "/^(only|skip|todo|fixme|skipIf|runIf|fails)$/";
  const message = "Focused, skipped, conditional (skipIf/runIf), expected-failure (fails/fixme) and todo tests must not land.";
  return ["object", "object.object", "object.object.object"].map((path) => ({
    selector: `MemberExpression[${path}.name=${runners}][property.name=${modifiers}]`,
    message,
  }));
}
