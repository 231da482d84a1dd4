/** The MCP tool-name rule (PROTOCOL.md §17 TOOL_REGISTER: 1–64 of `A–Z a–z 0–9 _ - .`) at its edges. */
import { describe, expect, it } from "vitest";
import { isValidToolName } from "../src/index.js";

describe("isValidToolName", () => {
  it("accepts 1 to 64 characters of letters, digits, underscore, hyphen and dot", () => {
    for (const name of ["a", "get_score", "spawn-enemy", "world.reset", "Z9", "_", "t".repeat(64)]) expect(isValidToolName(name), name).toBe(true);
  });

  it("refuses the empty name, 65 characters, and characters outside the set", () => {
    for (const name of ["", "t".repeat(65), "get score", "a/b", "a:b", "a+b", "é", "a\n", "ｔ", "a\u0000"]) expect(isValidToolName(name), JSON.stringify(name)).toBe(false);
  });
});
