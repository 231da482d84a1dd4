/**
 * Characters through master_* against the real server (PROTOCOL.md §16.9, docs/MASTER.md):
 * create with the game's own attributes, list, select and delete; the getters that follow the
 * selection; the selected character in chat and presence events; argument misuse.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestNetwork, startNetwork } from "../network/support.js";
import { FAST_HASHES, loggedIn, player, uniqueName } from "./support.js";

let network: TestNetwork;
beforeAll(async () => {
  network = await startNetwork({ ...FAST_HASHES, maxCharactersPerAccount: 2 });
});
afterAll(async () => {
  await network.close();
});

/** A character name no other test uses (names are unique per app key, at most 24 characters). */
const heroName = (prefix: string): string => uniqueName(prefix).slice(0, 24);

describe("master characters", () => {
  it("creates, lists, selects and deletes, the getters following the selection", async () => {
    const ann = await loggedIn(network, "ann");
    expect([ann.gm.master_get_character_id(), ann.gm.master_get_character()]).toEqual([0, ""]);
    const name = heroName("Knight");
    // The game's own keys go as they are, in both directions: no snake_case conversion inside attributes.
    const attributes = { maxHp: 30, skill_tree: { fireBall: 2 }, inventory: [{ itemId: 7 }] };
    const created = await ann.must((gm) => gm.master_character_create(name, attributes));
    expect(created).toMatchObject({ op: ann.gm.master_op_character_create, character_id: expect.any(Number), name, attributes, selected: false, created_at: expect.any(Number) });
    const id = created.character_id as number;
    const other = await ann.must((gm) => gm.master_character_create(heroName("Mage")));
    expect(other.attributes).toEqual({});

    const list = await ann.must((gm) => gm.master_character_list());
    expect(list).toMatchObject({ selected_id: 0, characters: [{ character_id: id, name, attributes, selected: false }, { character_id: other.character_id }] });

    const selected = await ann.must((gm) => gm.master_character_select(id));
    expect(selected).toMatchObject({ character_id: id, name, selected: true });
    expect([ann.gm.master_get_character_id(), ann.gm.master_get_character()]).toEqual([id, name]);

    // Another login of the account gets the selection with the Session.
    await ann.must((gm) => gm.master_logout());
    expect([ann.gm.master_get_character_id(), ann.gm.master_get_character()]).toEqual([0, ""]);
    await ann.must((gm) => gm.master_login(ann.name, "correct horse"));
    expect([ann.gm.master_get_character_id(), ann.gm.master_get_character()]).toEqual([id, name]);

    await ann.must((gm) => gm.master_character_select(0));
    expect([ann.gm.master_get_character_id(), ann.gm.master_get_character()]).toEqual([0, ""]);
    await ann.must((gm) => gm.master_character_list());
    expect(ann.gm.master_get_character_id()).toBe(0);
    await ann.must((gm) => gm.master_character_select(id));

    // Deleting the selected character clears the getters.
    await ann.must((gm) => gm.master_character_delete(other.character_id as number));
    expect(ann.gm.master_get_character_id()).toBe(id);
    expect(await ann.must((gm) => gm.master_character_delete(id))).toMatchObject({ character_id: id });
    expect([ann.gm.master_get_character_id(), ann.gm.master_get_character()]).toEqual([0, ""]);
    expect(await ann.must((gm) => gm.master_character_list())).toMatchObject({ selected_id: 0, characters: [] });
  });

  it("answers the server's refusals as statuses", async () => {
    const [ann, bob] = [await loggedIn(network, "ann"), await loggedIn(network, "bob")];
    const name = heroName("Taken");
    const id = (await ann.must((gm) => gm.master_character_create(name))).character_id as number;
    expect(await bob.ask((gm) => gm.master_character_create(name.toUpperCase()))).toMatchObject({ status: bob.gm.master_status_failed, error: "character_name_taken" });
    expect(await bob.ask((gm) => gm.master_character_select(id))).toMatchObject({ status: bob.gm.master_status_not_found, error: "character_not_found" });
    expect(await bob.ask((gm) => gm.master_character_delete(id))).toMatchObject({ status: bob.gm.master_status_not_found, error: "character_not_found" });
    expect(bob.gm.master_get_character_id()).toBe(0);
    await ann.must((gm) => gm.master_character_create(heroName("Second")));
    expect(await ann.ask((gm) => gm.master_character_create(heroName("Third")))).toMatchObject({ status: ann.gm.master_status_failed, error: "too_many_characters" });
    expect(await ann.ask((gm) => gm.master_character_create("no"))).toMatchObject({ status: ann.gm.master_status_invalid, error: "invalid_body" });
    expect(await ann.ask((gm) => gm.master_character_create(heroName("Big"), { blob: "x".repeat(5000) }))).toMatchObject({ status: ann.gm.master_status_invalid, error: "invalid_body" });
    const anonymous = player(network);
    expect(await anonymous.ask((gm) => gm.master_character_list())).toMatchObject({ status: anonymous.gm.master_status_unauthorized, error: "not_logged_in" });
  });

  it("shows the selected character in chat and presence, and follows a selection made elsewhere", async () => {
    const [ann, bob] = [await loggedIn(network, "ann"), await loggedIn(network, "bob")];
    await bob.must((gm) => gm.master_presence_subscribe(true));
    await ann.must((gm) => gm.master_presence_subscribe(true));
    const name = heroName("Bard");
    const id = (await ann.must((gm) => gm.master_character_create(name))).character_id as number;
    await ann.must((gm) => gm.master_character_select(id));
    expect(await bob.event(bob.gm.master_type_presence, { username: ann.name })).toMatchObject({ online: true, character_id: id, character: name });
    await ann.must((gm) => gm.master_chat_send(gm.master_chat_global, "a song"));
    expect(await bob.event(bob.gm.master_type_chat, { text: "a song" })).toMatchObject({ from: ann.name, character: name });
    await bob.must((gm) => gm.master_chat_send(gm.master_chat_global, "boo"));
    expect(await ann.event(ann.gm.master_type_chat, { text: "boo" })).toMatchObject({ from: bob.name, character: "" });

    // Selected over HTTP with the same token: the PRESENCE event about this account updates the getters.
    const response = await fetch(`${network.server.address().url}/api/characters/select`, {
      method: "POST",
      headers: { authorization: `Bearer ${ann.gm.master_get_token()}`, "x-gmnet-app-key": "test-app", "content-type": "application/json" },
      body: JSON.stringify({ characterId: 0 }),
    });
    expect(response.status).toBe(200);
    await ann.event(ann.gm.master_type_presence, { username: ann.name, character_id: 0 });
    expect([ann.gm.master_get_character_id(), ann.gm.master_get_character()]).toEqual([0, ""]);
  });
});
