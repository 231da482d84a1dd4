/**
 * Rooms against the real server over real WebSockets (PROTOCOL.md §16.4): create stamped with
 * the host's virtual IP, the filtered and paged public list, join rules, host-only updates, the
 * events members hear, the room closing with its host, and app-key isolation.
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

const room = (overrides: Record<string, unknown> = {}) => ({ name: "Dragon cave", maxPlayers: 4, port: 7000, ...overrides });

describe("master rooms", () => {
  it("creates a room at the host's virtual IP, whatever the body says", async () => {
    const appKey = uniqueAppKey("rooms");
    const host = await MasterClient.connect(server, { appKey });
    const session = await host.guest();
    expect(await host.request(MasterOp.ROOM_CREATE, room({ ip: "1.2.3.4" }))).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    const created = await host.must(MasterOp.ROOM_CREATE, room({ properties: { mode: "ctf", ranked: true, level: 3 } }));
    expect(created).toEqual({
      roomId: expect.any(Number),
      name: "Dragon cave",
      host: host.username,
      players: 1,
      maxPlayers: 4,
      hasPassword: false,
      public: true,
      properties: { mode: "ctf", ranked: true, level: 3 },
      ip: session.ip,
      port: 7000,
    });
    const id = created.roomId as number;
    expect(id).toBeGreaterThanOrEqual(1);
    expect(id).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(await host.request(MasterOp.ROOM_CREATE, room())).toMatchObject({ status: MasterStatus.FAILED, body: { error: "already_hosting" } });
    const { ip: _ip, port: _port, ...view } = created;
    expect(await host.must(MasterOp.ROOM_GET, { roomId: id })).toEqual(view);
    host.close();
  });

  it("lists public rooms of the app key oldest first, with filters, paging and a total", async () => {
    const appKey = uniqueAppKey("list");
    const hosts = await guests(server, appKey, 6);
    const specs = [
      room({ name: "Dragon Cave", maxPlayers: 8, properties: { mode: "ctf", tag: "x" } }),
      room({ name: "cave of wonders", maxPlayers: 1, properties: { mode: "ctf" } }),
      room({ name: "Locked cave", password: "sesame", properties: { mode: "dm", tag: "x" } }),
      room({ name: "Secret cave", public: false, properties: { tag: "x" } }),
      room({ name: "Field", properties: { tag: "x", level: 2 } }),
      room({ name: "Meadow", properties: { tag: "x", level: 2, open: true } }),
    ];
    const ids: number[] = [];
    for (const [i, spec] of specs.entries()) ids.push((await hosts[i]!.must(MasterOp.ROOM_CREATE, spec)).roomId as number);

    // Listing needs no login.
    const viewer = await MasterClient.connect(server, { appKey });
    const names = async (filter: Record<string, unknown>) => ((await viewer.must(MasterOp.ROOM_LIST, filter)).rooms as Array<{ name: string }>).map((r) => r.name);
    expect(await names({})).toEqual(["Dragon Cave", "cave of wonders", "Locked cave", "Field", "Meadow"]);
    expect(await names({ name: "CAVE" })).toEqual(["Dragon Cave", "cave of wonders", "Locked cave"]);
    expect(await names({ notFull: true })).toEqual(["Dragon Cave", "Locked cave", "Field", "Meadow"]);
    expect(await names({ noPassword: true })).toEqual(["Dragon Cave", "cave of wonders", "Field", "Meadow"]);
    expect(await names({ notFull: false, noPassword: false })).toHaveLength(5);
    expect(await names({ properties: { mode: "ctf" } })).toEqual(["Dragon Cave", "cave of wonders"]);
    expect(await names({ properties: { tag: "x", level: 2 } })).toEqual(["Field", "Meadow"]);
    expect(await names({ properties: { level: "2" } })).toEqual([]);
    expect(await names({ properties: { open: true }, name: "mead" })).toEqual(["Meadow"]);

    const first = await viewer.must(MasterOp.ROOM_LIST, { properties: { tag: "x" }, limit: 2 });
    const second = await viewer.must(MasterOp.ROOM_LIST, { properties: { tag: "x" }, limit: 2, offset: 2 });
    const beyond = await viewer.must(MasterOp.ROOM_LIST, { properties: { tag: "x" }, offset: 10 });
    expect(first).toMatchObject({ total: 4, offset: 0 });
    expect(second).toMatchObject({ total: 4, offset: 2 });
    expect(beyond).toEqual({ total: 4, offset: 10, rooms: [] });
    const paged = [...(first.rooms as Array<{ roomId: number }>), ...(second.rooms as Array<{ roomId: number }>)].map((r) => r.roomId);
    expect(paged).toEqual([ids[0], ids[2], ids[4], ids[5]]);
    expect((first.rooms as unknown[])[0]).toEqual({ roomId: ids[0], name: "Dragon Cave", host: hosts[0]!.username, players: 1, maxPlayers: 8, hasPassword: false, public: true, properties: { mode: "ctf", tag: "x" } });

    // The private room is not listed, but anyone of the app key can get it by id.
    expect(await viewer.must(MasterOp.ROOM_GET, { roomId: ids[3] })).toMatchObject({ name: "Secret cave", public: false });
    expect(await viewer.request(MasterOp.ROOM_GET, { roomId: 1 })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "room_not_found" } });

    for (const bad of [{ limit: 0 }, { limit: 101 }, { offset: -1 }, { offset: 1.5 }, { notFull: "yes" }, { sort: "name" }, { name: "x".repeat(65) }]) {
      expect(await viewer.request(MasterOp.ROOM_LIST, bad)).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    }
    for (const client of [...hosts, viewer]) client.close();
  });

  it("joins with the host's address, announces it to everyone in the room, and enforces password and capacity", async () => {
    const appKey = uniqueAppKey("join");
    const [host, a, b] = await guests(server, appKey, 3);
    const created = await host!.must(MasterOp.ROOM_CREATE, room({ maxPlayers: 2, port: 9123, password: "sesame" }));
    const roomId = created.roomId as number;
    expect(created.hasPassword).toBe(true);

    expect(await a!.request(MasterOp.ROOM_JOIN, { roomId })).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "wrong_password" } });
    expect(await a!.request(MasterOp.ROOM_JOIN, { roomId, password: "Sesame" })).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "wrong_password" } });
    expect(await a!.request(MasterOp.ROOM_JOIN, { roomId: 12345 })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "room_not_found" } });
    const joined = await a!.must(MasterOp.ROOM_JOIN, { roomId, password: "sesame" });
    expect(joined).toMatchObject({ roomId, players: 2, maxPlayers: 2, host: host!.username, ip: host!.session.ip, port: 9123 });

    const expected = { roomId, players: 2, reason: "joined", username: a!.username, host: host!.username };
    expect(await host!.nextEvent(MasterEvent.ROOM_UPDATE)).toMatchObject(expected);
    expect(await a!.nextEvent(MasterEvent.ROOM_UPDATE)).toMatchObject(expected);

    expect(await b!.request(MasterOp.ROOM_JOIN, { roomId, password: "sesame" })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "room_full" } });
    expect(await a!.request(MasterOp.ROOM_JOIN, { roomId, password: "sesame" })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "already_in_room" } });
    expect(await a!.request(MasterOp.ROOM_CREATE, room())).toMatchObject({ status: MasterStatus.FAILED, body: { error: "already_in_room" } });
    expect(await host!.request(MasterOp.ROOM_JOIN, { roomId })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "already_in_room" } });

    // Without a login: joining needs one, listing and getting do not.
    const anonymous = await MasterClient.connect(server, { appKey });
    expect(await anonymous.request(MasterOp.ROOM_JOIN, { roomId, password: "sesame" })).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_logged_in" } });
    expect(await anonymous.request(MasterOp.ROOM_CREATE, room())).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_logged_in" } });
    expect((await anonymous.must(MasterOp.ROOM_LIST)).total).toBe(1);
    expect(await anonymous.must(MasterOp.ROOM_GET, { roomId })).toMatchObject({ players: 2 });

    // A member leaving: everyone hears it (the leaver too), and the seat is free again.
    await a!.must(MasterOp.ROOM_LEAVE);
    const left = { roomId, players: 1, reason: "left", username: a!.username };
    expect(await host!.nextEvent(MasterEvent.ROOM_UPDATE)).toMatchObject(left);
    expect(await a!.nextEvent(MasterEvent.ROOM_UPDATE)).toMatchObject(left);
    expect(await a!.request(MasterOp.ROOM_LEAVE)).toMatchObject({ status: MasterStatus.FAILED, body: { error: "not_in_room" } });
    await b!.must(MasterOp.ROOM_JOIN, { roomId, password: "sesame" });
    for (const client of [host, a, b, anonymous]) client!.close();
  });

  it("lets only the host update the room, and tells every member", async () => {
    const appKey = uniqueAppKey("update");
    const [host, member, outsider] = await guests(server, appKey, 3);
    const roomId = (await host!.must(MasterOp.ROOM_CREATE, room({ properties: { a: 1, b: "two" } }))).roomId as number;
    await member!.must(MasterOp.ROOM_JOIN, { roomId });
    await host!.nextEvent(MasterEvent.ROOM_UPDATE);
    await member!.nextEvent(MasterEvent.ROOM_UPDATE);

    expect(await member!.request(MasterOp.ROOM_UPDATE, { name: "mine now" })).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_host" } });
    expect(await outsider!.request(MasterOp.ROOM_UPDATE, { name: "mine now" })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "not_in_room" } });
    expect(await host!.request(MasterOp.ROOM_UPDATE, { maxPlayers: 1 })).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    expect(await host!.request(MasterOp.ROOM_UPDATE, { port: 1 })).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });

    const updated = await host!.must(MasterOp.ROOM_UPDATE, { name: "Renamed", maxPlayers: 2, public: false, password: "pw", properties: { c: false } });
    const expected = { roomId, name: "Renamed", players: 2, maxPlayers: 2, public: false, hasPassword: true, properties: { c: false } };
    expect(updated).toEqual({ ...expected, host: host!.username });
    for (const client of [host!, member!]) expect(await client.nextEvent(MasterEvent.ROOM_UPDATE)).toMatchObject({ ...expected, reason: "updated", username: host!.username });
    expect((await outsider!.must(MasterOp.ROOM_LIST)).total).toBe(0);

    // "" removes the password; the outsider (who never got an update) can join once there is room.
    await host!.must(MasterOp.ROOM_UPDATE, { password: "", maxPlayers: 3 });
    expect(await outsider!.must(MasterOp.ROOM_JOIN, { roomId })).toMatchObject({ hasPassword: false, players: 3 });
    // The outsider's first ROOM_UPDATE is its own join: it heard nothing of the room before.
    expect(await outsider!.nextEvent(MasterEvent.ROOM_UPDATE)).toMatchObject({ reason: "joined", username: outsider!.username });
    for (const client of [host, member, outsider]) client!.close();
  });

  it("closes the room when the host disconnects: members hear ROOM_CLOSED and are out of it", async () => {
    const appKey = uniqueAppKey("close");
    const [host, m1, m2] = await guests(server, appKey, 3);
    const roomId = (await host!.must(MasterOp.ROOM_CREATE, room())).roomId as number;
    await m1!.must(MasterOp.ROOM_JOIN, { roomId });
    await m2!.must(MasterOp.ROOM_JOIN, { roomId });
    host!.close();
    for (const member of [m1!, m2!]) expect(await member.nextEvent(MasterEvent.ROOM_CLOSED)).toEqual({ roomId, reason: "host_left" });
    expect(await m1!.request(MasterOp.ROOM_GET, { roomId })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "room_not_found" } });
    expect(await m1!.must(MasterOp.ROOM_LIST)).toEqual({ total: 0, offset: 0, rooms: [] });
    expect(await m1!.request(MasterOp.ROOM_LEAVE)).toMatchObject({ body: { error: "not_in_room" } });
    // Out of it: free to host their own.
    await m1!.must(MasterOp.ROOM_CREATE, room());
    m1!.close();
    m2!.close();
  });

  it("closes the room when the host logs out or its login moves to another connection", async () => {
    const appKey = uniqueAppKey("logout");
    const [host, member] = await guests(server, appKey, 2);
    let roomId = (await host!.must(MasterOp.ROOM_CREATE, room())).roomId as number;
    await member!.must(MasterOp.ROOM_JOIN, { roomId });
    await host!.must(MasterOp.LOGOUT);
    expect(await member!.nextEvent(MasterEvent.ROOM_CLOSED)).toEqual({ roomId, reason: "host_left" });
    expect((await member!.must(MasterOp.ROOM_LIST)).total).toBe(0);

    // The host logs in again; the same account resumed on another connection ends this login.
    const session = await host!.guest();
    roomId = (await host!.must(MasterOp.ROOM_CREATE, room())).roomId as number;
    await member!.must(MasterOp.ROOM_JOIN, { roomId });
    const elsewhere = await MasterClient.connect(server, { appKey });
    await elsewhere.must(MasterOp.RESUME, { token: session.token as string });
    expect(await member!.nextEvent(MasterEvent.ROOM_CLOSED)).toEqual({ roomId, reason: "host_left" });
    expect(await host!.nextEvent(MasterEvent.SESSION)).toMatchObject({ state: "ended", reason: "replaced" });
    expect(await host!.request(MasterOp.ROOM_LEAVE)).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_logged_in" } });
    for (const client of [host, member, elsewhere]) client!.close();
  });

  it("keeps apps apart: another app's rooms cannot be listed, got or joined", async () => {
    const [mine] = await guests(server, uniqueAppKey("mine"), 1);
    const [theirs] = await guests(server, uniqueAppKey("theirs"), 1);
    const roomId = (await mine!.must(MasterOp.ROOM_CREATE, room())).roomId as number;
    expect((await theirs!.must(MasterOp.ROOM_LIST)).total).toBe(0);
    expect(await theirs!.request(MasterOp.ROOM_GET, { roomId })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "room_not_found" } });
    expect(await theirs!.request(MasterOp.ROOM_JOIN, { roomId })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "room_not_found" } });
    expect((await mine!.must(MasterOp.ROOM_LIST)).total).toBe(1);
    mine!.close();
    theirs!.close();
  });

  it("refuses bodies that break the schema", async () => {
    const [host] = await guests(server, uniqueAppKey("schema"), 1);
    const tooMany = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
    const bad = [
      room({ name: "" }),
      room({ name: "x".repeat(65) }),
      room({ maxPlayers: 0 }),
      room({ maxPlayers: 1001 }),
      room({ maxPlayers: 2.5 }),
      room({ port: 0 }),
      room({ port: 65536 }),
      room({ password: "" }),
      room({ password: "x".repeat(65) }),
      room({ public: "yes" }),
      room({ properties: tooMany }),
      room({ properties: { ["k".repeat(33)]: 1 } }),
      room({ properties: { "": 1 } }),
      room({ properties: { long: "x".repeat(257) } }),
      room({ properties: { nested: { a: 1 } } }),
      room({ properties: { list: [1] } }),
      room({ properties: { nothing: null } }),
      { name: "no port", maxPlayers: 2 },
    ];
    for (const body of bad) {
      const reply = await host!.request(MasterOp.ROOM_CREATE, body);
      expect(reply, JSON.stringify(body)).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    }
    expect(await host!.request(MasterOp.ROOM_JOIN, { roomId: 0 })).toMatchObject({ status: MasterStatus.INVALID });
    expect(await host!.request(MasterOp.ROOM_GET, { roomId: 2 ** 31 })).toMatchObject({ status: MasterStatus.INVALID });
    expect(await host!.request(MasterOp.ROOM_LEAVE, { now: true })).toMatchObject({ status: MasterStatus.INVALID });
    // The limits themselves are fine.
    const edge = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`${"k".repeat(30)}${String(i).padStart(2, "0")}`, "v".repeat(256)]));
    await host!.must(MasterOp.ROOM_CREATE, { name: "x".repeat(64), maxPlayers: 1000, port: 65535, password: "p".repeat(64), public: true, properties: edge });
    host!.close();
  });
});
