/**
 * Chat, parties and presence through master_* against the real server, and how the service
 * answers requests it cannot serve: unknown opcodes and malformed bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordedEvent } from "../network/support.js";
import { type TestNetwork, startNetwork } from "../network/support.js";
import { FAST_HASHES, type Player, loggedIn, player } from "./support.js";

let network: TestNetwork;
beforeAll(async () => {
  // Each test gets its own app key, so global chat and presence see only that test's players.
  network = await startNetwork(FAST_HASHES);
});
afterAll(async () => {
  await network.close();
});

/** The CHAT events a player got, oldest first, up to and including the one with `marker` text. */
async function chatUntil(p: Player, marker: string): Promise<RecordedEvent[]> {
  await p.event(p.gm.master_type_chat, { text: marker });
  return p.log.seen.filter((event) => event.type === p.gm.master_type_chat);
}

describe("master chat", () => {
  it("delivers every channel to exactly its recipients", async () => {
    const [ann, bob, cid, dan] = [await loggedIn(network, "ann"), await loggedIn(network, "bob"), await loggedIn(network, "cid"), await loggedIn(network, "dan")];
    const everyone = [ann, bob, cid, dan];
    const room = await ann.must((gm) => gm.master_room_create("chat room", 4, 7100));
    await bob.must((gm) => gm.master_room_join(room.room_id as number));
    const party = await cid.must((gm) => gm.master_party_create());
    await cid.must((gm) => gm.master_party_invite(dan.name));
    const invite = await dan.event(dan.gm.master_type_party_invite);
    expect(invite).toMatchObject({ party_id: party.party_id, from: cid.name });
    await dan.must((gm) => gm.master_party_accept(invite.party_id as number));

    await ann.must((gm) => gm.master_chat_send(gm.master_chat_room, "room: ann"));
    await cid.must((gm) => gm.master_chat_send(gm.master_chat_party, "party: cid"));
    await bob.must((gm) => gm.master_chat_send(gm.master_chat_whisper, "whisper: bob to dan", dan.name));
    await dan.must((gm) => gm.master_chat_send(gm.master_chat_global, "global: dan"));

    const texts = async (p: Player) => (await chatUntil(p, "global: dan")).map((event) => event.text);
    expect(await texts(ann)).toEqual(["room: ann", "global: dan"]);
    expect(await texts(bob)).toEqual(["room: ann", "global: dan"]);
    expect(await texts(cid)).toEqual(["party: cid", "global: dan"]);
    expect(await texts(dan)).toEqual(["party: cid", "whisper: bob to dan", "global: dan"]);

    const whisper = dan.log.seen.find((event) => event.type === dan.gm.master_type_chat && event.channel === dan.gm.master_chat_whisper)!;
    expect(whisper).toMatchObject({ from: bob.name, to: dan.name, id: -1 });
    for (const p of everyone) expect(p.log.seen.filter((event) => event.type === p.gm.master_type_chat && event.text === "global: dan")).toHaveLength(1);
  });

  it("refuses chat it cannot deliver", async () => {
    const lone = await loggedIn(network, "lone");
    expect(await lone.ask((gm) => gm.master_chat_send(gm.master_chat_room, "anyone?"))).toMatchObject({ status: lone.gm.master_status_failed, error: "not_in_room" });
    expect(await lone.ask((gm) => gm.master_chat_send(gm.master_chat_party, "anyone?"))).toMatchObject({ error: "not_in_party" });
    expect(await lone.ask((gm) => gm.master_chat_send(gm.master_chat_whisper, "hi", "nobody_here"))).toMatchObject({ status: lone.gm.master_status_not_found, error: "user_not_found" });
    const anonymous = player(network);
    expect(await anonymous.ask((gm) => gm.master_chat_send(gm.master_chat_global, "hi"))).toMatchObject({ error: "not_logged_in" });
  });
});

