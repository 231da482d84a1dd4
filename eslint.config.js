// ESLint flat config: the recommended JavaScript and TypeScript rules, plus a few that keep
// tests honest (no focused or skipped tests can land).
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
      "no-restricted-properties": [
        "error",
        { object: "it", property: "only", message: "Focused tests must not land." },
        { object: "it", property: "skip", message: "Skipped tests must not land." },
        { object: "it", property: "todo", message: "Todo tests must not land." },
        { object: "describe", property: "only", message: "Focused tests must not land." },
        { object: "describe", property: "skip", message: "Skipped tests must not land." },
        { object: "test", property: "only", message: "Focused tests must not land." },
        { object: "test", property: "skip", message: "Skipped tests must not land." },
        { object: "test", property: "fixme", message: "Skipped tests must not land." },
      ],
    },
  },
);
