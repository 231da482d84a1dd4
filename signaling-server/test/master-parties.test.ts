/**
 * Parties against the real server over real WebSockets (PROTOCOL.md §16.6): create, invite,
 * accept, decline, leave, leadership passing to the longest-standing member, the party ending
 * with its last member, the size limit, and memberships and invites ending with their login.
 */
import { MasterStatus } from "@gmnet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { FAST_HASHES, startServer } from "./support/harness.js";
import { MasterClient, MasterEvent, MasterOp, guests, uniqueAppKey } from "./support/master-client.js";

let server: GmnetServer;
beforeAll(async () => {
  server = await startServer({ ...FAST_HASHES, maxPartySize: 3 });
});
afterAll(() => server.close());

async function party(count: number): Promise<MasterClient[]> {
  return guests(server, uniqueAppKey("party"), count);
}

/** `leader` invites each of `members`, who accept; everyone's events so far are taken. */
async function form(leader: MasterClient, ...members: MasterClient[]): Promise<number> {
  const partyId = (await leader.must(MasterOp.PARTY_CREATE)).partyId as number;
  const joined = [leader];
  for (const member of members) {
    await leader.must(MasterOp.PARTY_INVITE, { username: member.username });
    await member.nextEvent(MasterEvent.PARTY_INVITE);
    await member.must(MasterOp.PARTY_ACCEPT, { partyId });
    joined.push(member);
    for (const client of joined) await client.nextEvent(MasterEvent.PARTY_UPDATE);
  }
  return partyId;
}

