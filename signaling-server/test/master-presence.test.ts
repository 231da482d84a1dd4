/**
 * Presence against the real server over real WebSockets (PROTOCOL.md §16.7): who is online in
 * login order with room and party, the prefix filter and paging, and the events subscribers get
 * on login, logout, disconnect and room changes — only for their own app key.
 */
import { MasterStatus } from "@gmnet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { FAST_HASHES, startServer } from "./support/harness.js";
import { MasterClient, MasterEvent, MasterOp, guests, uniqueAppKey } from "./support/master-client.js";

let server: GmnetServer;
beforeAll(async () => {
  server = await startServer({ ...FAST_HASHES });
});
afterAll(() => server.close());

const presence = (client: MasterClient, online: boolean, roomId = 0) => ({ username: client.username, accountId: client.accountId, online, roomId, characterId: 0, character: "" });

describe("master presence", () => {
  it("lists the app's logged-in accounts in login order, with room and party, filtered and paged", async () => {
    const appKey = uniqueAppKey("list");
    const users: MasterClient[] = [];
    for (let i = 0; i < 4; i++) users.push(...(await guests(server, appKey, 1)));
    const [a, b, c, d] = users as [MasterClient, MasterClient, MasterClient, MasterClient];
    const roomId = (await a.must(MasterOp.ROOM_CREATE, { name: "r", maxPlayers: 4, port: 1 })).roomId as number;
    await b.must(MasterOp.ROOM_JOIN, { roomId });
    const partyId = (await c.must(MasterOp.PARTY_CREATE)).partyId as number;
    // Someone of the app key who is not logged in can list, and is not listed.
    const viewer = await MasterClient.connect(server, { appKey });
    const all = await viewer.must(MasterOp.PRESENCE_LIST);
    expect(all).toEqual({
      total: 4,
      offset: 0,
      users: [
        { username: a.username, accountId: a.accountId, guest: true, roomId, partyId: 0, characterId: 0, character: "", location: "", position: null },
        { username: b.username, accountId: b.accountId, guest: true, roomId, partyId: 0, characterId: 0, character: "", location: "", position: null },
        { username: c.username, accountId: c.accountId, guest: true, roomId: 0, partyId, characterId: 0, character: "", location: "", position: null },
        { username: d.username, accountId: d.accountId, guest: true, roomId: 0, partyId: 0, characterId: 0, character: "", location: "", position: null },
      ],
    });
    const names = async (body: Record<string, unknown>) => ((await viewer.must(MasterOp.PRESENCE_LIST, body)).users as Array<{ username: string }>).map((user) => user.username);
    expect(await names({ username: "GUEST-" })).toEqual(users.map((user) => user.username));
    expect(await names({ username: c.username.toUpperCase() })).toEqual([c.username]);
    expect(await names({ username: c.username.slice(1) })).toEqual([]);
    expect(await names({ username: "" })).toHaveLength(4);
    const page = await viewer.must(MasterOp.PRESENCE_LIST, { offset: 1, limit: 2 });
    expect(page.total).toBe(4);
    expect(page.offset).toBe(1);
    expect((page.users as Array<{ username: string }>).map((user) => user.username)).toEqual([b.username, c.username]);

    // Logged out or gone: not listed.
    await b.must(MasterOp.LOGOUT);
    d.close();
    await expect.poll(async () => (await viewer.must(MasterOp.PRESENCE_LIST)).total).toBe(2);
    expect(await names({})).toEqual([a.username, c.username]);

    for (const bad of [{ limit: 0 }, { limit: 101 }, { offset: -1 }, { username: 3 }, { everyone: true }]) {
      expect(await viewer.request(MasterOp.PRESENCE_LIST, bad)).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    }
    // Another app sees none of them.
    const stranger = await MasterClient.connect(server, { appKey: uniqueAppKey("other") });
    expect((await stranger.must(MasterOp.PRESENCE_LIST)).total).toBe(0);
    for (const client of [...users, viewer, stranger]) client.close();
  });

  it("tells subscribers about logins, room changes, logouts and disconnects", async () => {
    const appKey = uniqueAppKey("subscribe");
    const [watcher, host] = (await guests(server, appKey, 2)) as [MasterClient, MasterClient];
    expect(await watcher.must(MasterOp.PRESENCE_SUBSCRIBE, { enabled: true })).toEqual({});

    const arrival = await MasterClient.connect(server, { appKey });
    await arrival.guest();
    expect(await watcher.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(arrival, true));

    const roomId = (await host.must(MasterOp.ROOM_CREATE, { name: "r", maxPlayers: 4, port: 1 })).roomId as number;
    expect(await watcher.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(host, true, roomId));
    await arrival.must(MasterOp.ROOM_JOIN, { roomId });
    expect(await watcher.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(arrival, true, roomId));
    await arrival.must(MasterOp.ROOM_LEAVE);
    expect(await watcher.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(arrival, true, 0));
    await arrival.must(MasterOp.ROOM_JOIN, { roomId });
    expect(await watcher.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(arrival, true, roomId));

    // The host disconnects: the room closes (the member is in none), then the host is offline.
    host.close();
    expect(await watcher.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(arrival, true, 0));
    expect(await watcher.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(host, false));

    await arrival.must(MasterOp.LOGOUT);
    expect(await watcher.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(arrival, false));

    // Unsubscribed: nothing more. A global chat message is the marker: presence before it would show.
    await watcher.must(MasterOp.PRESENCE_SUBSCRIBE, { enabled: false });
    await arrival.guest();
    await arrival.must(MasterOp.CHAT_SEND, { channel: "global", text: "marker" });
    await watcher.nextEvent(MasterEvent.CHAT);
    expect(watcher.received(MasterEvent.PRESENCE)).toEqual([]);
    for (const client of [watcher, arrival]) client.close();
  });

  it("ends a subscription with its login, and keeps apps apart", async () => {
    const appKey = uniqueAppKey("scope");
    const [watcher, other] = (await guests(server, appKey, 2)) as [MasterClient, MasterClient];
    const [outsider] = (await guests(server, uniqueAppKey("outside"), 1)) as [MasterClient];
    await watcher.must(MasterOp.PRESENCE_SUBSCRIBE, { enabled: true });
    await outsider.must(MasterOp.PRESENCE_SUBSCRIBE, { enabled: true });
    // Twice is the same as once.
    await watcher.must(MasterOp.PRESENCE_SUBSCRIBE, { enabled: true });

    await other.must(MasterOp.LOGOUT);
    expect(await watcher.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(other, false));
    await other.guest();
    expect(await watcher.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(other, true));
    expect(watcher.received(MasterEvent.PRESENCE)).toEqual([]);

    // The outsider's app heard none of it.
    await outsider.must(MasterOp.CHAT_SEND, { channel: "global", text: "marker" });
    await outsider.nextEvent(MasterEvent.CHAT);
    expect(outsider.received(MasterEvent.PRESENCE)).toEqual([]);

    // The watcher's login ends: its subscription goes with it, also for its next login.
    await watcher.must(MasterOp.LOGOUT);
    await watcher.guest();
    await other.must(MasterOp.ROOM_CREATE, { name: "r", maxPlayers: 2, port: 1 });
    await other.must(MasterOp.CHAT_SEND, { channel: "global", text: "marker" });
    await watcher.nextEvent(MasterEvent.CHAT);
    expect(watcher.received(MasterEvent.PRESENCE)).toEqual([]);

    const anonymous = await MasterClient.connect(server, { appKey });
    expect(await anonymous.request(MasterOp.PRESENCE_SUBSCRIBE, { enabled: true })).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_logged_in" } });
    expect(await watcher.request(MasterOp.PRESENCE_SUBSCRIBE, {})).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    for (const client of [watcher, other, outsider, anonymous]) client.close();
  });
});