describe("master parties", () => {
  it("creates, invites, accepts, declines, hands over leadership and disbands", async () => {
    const [lead, mate, shy] = [await loggedIn(network, "lead"), await loggedIn(network, "mate"), await loggedIn(network, "shy")];
    const party = await lead.must((gm) => gm.master_party_create());
    expect(party).toMatchObject({ leader: lead.name, members: [lead.name] });
    const id = party.party_id as number;

    await lead.must((gm) => gm.master_party_invite(mate.name));
    await lead.must((gm) => gm.master_party_invite(shy.name));
    await mate.event(mate.gm.master_type_party_invite, { party_id: id });
    await shy.event(shy.gm.master_type_party_invite, { party_id: id });
    const accepted = await mate.must((gm) => gm.master_party_accept(id));
    expect(accepted.members).toEqual([lead.name, mate.name]);
    expect(await lead.event(lead.gm.master_type_party_update, { reason: "joined" })).toMatchObject({ username: mate.name, members: [lead.name, mate.name] });
    await shy.must((gm) => gm.master_party_decline(id));
    expect(await lead.event(lead.gm.master_type_party_update, { reason: "declined" })).toMatchObject({ username: shy.name });
    expect(await shy.ask((gm) => gm.master_party_accept(id))).toMatchObject({ status: shy.gm.master_status_not_found, error: "invite_not_found" });
    expect(await mate.ask((gm) => gm.master_party_invite(shy.name))).toMatchObject({ status: mate.gm.master_status_unauthorized, error: "not_leader" });

    await lead.must((gm) => gm.master_party_leave());
    const handover = await mate.event(mate.gm.master_type_party_update, { reason: "left" });
    expect(handover).toMatchObject({ username: lead.name, leader: mate.name, members: [mate.name] });
    expect(lead.gm.master_get_party()).toBe(0);
    await mate.must((gm) => gm.master_party_leave());
    expect(await mate.ask((gm) => gm.master_party_leave())).toMatchObject({ error: "not_in_party" });
    expect(await shy.ask((gm) => gm.master_party_accept(id))).toMatchObject({ status: shy.gm.master_status_not_found });
  });
});

describe("master presence", () => {
  it("lists who is online and in which room, and tells subscribers", async () => {
    const watcher = await loggedIn(network, "watch");
    await watcher.must((gm) => gm.master_presence_subscribe(true));
    const arrival = await loggedIn(network, "arrive");
    expect(await watcher.event(watcher.gm.master_type_presence, { username: arrival.name })).toMatchObject({ online: true, room_id: 0 });
    const room = await arrival.must((gm) => gm.master_room_create("presence", 2, 7200));
    expect(await watcher.event(watcher.gm.master_type_presence, { username: arrival.name })).toMatchObject({ online: true, room_id: room.room_id });
    const listed = await watcher.must((gm) => gm.master_presence_list({ username: arrival.name }));
    expect(listed.total).toBe(1);
    expect((listed.users as unknown[])[0]).toMatchObject({ username: arrival.name, room_id: room.room_id, guest: false });
    await arrival.must((gm) => gm.master_logout());
    expect(await watcher.event(watcher.gm.master_type_presence, { username: arrival.name, online: false })).toBeDefined();
  });
});

describe("master requests the server cannot serve", () => {
  it("answers an unknown opcode and malformed bodies with a status, never silence", async () => {
    const p = player(network);
    expect(await p.ask((gm) => gm.master_request(999, {}))).toMatchObject({ status: p.gm.master_status_unknown_operation, error: "unknown_operation", op: 999 });
    expect(await p.ask((gm) => gm.master_request(gm.master_op_login, "{not json"))).toMatchObject({ status: p.gm.master_status_invalid, error: "invalid_body" });
    expect(await p.ask((gm) => gm.master_request(gm.master_op_login, { username: "ab" }))).toMatchObject({ status: p.gm.master_status_invalid });
    expect(await p.ask((gm) => gm.master_request(gm.master_op_register, { username: "someone", password: "long enough", admin: true }))).toMatchObject({ error: "invalid_body" });
    expect(await p.ask((gm) => gm.master_request(gm.master_op_room_list, "[1,2,3]"))).toMatchObject({ error: "invalid_body" });
    // The connection is still fine afterwards.
    await p.must((gm) => gm.master_room_list());
  });
});
