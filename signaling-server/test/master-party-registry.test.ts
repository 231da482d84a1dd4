/**
 * The party registry on its own (PROTOCOL.md §16.6): leadership by seniority, invites per
 * (party, invitee), the size limits, app-key isolation, and that nothing stays behind.
 */
import { describe, expect, it } from "vitest";
import { PartyRegistry } from "../src/master/social/party-registry.js";
import { errorOf } from "./support/master-failure.js";

const APP = "app";

function registry(maxPartySize = 8, maxPendingInvites = 32): PartyRegistry<string> {
  return new PartyRegistry<string>({ random: Math.random, maxPartySize, maxPendingInvites });
}

describe("PartyRegistry", () => {
  it("creates a party led by its creator; one party per member", () => {
    const parties = registry();
    const party = parties.create(APP, "lead", "Lead");
    expect(parties.view(party)).toEqual({ partyId: party.id, leader: "Lead", members: ["Lead"] });
    expect(party.id).toBeGreaterThanOrEqual(1);
    expect(errorOf(() => parties.create(APP, "lead", "Lead"))).toBe("already_in_party");
  });

  it("invites, accepts and declines by the rules", () => {
    const parties = registry();
    const party = parties.create(APP, "lead", "Lead");
    expect(errorOf(() => parties.invite("nobody", "Nobody", "a"))).toBe("not_in_party");
    parties.invite("lead", "Lead", "a");
    parties.invite("lead", "Lead", "b");
    parties.invite("lead", "Lead", "a"); // renewing is fine
    expect([...party.invites.keys()]).toEqual(["b", "a"]);
    expect(errorOf(() => parties.invite("lead", "Lead", "lead"))).toBe("already_in_party");

    expect(errorOf(() => parties.accept(APP, "c", "C", party.id))).toBe("invite_not_found");
    expect(errorOf(() => parties.accept(APP, "a", "A", 999))).toBe("party_not_found");
    expect(errorOf(() => parties.accept("other-app", "a", "A", party.id))).toBe("party_not_found");
    parties.accept(APP, "a", "A", party.id);
    expect(parties.view(party).members).toEqual(["Lead", "A"]);
    expect(errorOf(() => parties.accept(APP, "a", "A", party.id))).toBe("invite_not_found");
    expect(errorOf(() => parties.invite("a", "A", "c"))).toBe("not_leader");
    expect(errorOf(() => parties.invite("lead", "Lead", "a"))).toBe("already_in_party");

    parties.decline(APP, "b", party.id);
    expect(errorOf(() => parties.decline(APP, "b", party.id))).toBe("invite_not_found");
    expect(party.invites.size).toBe(0);
    expect(parties.inviteeCount).toBe(0);
  });

  it("refuses a full party at invite and at accept, keeping the invite for later", () => {
    const parties = registry(2);
    const party = parties.create(APP, "lead", "Lead");
    parties.invite("lead", "Lead", "a");
    parties.invite("lead", "Lead", "b");
    parties.accept(APP, "a", "A", party.id);
    expect(errorOf(() => parties.invite("lead", "Lead", "c"))).toBe("party_full");
    expect(errorOf(() => parties.accept(APP, "b", "B", party.id))).toBe("party_full");
    parties.leave("a");
    expect(parties.view(parties.accept(APP, "b", "B", party.id)).members).toEqual(["Lead", "B"]);
  });

  it("caps pending invites per party", () => {
    const parties = registry(8, 2);
    parties.create(APP, "lead", "Lead");
    parties.invite("lead", "Lead", "a");
    parties.invite("lead", "Lead", "b");
    expect(errorOf(() => parties.invite("lead", "Lead", "c"))).toBe("party_full");
    parties.invite("lead", "Lead", "a"); // renewing a pending one is not a new invite
  });

  it("refuses accept while in another party", () => {
    const parties = registry();
    const first = parties.create(APP, "one", "One");
    parties.invite("one", "One", "two");
    parties.create(APP, "two", "Two");
    expect(errorOf(() => parties.accept(APP, "two", "Two", first.id))).toBe("already_in_party");
    expect(errorOf(() => parties.invite("one", "One", "two"))).toBe("already_in_party");
  });

  it("passes leadership to the longest-standing member; the last one out ends the party and its invites", () => {
    const parties = registry();
    const party = parties.create(APP, "lead", "Lead");
    for (const name of ["a", "b", "c"]) {
      parties.invite("lead", "Lead", name);
      parties.accept(APP, name, name.toUpperCase(), party.id);
    }
    parties.invite("lead", "Lead", "pending");
    expect(parties.leave("lead")).toEqual({ party, ended: false });
    expect(parties.view(party)).toMatchObject({ leader: "A", members: ["A", "B", "C"] });
    expect(errorOf(() => parties.invite("b", "B", "x"))).toBe("not_leader");
    parties.leave("b");
    expect(parties.view(party)).toMatchObject({ leader: "A", members: ["A", "C"] });
    parties.leave("a");
    expect(parties.leaderOf(party)).toBe("c");
    expect(parties.leave("c")).toEqual({ party, ended: true });
    expect(parties.view(party)).toEqual({ partyId: party.id, leader: "", members: [] });
    expect(parties.leave("c")).toBeUndefined();
    expect(errorOf(() => parties.accept(APP, "pending", "P", party.id))).toBe("party_not_found");
    expect(parties.size).toBe(0);
    expect(parties.memberCount).toBe(0);
    expect(parties.inviteeCount).toBe(0);
  });

  it("forgets an invitee's pending invites when its login ends", () => {
    const parties = registry();
    const one = parties.create(APP, "one", "One");
    const two = parties.create(APP, "two", "Two");
    parties.invite("one", "One", "x");
    parties.invite("two", "Two", "x");
    parties.forgetInvites("x");
    expect(one.invites.size + two.invites.size).toBe(0);
    expect(parties.inviteeCount).toBe(0);
    expect(errorOf(() => parties.accept(APP, "x", "X", one.id))).toBe("invite_not_found");
  });
});
