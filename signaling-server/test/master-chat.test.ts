/**
 * Chat against the real server over real WebSockets (PROTOCOL.md §16.5): each channel reaches
 * exactly its recipients — checked by a marker message everyone gets afterwards, which must be
 * the first CHAT a non-recipient sees — whispers find names case-insensitively, the per-connection
 * rate limit, and app-key isolation.
 */
import { MasterStatus } from "@gmnet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import type { ServerClock } from "../src/server-context.js";
import { FAST_HASHES, startServer } from "./support/harness.js";
import { MasterClient, MasterEvent, MasterOp, guests, uniqueAppKey } from "./support/master-client.js";


/** A real clock whose monotonic time can be pushed forward (the chat limiter's only time source). */
let skew = 0;
const clock: ServerClock = {
  now: () => performance.now() + skew,
  wallNow: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

let server: GmnetServer;
beforeAll(async () => {
  server = await startServer({ ...FAST_HASHES, chatRateLimit: 3, clock });
});
afterAll(() => server.close());

const say = (client: MasterClient, channel: string, text: string, to?: string) => client.must(MasterOp.CHAT_SEND, { channel, text, ...(to === undefined ? {} : { to }) });

/** The texts of the CHAT events a client got, oldest first, up to and including `marker`. */
async function chatsUntil(client: MasterClient, marker: string): Promise<string[]> {
  const texts: string[] = [];
  for (;;) {
    const text = (await client.nextEvent(MasterEvent.CHAT)).text as string;
    texts.push(text);
    if (text === marker) return texts;
  }
}

describe("master chat", () => {
  it("delivers each channel to exactly its recipients", async () => {
    const appKey = uniqueAppKey("chat");
    const [ann, bob, cid, dan, eve] = (await guests(server, appKey, 5)) as [MasterClient, MasterClient, MasterClient, MasterClient, MasterClient];
    const roomId = (await ann.must(MasterOp.ROOM_CREATE, { name: "chat room", maxPlayers: 4, port: 7100 })).roomId as number;
    await bob.must(MasterOp.ROOM_JOIN, { roomId });
    const partyId = (await cid.must(MasterOp.PARTY_CREATE)).partyId as number;
    await cid.must(MasterOp.PARTY_INVITE, { username: dan.username });
    await dan.must(MasterOp.PARTY_ACCEPT, { partyId });
    // Someone not logged in, of the same app key, hears nothing at all.
    const anonymous = await MasterClient.connect(server, { appKey });

    const before = Date.now();
    await say(ann, "room", "room: ann");
    await say(cid, "party", "party: cid");
    await say(bob, "whisper", "whisper: bob to dan", dan.username);
    await say(dan, "global", "global: dan");

    expect(await chatsUntil(ann, "global: dan")).toEqual(["room: ann", "global: dan"]);
    expect(await chatsUntil(bob, "global: dan")).toEqual(["room: ann", "global: dan"]);
    expect(await chatsUntil(cid, "global: dan")).toEqual(["party: cid", "global: dan"]);
    expect(await chatsUntil(dan, "global: dan")).toEqual(["party: cid", "whisper: bob to dan", "global: dan"]);
    expect(await chatsUntil(eve, "global: dan")).toEqual(["global: dan"]);

    // The bodies, as the recipients see them.
    const time = expect.any(Number);
    await say(bob, "room", "r2");
    const room = await ann.nextEvent(MasterEvent.CHAT);
    expect(room).toEqual({ channel: "room", from: bob.username, fromId: bob.accountId, character: "", text: "r2", to: "", roomId, partyId: 0, time });
    expect(room.time as number).toBeGreaterThanOrEqual(before - 1000);
    expect(room.time as number).toBeLessThanOrEqual(Date.now() + 1000);
    await say(dan, "party", "p2");
    expect(await cid.nextEvent(MasterEvent.CHAT)).toEqual({ channel: "party", from: dan.username, fromId: dan.accountId, character: "", text: "p2", to: "", roomId: 0, partyId, time });
    expect(await dan.nextEvent(MasterEvent.CHAT)).toMatchObject({ text: "p2" });
    // Whispers find the name case-insensitively and carry it as the account spells it.
    await say(eve, "whisper", "w2", dan.username.toUpperCase());
    expect(await dan.nextEvent(MasterEvent.CHAT)).toEqual({ channel: "whisper", from: eve.username, fromId: eve.accountId, character: "", text: "w2", to: dan.username, roomId: 0, partyId: 0, time });
    await say(eve, "global", "g2");
    expect(await chatsUntil(bob, "g2")).toEqual(["r2", "g2"]);
    expect(await chatsUntil(eve, "g2")).toEqual(["g2"]);
    expect(await chatsUntil(dan, "g2")).toEqual(["g2"]);

    expect(anonymous.received(MasterEvent.CHAT)).toEqual([]);
    for (const client of [ann, bob, cid, dan, eve, anonymous]) client.close();
  });

  it("refuses chat it cannot deliver, and malformed chat", async () => {
    const appKey = uniqueAppKey("refuse");
    const [lone] = await guests(server, appKey, 1);
    expect(await lone!.request(MasterOp.CHAT_SEND, { channel: "room", text: "anyone?" })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "not_in_room" } });
    expect(await lone!.request(MasterOp.CHAT_SEND, { channel: "party", text: "anyone?" })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "not_in_party" } });
    expect(await lone!.request(MasterOp.CHAT_SEND, { channel: "whisper", text: "hi", to: "guest-nobody00" })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "user_not_found" } });
    for (const body of [
      { channel: "whisper", text: "hi" },
      { channel: "global", text: "hi", to: lone!.username },
      { channel: "room", text: "hi", to: "" },
      { channel: "global", text: "" },
      { channel: "global", text: "x".repeat(501) },
      { channel: "shout", text: "hi" },
      { channel: "global", text: "hi", roomId: 1 },
      { text: "hi" },
    ]) {
      expect(await lone!.request(MasterOp.CHAT_SEND, body), JSON.stringify(body)).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    }
    const anonymous = await MasterClient.connect(server, { appKey });
    expect(await anonymous.request(MasterOp.CHAT_SEND, { channel: "global", text: "hi" })).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_logged_in" } });
    // A whisper to a name that went offline.
    const [gone] = await guests(server, appKey, 1);
    await gone!.must(MasterOp.LOGOUT);
    expect(await lone!.request(MasterOp.CHAT_SEND, { channel: "whisper", text: "hi", to: gone!.username })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "user_not_found" } });
    await say(lone!, "global", "x".repeat(500));
    for (const client of [lone, anonymous, gone]) client!.close();
  });

  it("limits each connection to chatRateLimit messages per 10 s, delivering none beyond it", async () => {
    const appKey = uniqueAppKey("flood");
    const [flooder, other] = (await guests(server, appKey, 2)) as [MasterClient, MasterClient];
    for (let i = 0; i < 3; i++) await say(flooder, "global", `m${i}`);
    expect(await flooder.request(MasterOp.CHAT_SEND, { channel: "global", text: "too many" })).toMatchObject({ status: MasterStatus.RATE_LIMITED, body: { error: "rate_limited" } });
    // The limit is per connection: the other one may still talk.
    await say(other, "global", "marker");
    expect(await chatsUntil(other, "marker")).toEqual(["m0", "m1", "m2", "marker"]);
    // Logging out and in again does not reset the connection's limit.
    await flooder.must(MasterOp.LOGOUT);
    await flooder.guest();
    expect(await flooder.request(MasterOp.CHAT_SEND, { channel: "global", text: "still too many" })).toMatchObject({ status: MasterStatus.RATE_LIMITED });
    // A refused message costs nothing, and time refills the bucket.
    skew += 10_000;
    for (let i = 0; i < 3; i++) await say(flooder, "global", `later${i}`);
    expect(await flooder.request(MasterOp.CHAT_SEND, { channel: "global", text: "again too many" })).toMatchObject({ status: MasterStatus.RATE_LIMITED });
    expect(await chatsUntil(other, "later2")).toEqual(["later0", "later1", "later2"]);
    flooder.close();
    other.close();
  });

  it("keeps apps apart: global chat and whispers stay inside the app key", async () => {
    const [mine, mate] = (await guests(server, uniqueAppKey("mine"), 2)) as [MasterClient, MasterClient];
    const [theirs] = (await guests(server, uniqueAppKey("theirs"), 1)) as [MasterClient];
    await say(mine, "global", "for my app");
    expect(await mine.request(MasterOp.CHAT_SEND, { channel: "whisper", text: "psst", to: theirs.username })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "user_not_found" } });
    await say(theirs, "global", "their marker");
    expect(await chatsUntil(theirs, "their marker")).toEqual(["their marker"]);
    expect(await chatsUntil(mate, "for my app")).toEqual(["for my app"]);
    await say(mine, "global", "my marker");
    expect(await chatsUntil(mate, "my marker")).toEqual(["my marker"]);
    for (const client of [mine, mate, theirs]) client.close();
  });
});
