/** The app-key rule (PROTOCOL.md §6 Hello: 1–64 of `A–Z a–z 0–9 . _ -`) at its edges. */
import { describe, expect, it } from "vitest";
import { isValidAppKey } from "../src/index.js";

describe("isValidAppKey", () => {
  it("accepts 1 to 64 characters of letters, digits, dot, underscore and hyphen", () => {
    for (const key of ["a", "gmnet", "My_Game-2.0", "...", "-", "Z9", "k".repeat(64)]) expect(isValidAppKey(key), key).toBe(true);
  });

  it("refuses the empty key, 65 characters, and characters outside the set", () => {
    for (const key of ["", "k".repeat(65), "my game", "a/b", "a:b", "a+b", "é", "a\n", "ａ", "a\u0000"]) expect(isValidAppKey(key), JSON.stringify(key)).toBe(false);
  });
});
