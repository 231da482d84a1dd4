/**
 * Nearby players against the real server over real WebSockets and HTTP (PROTOCOL.md §16.7):
 * PRESENCE_SET_LOCATION (a location string and/or a 2D or 3D position, rate-limited per
 * connection), PRESENCE_NEARBY by location or by radius (nearest first, paged), and the location
 * in PRESENCE_LIST's users; it ends with the login.
 */
import { MasterStatus } from "@gmnet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, configFromArgs, defaultConfig, validateConfig } from "../src/config.js";
import type { GmnetServer } from "../src/index.js";
import { FAST_HASHES, startServer } from "./support/harness.js";
import { type Json, MasterClient, MasterOp, guests, uniqueAppKey } from "./support/master-client.js";

const RATE = 5;

let server: GmnetServer;
beforeAll(async () => {
  server = await startServer({ ...FAST_HASHES, locationRateLimit: RATE });
});
afterAll(() => server.close());

const names = (body: Json): string[] => (body.users as Array<{ username: string }>).map((user) => user.username);

describe("nearby players", () => {
  it("sets a location and a position, shows them in presence, and finds players at the same location", async () => {
    const appKey = uniqueAppKey("nearby");
    const [ann, bob, cid, dan] = await guests(server, appKey, 4);
    expect(await ann!.must(MasterOp.PRESENCE_SET_LOCATION, { location: "Ashen Vale", x: 1, y: 2 })).toEqual({ location: "Ashen Vale", position: { x: 1, y: 2 } });
    expect(await bob!.must(MasterOp.PRESENCE_SET_LOCATION, { location: "Ashen Vale", x: 4, y: 6, z: 0 })).toEqual({ location: "Ashen Vale", position: { x: 4, y: 6, z: 0 } });
    expect(await cid!.must(MasterOp.PRESENCE_SET_LOCATION, { location: "ashen vale" })).toEqual({ location: "ashen vale", position: null });

    expect((await dan!.must(MasterOp.PRESENCE_LIST, { username: ann!.username })).users).toEqual([
      { username: ann!.username, accountId: ann!.accountId, guest: true, roomId: 0, partyId: 0, characterId: 0, character: "", location: "Ashen Vale", position: { x: 1, y: 2 } },
    ]);
    // The same location string exactly (case counts); the caller is not in its own answer.
    const vale = await dan!.must(MasterOp.PRESENCE_NEARBY, { location: "Ashen Vale" });
    expect(vale).toMatchObject({ total: 2, offset: 0 });
    expect(names(vale)).toEqual([ann!.username, bob!.username]);
    expect(names(await ann!.must(MasterOp.PRESENCE_NEARBY, { location: "Ashen Vale" }))).toEqual([bob!.username]);
    expect(names(await ann!.must(MasterOp.PRESENCE_NEARBY, { location: "ashen vale" }))).toEqual([cid!.username]);
    const page = await dan!.must(MasterOp.PRESENCE_NEARBY, { location: "Ashen Vale", offset: 1, limit: 1 });
    expect([page.total, names(page)]).toEqual([2, [bob!.username]]);

    // A new location replaces the whole of the old one; an empty body clears it.
    await bob!.must(MasterOp.PRESENCE_SET_LOCATION, { location: "Frostpeak" });
    expect(names(await dan!.must(MasterOp.PRESENCE_NEARBY, { location: "Ashen Vale" }))).toEqual([ann!.username]);
    expect(await ann!.must(MasterOp.PRESENCE_SET_LOCATION, {})).toEqual({ location: "", position: null });
    expect((await dan!.must(MasterOp.PRESENCE_LIST, { username: ann!.username })).users).toMatchObject([{ location: "", position: null }]);
    for (const client of [ann, bob, cid, dan]) client!.close();
  });

  it("finds players within a radius of a position, nearest first, in 2D or 3D", async () => {
    const appKey = uniqueAppKey("radius");
    const [me, near, far, high, off] = await guests(server, appKey, 5);
    await near!.must(MasterOp.PRESENCE_SET_LOCATION, { x: 3, y: 4 });
    await far!.must(MasterOp.PRESENCE_SET_LOCATION, { x: -6, y: 8 });
    await high!.must(MasterOp.PRESENCE_SET_LOCATION, { x: 0, y: 0, z: 7 });
    await off!.must(MasterOp.PRESENCE_SET_LOCATION, { location: "nowhere special" });
    await me!.must(MasterOp.PRESENCE_SET_LOCATION, { x: 0, y: 0 });

    // In the plane, z is ignored: high is at distance 0.
    const flat = await me!.must(MasterOp.PRESENCE_NEARBY, { x: 0, y: 0, radius: 10 });
    expect(flat.total).toBe(3);
    expect(flat.users).toEqual([
      expect.objectContaining({ username: high!.username, distance: 0, position: { x: 0, y: 0, z: 7 } }),
      expect.objectContaining({ username: near!.username, distance: 5 }),
      expect.objectContaining({ username: far!.username, distance: 10 }),
    ]);
    // With z, a position without one is at z 0.
    const deep = await me!.must(MasterOp.PRESENCE_NEARBY, { x: 0, y: 0, z: 0, radius: 6 });
    expect(deep.users).toEqual([expect.objectContaining({ username: near!.username, distance: 5 })]);
    expect(names(await me!.must(MasterOp.PRESENCE_NEARBY, { x: 0, y: 0, radius: 10, offset: 1, limit: 1 }))).toEqual([near!.username]);
    expect((await me!.must(MasterOp.PRESENCE_NEARBY, { x: 100, y: 100, radius: 1 })).total).toBe(0);

    // Gone with the login: logged out, a player is nowhere.
    await near!.must(MasterOp.LOGOUT);
    expect(names(await me!.must(MasterOp.PRESENCE_NEARBY, { x: 0, y: 0, radius: 6 }))).toEqual([high!.username]);
    await near!.guest();
    expect(names(await me!.must(MasterOp.PRESENCE_NEARBY, { x: 0, y: 0, radius: 6 }))).toEqual([high!.username]);
    for (const client of [me, near, far, high, off]) client!.close();
  });

  it("refuses updates past locationRateLimit per second, and bad bodies", async () => {
    const [ann] = await guests(server, uniqueAppKey("rate"), 1);
    const replies = await Promise.all(Array.from({ length: RATE + 2 }, (_, i) => ann!.request(MasterOp.PRESENCE_SET_LOCATION, { x: i, y: 0 })));
    expect(replies.filter((reply) => reply.status === MasterStatus.SUCCESS)).toHaveLength(RATE);
    expect(replies.filter((reply) => reply.status === MasterStatus.RATE_LIMITED)).toEqual(Array(2).fill({ status: MasterStatus.RATE_LIMITED, body: expect.objectContaining({ error: "rate_limited" }) }));

    for (const body of [{ location: "x".repeat(65) }, { x: 1 }, { y: 1 }, { x: 1, z: 1 }, { z: 1 }, { x: "1", y: 2 }, { x: 1e13, y: 0 }, { where: "here" }]) {
      expect(await ann!.request(MasterOp.PRESENCE_SET_LOCATION, body), JSON.stringify(body)).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    }
    const badQueries: Json[] = [{}, { location: "" }, { location: "a", x: 1, y: 1, radius: 1 }, { x: 1, y: 1 }, { radius: 3 }, { location: "a", radius: 1 }, { x: 1, y: 1, radius: -1 }, { location: "a", limit: 101 }];
    for (const body of badQueries) {
      expect(await ann!.request(MasterOp.PRESENCE_NEARBY, body), JSON.stringify(body)).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    }
    const anonymous = await MasterClient.connect(server, { appKey: ann!.appKey });
    expect(await anonymous.request(MasterOp.PRESENCE_NEARBY, { location: "a" })).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_logged_in" } });
    expect(await anonymous.request(MasterOp.PRESENCE_SET_LOCATION, { location: "a" })).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_logged_in" } });
    for (const client of [ann, anonymous]) client!.close();
  });

  it("works over HTTP: POST /api/presence/location for the live connection, GET /api/presence/nearby", async () => {
    const appKey = uniqueAppKey("nearby-http");
    const [ann, bob] = await guests(server, appKey, 2);
    const call = async (path: string, token: string, body?: Json) => {
      const headers: Record<string, string> = { "x-gmnet-app-key": appKey, authorization: `Bearer ${token}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(server.address().url + path, { method: body === undefined ? "GET" : "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as Json };
    };
    expect(await call("/api/presence/location", ann!.session.token as string, { location: "Tavern", x: 2, y: 2 })).toEqual({ status: 200, body: { location: "Tavern", position: { x: 2, y: 2 } } });
    const byName = await call("/api/presence/nearby?location=Tavern", bob!.session.token as string);
    expect([byName.status, names(byName.body)]).toEqual([200, [ann!.username]]);
    const byRadius = await call("/api/presence/nearby?x=0&y=0&radius=3", bob!.session.token as string);
    expect(byRadius.body.users).toEqual([expect.objectContaining({ username: ann!.username, distance: Math.hypot(2, 2) })]);
    // A login without a live connection has nowhere to be.
    const lone = (await call("/api/auth/guest", "none", {})).body.token as string;
    expect(await call("/api/presence/location", lone, { location: "Tavern" })).toMatchObject({ status: 409, body: { error: "needs_connection" } });
    ann!.close();
    bob!.close();
  });

  it("has a configured rate, 10 per second by default", () => {
    expect(defaultConfig.locationRateLimit).toBe(10);
    expect(configFromArgs(["--location-rate-limit", "3"], {}).locationRateLimit).toBe(3);
    expect(configFromArgs([], { GMNET_LOCATION_RATE_LIMIT: "20" }).locationRateLimit).toBe(20);
    expect(() => validateConfig({ ...defaultConfig, locationRateLimit: 0 })).toThrow(ConfigError);
  });
});
