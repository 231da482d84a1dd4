/**
 * The room registry on its own (PROTOCOL.md §16.4): ids, the rules of create/join/leave/update,
 * the filtered and paged public list, app-key isolation, and that closing leaves nothing behind.
 */
import { describe, expect, it } from "vitest";
import { MAX_ID, randomId } from "../src/master/rooms/ids.js";
import { pageOf } from "../src/master/rooms/paging.js";
import { RoomRegistry } from "../src/master/rooms/room-registry.js";
import { errorOf } from "./support/master-failure.js";

const APP = "app";
const settings = { name: "Room", maxPlayers: 4, port: 7000 };

/** A sequence of values for `random`, then the last one forever. */
function scripted(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

describe("randomId", () => {
  it("draws ids in 1…2³¹−1 and redraws on a collision", () => {
    expect(randomId(() => 0, () => false)).toBe(1);
    expect(randomId(() => 0.999999999999, () => false)).toBe(MAX_ID);
    const taken = new Set([1]);
    expect(randomId(scripted(0, 0.5), (id) => taken.has(id))).toBe(1 + Math.floor(0.5 * MAX_ID));
  });

  it("probes when a broken random keeps colliding", () => {
    const taken = new Set([MAX_ID, 1, 2]);
    expect(randomId(() => 0.999999999999, (id) => taken.has(id))).toBe(3);
  });
});

describe("pageOf", () => {
  it("counts every match and keeps one page of them in order", () => {
    const page = pageOf([1, 2, 3, 4, 5, 6, 7], (n) => n % 2 === 1, (n) => n * 10, 1, 2);
    expect(page).toEqual({ total: 4, offset: 1, items: [30, 50] });
    expect(pageOf([1, 2], () => true, (n) => n, 5, 2)).toEqual({ total: 2, offset: 5, items: [] });
  });
});

describe("RoomRegistry", () => {
  it("creates rooms with the host as the first player and random, distinct ids", () => {
    const rooms = new RoomRegistry<string>(scripted(0.25, 0.25, 0.75));
    const a = rooms.create(APP, "a", "Ann", "10.0.0.1", { ...settings, properties: { mode: "ctf" } });
    const b = rooms.create(APP, "b", "Bob", "10.0.0.2", settings);
    expect(a.id).toBe(1 + Math.floor(0.25 * MAX_ID));
    expect(b.id).toBe(1 + Math.floor(0.75 * MAX_ID));
    expect(rooms.view(a)).toEqual({ roomId: a.id, name: "Room", host: "Ann", players: 1, maxPlayers: 4, hasPassword: false, public: true, properties: { mode: "ctf" } });
    expect(a.ip).toBe("10.0.0.1");
    expect(rooms.roomOf("a")).toBe(a);
  });

  it("lets a member host or be in one room at a time", () => {
    const rooms = new RoomRegistry<string>(Math.random);
    const room = rooms.create(APP, "host", "Host", "10.0.0.1", settings);
    expect(errorOf(() => rooms.create(APP, "host", "Host", "10.0.0.1", settings))).toBe("already_hosting");
    rooms.join(APP, "guest", "Guest", room.id);
    expect(errorOf(() => rooms.create(APP, "guest", "Guest", "10.0.0.2", settings))).toBe("already_in_room");
    expect(errorOf(() => rooms.join(APP, "guest", "Guest", room.id))).toBe("already_in_room");
    expect(errorOf(() => rooms.join(APP, "host", "Host", room.id))).toBe("already_in_room");
  });

  it("checks the password before capacity and compares it exactly", () => {
    const rooms = new RoomRegistry<string>(Math.random);
    const room = rooms.create(APP, "host", "Host", "10.0.0.1", { ...settings, maxPlayers: 2, password: "sesame" });
    expect(rooms.view(room).hasPassword).toBe(true);
    expect(JSON.stringify(room.password)).not.toContain("sesame");
    expect(errorOf(() => rooms.join(APP, "a", "A", room.id))).toBe("wrong_password");
    expect(errorOf(() => rooms.join(APP, "a", "A", room.id, "Sesame"))).toBe("wrong_password");
    expect(errorOf(() => rooms.join(APP, "a", "A", room.id, "sesame "))).toBe("wrong_password");
    rooms.join(APP, "a", "A", room.id, "sesame");
    expect(errorOf(() => rooms.join(APP, "b", "B", room.id, "wrong"))).toBe("wrong_password");
    expect(errorOf(() => rooms.join(APP, "b", "B", room.id, "sesame"))).toBe("room_full");
    expect(errorOf(() => rooms.join(APP, "b", "B", 12345))).toBe("room_not_found");
  });

  it("keeps app keys apart: other apps' rooms cannot be got, listed or joined", () => {
    const rooms = new RoomRegistry<string>(Math.random);
    const room = rooms.create("one", "host", "Host", "10.0.0.1", settings);
    expect(rooms.get("one", room.id)).toBe(room);
    expect(rooms.get("two", room.id)).toBeUndefined();
    expect(rooms.list("two").total).toBe(0);
    expect(errorOf(() => rooms.join("two", "x", "X", room.id))).toBe("room_not_found");
  });

  it("lists public rooms oldest first with filters, paging and a total of every match", () => {
    const rooms = new RoomRegistry<string>(Math.random);
    const made = [
      rooms.create(APP, "h0", "H0", "ip", { name: "Dragon Cave", maxPlayers: 2, port: 1, properties: { mode: "ctf", ranked: true } }),
      rooms.create(APP, "h1", "H1", "ip", { name: "cave of wonders", maxPlayers: 1, port: 1, properties: { mode: "ctf", ranked: false } }),
      rooms.create(APP, "h2", "H2", "ip", { name: "Locked cave", maxPlayers: 8, port: 1, password: "pw", properties: { mode: "dm", level: 3 } }),
      rooms.create(APP, "h3", "H3", "ip", { name: "Secret cave", maxPlayers: 8, port: 1, public: false }),
      rooms.create(APP, "h4", "H4", "ip", { name: "Field", maxPlayers: 8, port: 1, properties: { level: 3 } }),
    ];
    const names = (filter: Parameters<typeof rooms.list>[1]) => rooms.list(APP, filter).items.map((room) => room.name);
    expect(names({})).toEqual(["Dragon Cave", "cave of wonders", "Locked cave", "Field"]);
    expect(names({ name: "CAVE" })).toEqual(["Dragon Cave", "cave of wonders", "Locked cave"]);
    expect(names({ notFull: true })).toEqual(["Dragon Cave", "Locked cave", "Field"]);
    expect(names({ noPassword: true })).toEqual(["Dragon Cave", "cave of wonders", "Field"]);
    expect(names({ notFull: false, noPassword: false })).toHaveLength(4);
    expect(names({ properties: { mode: "ctf" } })).toEqual(["Dragon Cave", "cave of wonders"]);
    expect(names({ properties: { mode: "ctf", ranked: false } })).toEqual(["cave of wonders"]);
    expect(names({ properties: { level: 3 } })).toEqual(["Locked cave", "Field"]);
    expect(names({ properties: { level: "3" } })).toEqual([]);
    expect(names({ properties: { toString: "x" } })).toEqual([]);
    const page = rooms.list(APP, { name: "cave", offset: 1, limit: 1 });
    expect(page.total).toBe(3);
    expect(page.offset).toBe(1);
    expect(page.items.map((room) => room.roomId)).toEqual([made[1]!.id]);
    // A private room is not listed, but can be got by id.
    expect(rooms.get(APP, made[3]!.id)?.name).toBe("Secret cave");
  });

  it("lets only the host update, keeps maxPlayers ≥ players, and replaces properties whole", () => {
    const rooms = new RoomRegistry<string>(Math.random);
    const room = rooms.create(APP, "host", "Host", "ip", { ...settings, properties: { a: 1, b: 2 } });
    rooms.join(APP, "m1", "M1", room.id);
    rooms.join(APP, "m2", "M2", room.id);
    expect(errorOf(() => rooms.update("m1", { name: "mine" }))).toBe("not_host");
    expect(errorOf(() => rooms.update("nobody", { name: "mine" }))).toBe("not_in_room");
    expect(errorOf(() => rooms.update("host", { maxPlayers: 2 }))).toBe("invalid_body");
    rooms.update("host", { maxPlayers: 3, name: "Renamed", public: false, properties: { c: "x" }, password: "pw" });
    expect(rooms.view(room)).toMatchObject({ name: "Renamed", maxPlayers: 3, public: false, properties: { c: "x" }, hasPassword: true, players: 3 });
    rooms.update("host", { password: "" });
    expect(rooms.view(room).hasPassword).toBe(false);
    rooms.update("host", {});
    expect(rooms.view(room)).toMatchObject({ name: "Renamed", maxPlayers: 3, properties: { c: "x" } });
  });

  it("copies properties, so the caller's object cannot change a room", () => {
    const rooms = new RoomRegistry<string>(Math.random);
    const properties: Record<string, string> = { mode: "ctf" };
    const room = rooms.create(APP, "host", "Host", "ip", { ...settings, properties });
    properties.mode = "dm";
    expect(room.properties).toEqual({ mode: "ctf" });
  });

  it("a member leaving keeps the room; the host leaving closes it and frees everyone", () => {
    const rooms = new RoomRegistry<string>(Math.random);
    const room = rooms.create(APP, "host", "Host", "ip", settings);
    rooms.join(APP, "m1", "M1", room.id);
    rooms.join(APP, "m2", "M2", room.id);
    expect(rooms.leave("m1")).toEqual({ room, closed: false, others: [] });
    expect(rooms.view(room).players).toBe(2);
    expect(rooms.leave("m1")).toBeUndefined();
    const closed = rooms.leave("host");
    expect(closed).toMatchObject({ closed: true, others: ["m2"] });
    expect(rooms.get(APP, room.id)).toBeUndefined();
    expect(rooms.roomOf("m2")).toBeUndefined();
    expect(rooms.list(APP).total).toBe(0);
    expect(rooms.size).toBe(0);
    expect(rooms.memberCount).toBe(0);
    // Everyone is free to host again, and the member can create its own room.
    rooms.create(APP, "m2", "M2", "ip", settings);
    expect(rooms.size).toBe(1);
  });
});
