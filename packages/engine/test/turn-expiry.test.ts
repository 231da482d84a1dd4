/** When a cached ICE server list with TURN REST credentials (PROTOCOL.md §9) must be fetched again. */
import { describe, expect, it } from "vitest";
import { credentialRefreshAt } from "../src/network/udp/turn-expiry.js";

const stun = { urls: "stun:stun.example:3478" };
const turn = (username: string) => ({ urls: ["turn:turn.example:3478"], username, credential: "x" });

describe("credentialRefreshAt", () => {
  it("is undefined without time-limited credentials", () => {
    expect(credentialRefreshAt([], 0)).toBeUndefined();
    expect(credentialRefreshAt([stun], 1_000)).toBeUndefined();
    expect(credentialRefreshAt([stun, turn("alice"), turn("10.0.0.5:1767225600"), turn(":10.0.0.5"), turn("12a:10.0.0.5")], 1_000)).toBeUndefined();
  });

  it("refreshes 10 % of the remaining lifetime before expiry", () => {
    // Expiry 1_767_225_600 s = 1_767_225_600_000 ms; fetched one hour before: 3_600_000 ms left,
    // 10 % = 360_000 ms → 1_767_225_240_000.
    expect(credentialRefreshAt([stun, turn("1767225600:10.0.0.5")], 1_767_222_000_000)).toBe(1_767_225_240_000);
    // 24 h left: 8_640_000 ms early → 1_767_216_960_000.
    expect(credentialRefreshAt([turn("1767225600:10.0.0.5")], 1_767_139_200_000)).toBe(1_767_216_960_000);
  });

  it("refreshes at least 5 s before expiry", () => {
    // 30 s left: 10 % would be 3 s, so 5 s before expiry → 1_767_225_595_000.
    expect(credentialRefreshAt([turn("1767225600:10.0.0.5")], 1_767_225_570_000)).toBe(1_767_225_595_000);
    // Exactly 50 s left: 10 % = 5 s, both rules agree.
    expect(credentialRefreshAt([turn("1767225600:10.0.0.5")], 1_767_225_550_000)).toBe(1_767_225_595_000);
    // Already expired (10 s ago): due 5 s before expiry, i.e. in the past.
    expect(credentialRefreshAt([turn("1767225600:10.0.0.5")], 1_767_225_610_000)).toBe(1_767_225_595_000);
  });

  it("follows the earliest expiry when entries differ", () => {
    // 1000 s and 2000 s after now=0: the first wins, 100 s early → 900_000 ms.
    expect(credentialRefreshAt([turn("2000:10.0.0.5"), stun, turn("1000:10.0.0.5")], 0)).toBe(900_000);
  });
});