describe("master parties", () => {
  it("creates, invites, accepts, declines, hands over leadership and ends with the last member", async () => {
    const [lead, mate, shy] = (await party(3)) as [MasterClient, MasterClient, MasterClient];
    const created = await lead.must(MasterOp.PARTY_CREATE);
    const partyId = created.partyId as number;
    expect(created).toEqual({ partyId, leader: lead.username, members: [lead.username] });
    expect(partyId).toBeGreaterThanOrEqual(1);
    expect(partyId).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(await lead.request(MasterOp.PARTY_CREATE)).toMatchObject({ status: MasterStatus.FAILED, body: { error: "already_in_party" } });

    await lead.must(MasterOp.PARTY_INVITE, { username: mate.username });
    await lead.must(MasterOp.PARTY_INVITE, { username: shy.username.toUpperCase() });
    expect(await mate.nextEvent(MasterEvent.PARTY_INVITE)).toEqual({ partyId, from: lead.username });
    expect(await shy.nextEvent(MasterEvent.PARTY_INVITE)).toEqual({ partyId, from: lead.username });

    const accepted = await mate.must(MasterOp.PARTY_ACCEPT, { partyId });
    expect(accepted).toEqual({ partyId, leader: lead.username, members: [lead.username, mate.username] });
    const joined = { partyId, leader: lead.username, members: [lead.username, mate.username], reason: "joined", username: mate.username };
    expect(await lead.nextEvent(MasterEvent.PARTY_UPDATE)).toEqual(joined);
    expect(await mate.nextEvent(MasterEvent.PARTY_UPDATE)).toEqual(joined);

    await shy.must(MasterOp.PARTY_DECLINE, { partyId });
    const declined = { partyId, leader: lead.username, members: [lead.username, mate.username], reason: "declined", username: shy.username };
    expect(await lead.nextEvent(MasterEvent.PARTY_UPDATE)).toEqual(declined);
    expect(await mate.nextEvent(MasterEvent.PARTY_UPDATE)).toEqual(declined);
    expect(await shy.request(MasterOp.PARTY_ACCEPT, { partyId })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "invite_not_found" } });
    expect(await shy.request(MasterOp.PARTY_DECLINE, { partyId })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "invite_not_found" } });
    expect(await mate.request(MasterOp.PARTY_INVITE, { username: shy.username })).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_leader" } });
    expect(await shy.request(MasterOp.PARTY_INVITE, { username: mate.username })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "not_in_party" } });

    // The leader leaves: the longest-standing member leads; both hear it.
    await lead.must(MasterOp.PARTY_LEAVE);
    const handover = { partyId, leader: mate.username, members: [mate.username], reason: "left", username: lead.username };
    expect(await mate.nextEvent(MasterEvent.PARTY_UPDATE)).toEqual(handover);
    expect(await lead.nextEvent(MasterEvent.PARTY_UPDATE)).toEqual(handover);
    expect(await lead.request(MasterOp.PARTY_LEAVE)).toMatchObject({ status: MasterStatus.FAILED, body: { error: "not_in_party" } });

    // The new leader invites, then leaves last: the party and its invites end.
    await mate.must(MasterOp.PARTY_INVITE, { username: shy.username });
    expect(await shy.nextEvent(MasterEvent.PARTY_INVITE)).toEqual({ partyId, from: mate.username });
    await mate.must(MasterOp.PARTY_LEAVE);
    expect(await mate.nextEvent(MasterEvent.PARTY_UPDATE)).toEqual({ partyId, leader: "", members: [], reason: "left", username: mate.username });
    expect(await shy.request(MasterOp.PARTY_ACCEPT, { partyId })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "party_not_found" } });

    // shy only ever heard invites, never a party's updates.
    expect(shy.received(MasterEvent.PARTY_UPDATE)).toEqual([]);
    for (const client of [lead, mate, shy]) client.close();
  });

  it("refuses invites to the offline, to members of a party and beyond maxPartySize", async () => {
    const [lead, a, b, c, busy, spare] = (await party(6)) as [MasterClient, MasterClient, MasterClient, MasterClient, MasterClient, MasterClient];
    const partyId = (await lead.must(MasterOp.PARTY_CREATE)).partyId as number;
    expect(await lead.request(MasterOp.PARTY_INVITE, { username: "guest-offline0" })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "user_not_found" } });
    expect(await lead.request(MasterOp.PARTY_INVITE, { username: lead.username })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "already_in_party" } });
    const otherId = (await busy.must(MasterOp.PARTY_CREATE)).partyId as number;
    expect(await lead.request(MasterOp.PARTY_INVITE, { username: busy.username })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "already_in_party" } });
    await busy.must(MasterOp.PARTY_INVITE, { username: c.username });

    for (const member of [a, b, c]) await lead.must(MasterOp.PARTY_INVITE, { username: member.username });
    await a.must(MasterOp.PARTY_ACCEPT, { partyId });
    await b.must(MasterOp.PARTY_ACCEPT, { partyId });
    // Three members: full.
    expect(await c.request(MasterOp.PARTY_ACCEPT, { partyId })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "party_full" } });
    expect(await lead.request(MasterOp.PARTY_INVITE, { username: spare.username })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "party_full" } });
    // The invite survives: once a seat frees up, it can be accepted.
    await b.must(MasterOp.PARTY_LEAVE);
    expect(await c.must(MasterOp.PARTY_ACCEPT, { partyId })).toEqual({ partyId, leader: lead.username, members: [lead.username, a.username, c.username] });
    // In a party: no accepting another one's invite, no creating one.
    expect(await c.request(MasterOp.PARTY_ACCEPT, { partyId: otherId })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "already_in_party" } });
    expect(await c.request(MasterOp.PARTY_CREATE)).toMatchObject({ status: MasterStatus.FAILED, body: { error: "already_in_party" } });

    for (const bad of [{}, { partyId: 0 }, { partyId: "1" }, { partyId: 1, extra: true }]) {
      expect(await a.request(MasterOp.PARTY_ACCEPT, bad)).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    }
    expect(await a.request(MasterOp.PARTY_INVITE, { username: "" })).toMatchObject({ status: MasterStatus.INVALID });
    expect(await a.request(MasterOp.PARTY_CREATE, { name: "x" })).toMatchObject({ status: MasterStatus.INVALID });
    const anonymous = await MasterClient.connect(server, { appKey: "anything" });
    expect(await anonymous.request(MasterOp.PARTY_CREATE)).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_logged_in" } });
    for (const client of [lead, a, b, c, busy, spare, anonymous]) client.close();
  });

  it("takes members out when they disconnect or log out, passing leadership on", async () => {
    const [lead, second, third] = (await party(3)) as [MasterClient, MasterClient, MasterClient];
    const partyId = await form(lead, second, third);
    lead.close();
    const afterLead = { partyId, leader: second.username, members: [second.username, third.username], reason: "left", username: lead.username };
    expect(await second.nextEvent(MasterEvent.PARTY_UPDATE)).toEqual(afterLead);
    expect(await third.nextEvent(MasterEvent.PARTY_UPDATE)).toEqual(afterLead);
    await third.must(MasterOp.LOGOUT);
    expect(await second.nextEvent(MasterEvent.PARTY_UPDATE)).toEqual({ partyId, leader: second.username, members: [second.username], reason: "left", username: third.username });
    // The same connection logged in again is a new login: not in the party any more.
    await third.guest();
    expect(await third.request(MasterOp.PARTY_LEAVE)).toMatchObject({ status: MasterStatus.FAILED, body: { error: "not_in_party" } });
    // The new leader may invite.
    await second.must(MasterOp.PARTY_INVITE, { username: third.username });
    expect(await third.nextEvent(MasterEvent.PARTY_INVITE)).toEqual({ partyId, from: second.username });
    second.close();
    third.close();
  });

  it("drops an invite when the invitee's login ends", async () => {
    const [lead, invitee] = (await party(2)) as [MasterClient, MasterClient];
    const partyId = (await lead.must(MasterOp.PARTY_CREATE)).partyId as number;
    await lead.must(MasterOp.PARTY_INVITE, { username: invitee.username });
    await invitee.nextEvent(MasterEvent.PARTY_INVITE);
    // The same account resumed on another connection: the first login ended, and its invite with it.
    const again = await MasterClient.connect(server, { appKey: lead.appKey });
    await again.must(MasterOp.RESUME, { token: invitee.session.token as string });
    expect(await invitee.nextEvent(MasterEvent.SESSION)).toMatchObject({ state: "ended", reason: "replaced" });
    expect(await again.request(MasterOp.PARTY_ACCEPT, { partyId })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "invite_not_found" } });
    // Invited again, the new login can accept.
    await lead.must(MasterOp.PARTY_INVITE, { username: invitee.username });
    expect(await again.nextEvent(MasterEvent.PARTY_INVITE)).toEqual({ partyId, from: lead.username });
    expect(await again.must(MasterOp.PARTY_ACCEPT, { partyId })).toMatchObject({ members: [lead.username, invitee.username] });
    for (const client of [lead, invitee, again]) client.close();
  });

  it("keeps apps apart: no invites across app keys", async () => {
    const [mine] = await party(1);
    const [theirs] = await party(1);
    const partyId = (await mine!.must(MasterOp.PARTY_CREATE)).partyId as number;
    expect(await mine!.request(MasterOp.PARTY_INVITE, { username: theirs!.username })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "user_not_found" } });
    expect(await theirs!.request(MasterOp.PARTY_ACCEPT, { partyId })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "party_not_found" } });
    mine!.close();
    theirs!.close();
  });
});
