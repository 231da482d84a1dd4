/**
 * World state through master_* against the real server (PROTOCOL.md §16.10, docs/MASTER.md):
 * the configured writer creates and updates documents with the version it read, a stale write
 * is answered with the current version, readers list, get and subscribe (master_type_world_update
 * events, the game's own keys in `value` unconverted), non-writers are refused; argument misuse.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestNetwork, startNetwork } from "../network/support.js";
import { FAST_HASHES, loggedIn, player, uniqueName } from "./support.js";

const WRITER = uniqueName("gm");

let network: TestNetwork;
beforeAll(async () => {
  network = await startNetwork({ ...FAST_HASHES, worldWriters: [`test-app=${WRITER}`] });
});
afterAll(async () => {
  await network.close();
});

async function writer() {
  const gm = player(network);
  await gm.ask((engine) => engine.master_register(WRITER, "correct horse")); // the first test registers it
  await gm.must((engine) => engine.master_login(WRITER, "correct horse"));
  return gm;
}

describe("master world state", () => {
  it("creates, updates with the version read, refuses a stale write, lists and gets", async () => {
    const gm = await writer();
    const reader = await loggedIn(network, "reader");
    const name = uniqueName("shard:").slice(0, 64);
    // The game's own keys go as they are, in both directions.
    const value = { owningFaction: "Crimson Covenant", capture_log: [{ byCharacter: "Hero" }] };
    const created = await gm.must((engine) => engine.master_world_set(name, value, 0));
    expect(created).toMatchObject({ op: gm.gm.master_op_world_set, name, version: 1, value, updated_at: expect.any(Number), updated_by: WRITER });

    const stale = await gm.ask((engine) => engine.master_world_set(name, { owningFaction: "Azure Order" }, 0));
    expect(stale).toMatchObject({ status: gm.gm.master_status_failed, error: "world_version_conflict", name, version: 1 });
    expect(await gm.must((engine) => engine.master_world_set(name, { owningFaction: "Azure Order" }, stale.version as number))).toMatchObject({ version: 2 });

    expect(await reader.must((engine) => engine.master_world_get(name))).toMatchObject({ name, version: 2, value: { owningFaction: "Azure Order" } });
    const listed = await reader.must((engine) => engine.master_world_list("shard:"));
    expect(listed.documents).toEqual(expect.arrayContaining([expect.objectContaining({ name, version: 2, updated_by: WRITER })]));
    expect(await reader.ask((engine) => engine.master_world_get("no-such-document"))).toMatchObject({ status: reader.gm.master_status_not_found, error: "world_document_not_found" });
    expect(await reader.ask((engine) => engine.master_world_set(name, {}, 2))).toMatchObject({ status: reader.gm.master_status_unauthorized, error: "not_world_writer" });
    const anonymous = player(network);
    expect(await anonymous.ask((engine) => engine.master_world_list())).toMatchObject({ status: anonymous.gm.master_status_unauthorized, error: "not_logged_in" });
  });

  it("subscribes to names or to all, gets master_type_world_update events, and unsubscribes", async () => {
    const gm = await writer();
    const [all, one] = [await loggedIn(network, "all"), await loggedIn(network, "one")];
    const name = uniqueName("weather");
    const subscribed = await one.must((engine) => engine.master_world_subscribe([name]));
    expect(subscribed).toMatchObject({ all: false, names: [name], documents: [] });
    expect(await all.must((engine) => engine.master_world_subscribe())).toMatchObject({ all: true, names: [] });

    await gm.must((engine) => engine.master_world_set(name, { rainMm: 3 }, 0));
    for (const p of [one, all]) {
      expect(await p.event(p.gm.master_type_world_update, { name })).toMatchObject({ id: -1, name, version: 1, value: { rainMm: 3 }, updated_by: WRITER });
    }
    expect(await one.must((engine) => engine.master_world_unsubscribe([name]))).toMatchObject({ all: false, names: [] });
    expect(await all.must((engine) => engine.master_world_unsubscribe())).toMatchObject({ all: false, names: [] });
    await gm.must((engine) => engine.master_world_set(name, { rainMm: 0 }, 1));
    // A round trip each after the write: a push would have come before these answers.
    await one.must((engine) => engine.master_world_list());
    await all.must((engine) => engine.master_world_list());
    for (const p of [one, all]) expect(p.log.seen.filter((event) => event.type === p.gm.master_type_world_update && event.version === 2)).toEqual([]);
  });
});
