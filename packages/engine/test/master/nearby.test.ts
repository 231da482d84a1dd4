/**
 * Nearby players through master_* against the real server (PROTOCOL.md §16.7, docs/MASTER.md):
 * master_presence_set_location, master_presence_nearby by location and by radius, the location
 * in master_presence_list's users, the rate limit; argument misuse.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestNetwork, startNetwork } from "../network/support.js";
import { FAST_HASHES, loggedIn, uniqueName } from "./support.js";

let network: TestNetwork;
beforeAll(async () => {
  network = await startNetwork({ ...FAST_HASHES, locationRateLimit: 3 });
});
afterAll(async () => {
  await network.close();
});

describe("master nearby players", () => {
  it("sets locations and finds players at the same one or within a radius, nearest first", async () => {
    const [ann, bob, cid] = [await loggedIn(network, "ann"), await loggedIn(network, "bob"), await loggedIn(network, "cid")];
    const place = uniqueName("Vale");
    expect(await ann.must((gm) => gm.master_presence_set_location(place, 1000, 1000))).toMatchObject({ location: place, position: { x: 1000, y: 1000 } });
    await bob.must((gm) => gm.master_presence_set_location(place, 1003, 1004, 0));
    await cid.must((gm) => gm.master_presence_set_location("", 1000, 1001));

    const here = await cid.must((gm) => gm.master_presence_nearby({ location: place }));
    expect(here).toMatchObject({ total: 2, users: [{ username: ann.name, location: place }, { username: bob.name, location: place }] });
    const around = await cid.must((gm) => gm.master_presence_nearby({ x: 1000, y: 1000, radius: 5 }));
    expect(around.users).toEqual([expect.objectContaining({ username: ann.name, distance: 0 }), expect.objectContaining({ username: bob.name, distance: 5 })]);
    expect((await ann.must((gm) => gm.master_presence_list({ username: bob.name }))).users).toMatchObject([{ location: place, position: { x: 1003, y: 1004, z: 0 } }]);

    const replies = await Promise.all([1, 2, 3].map((i) => ann.ask((gm) => gm.master_presence_set_location(place, i, i))));
    expect(replies.map((reply) => reply.error)).toContain("rate_limited");
    expect(await ann.ask((gm) => gm.master_presence_nearby({ location: place, x: 1, y: 1, radius: 1 }))).toMatchObject({ status: ann.gm.master_status_invalid, error: "invalid_body" });
  });
});
