/** master_* misuse throws E_INVALID_ARGUMENT before anything is sent; the getters start empty. */
import { describe, expect, it } from "vitest";
import { ErrorCode, GmnetError, createEngine, createMemoryStorage } from "../../src/index.js";

/** An engine whose network is never opened by these tests: every call below throws before it would be. */
const gm = createEngine({ storage: createMemoryStorage(), network: { signalingUrl: "ws://127.0.0.1:1/ws" } });

function throwsInvalid(call: () => unknown, mentions: string): void {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught, mentions).toBeInstanceOf(GmnetError);
  expect((caught as GmnetError).code).toBe(ErrorCode.INVALID_ARGUMENT);
  expect((caught as GmnetError).message).toContain(mentions);
}

// Deliberately wrong argument types, as an untyped script would pass them.
const any = gm as unknown as Record<string, (...args: unknown[]) => unknown>;

describe("master_* argument checks", () => {
  it("wants strings for names, passwords, tokens and text", () => {
    throwsInvalid(() => any.master_register!(42, "password"), "master_register: username");
    throwsInvalid(() => any.master_register!("ann", undefined), "master_register: password");
    throwsInvalid(() => any.master_login!(undefined, "x"), "master_login: username");
    throwsInvalid(() => any.master_resume!(123), "master_resume: token");
    throwsInvalid(() => any.master_party_invite!(null), "master_party_invite: username");
    throwsInvalid(() => any.master_chat_send!(gm.master_chat_global, 5), "master_chat_send: text");
    throwsInvalid(() => any.master_chat_send!(gm.master_chat_whisper, "hi", 7), "master_chat_send: to");
    throwsInvalid(() => any.master_room_join!(1, 1234), "master_room_join: password");
  });

  it("wants numbers for ids, sizes and ports", () => {
    throwsInvalid(() => any.master_room_create!("room", 4, "7000"), "master_room_create: port");
    throwsInvalid(() => any.master_room_create!("room", "4", 7000), "master_room_create: max_players");
    throwsInvalid(() => any.master_room_create!(undefined, 4, 7000), "master_room_create: name");
    throwsInvalid(() => any.master_room_join!("12"), "master_room_join: room_id");
    throwsInvalid(() => any.master_room_get!(Number.NaN), "master_room_get: room_id");
    throwsInvalid(() => any.master_party_accept!("1"), "master_party_accept: party_id");
    throwsInvalid(() => any.master_party_decline!(undefined), "master_party_decline: party_id");
  });

  it("checks characters' names, attributes and ids", () => {
    throwsInvalid(() => any.master_character_create!(42), "master_character_create: name");
    throwsInvalid(() => any.master_character_create!("Hero", [1, 2]), "master_character_create: attributes must be a plain object");
    throwsInvalid(() => any.master_character_create!("Hero", "str=9"), "master_character_create: attributes must be a plain object");
    throwsInvalid(() => any.master_character_select!("1"), "master_character_select: character_id");
    throwsInvalid(() => any.master_character_delete!(undefined), "master_character_delete: character_id");
  });

  it("checks locations and nearby queries", () => {
    throwsInvalid(() => any.master_presence_set_location!(3), "master_presence_set_location: location");
    throwsInvalid(() => any.master_presence_set_location!("here", "1", 2), "master_presence_set_location: x");
    throwsInvalid(() => any.master_presence_nearby!(), "master_presence_nearby: query must be a plain object");
    throwsInvalid(() => any.master_presence_nearby!({ place: "here" }), '"place" is not an option of query');
    throwsInvalid(() => any.master_presence_nearby!({ x: 1, y: 1, radius: "2" }), "query.radius");
  });

  it("checks world documents' names, values, versions and name lists", () => {
    throwsInvalid(() => any.master_world_get!(1), "master_world_get: name");
    throwsInvalid(() => any.master_world_list!(5), "master_world_list: prefix");
    throwsInvalid(() => any.master_world_set!("a", [1], 0), "master_world_set: value must be a plain object");
    throwsInvalid(() => any.master_world_set!("a", {}, "0"), "master_world_set: expected_version");
    throwsInvalid(() => any.master_world_subscribe!("weather"), "master_world_subscribe: names must be an array of strings");
    throwsInvalid(() => any.master_world_unsubscribe!([1]), "master_world_unsubscribe: names must be an array of strings");
  });

  it("checks option objects: their type, every key, and every value", () => {
    throwsInvalid(() => any.master_room_create!("room", 4, 7000, "public"), "master_room_create: options must be a plain object");
    throwsInvalid(() => any.master_room_create!("room", 4, 7000, { maxPlayers: 3 }), '"maxPlayers" is not an option of options');
    throwsInvalid(() => any.master_room_create!("room", 4, 7000, { password: 1 }), "options.password");
    throwsInvalid(() => any.master_room_create!("room", 4, 7000, { public: "yes" }), "options.public must be true or false");
    throwsInvalid(() => any.master_room_create!("room", 4, 7000, { properties: [1] }), "options.properties must be a plain object");
    throwsInvalid(() => any.master_room_list!({ notFull: true }), '"notFull" is not an option of filter');
    throwsInvalid(() => any.master_room_list!({ limit: "5" }), "filter.limit");
    throwsInvalid(() => any.master_room_list!(new Map()), "filter must be a plain object");
    throwsInvalid(() => any.master_room_update!(undefined), "master_room_update: changes must be a plain object");
    throwsInvalid(() => any.master_room_update!({ max_players: "8" }), "changes.max_players");
    throwsInvalid(() => any.master_presence_list!({ user: "a" }), '"user" is not an option of filter');
    throwsInvalid(() => any.master_presence_subscribe!("on"), "master_presence_subscribe: enabled");
  });

  it("checks chat channels, raw opcodes and bodies, and timeouts", () => {
    throwsInvalid(() => any.master_chat_send!(4, "hi"), "master_chat_send: channel must be a master_chat_* constant");
    throwsInvalid(() => any.master_chat_send!(1.5, "hi"), "master_chat_send: channel");
    throwsInvalid(() => any.master_chat_send!("global", "hi"), "master_chat_send: channel must be a number");
    throwsInvalid(() => any.master_request!(-1, {}), "master_request: op must be a whole number from 0 to 65535");
    throwsInvalid(() => any.master_request!(65536, {}), "master_request: op");
    throwsInvalid(() => any.master_request!("login", {}), "master_request: op must be a number");
    throwsInvalid(() => any.master_request!(gm.master_op_login, 5), "master_request: body must be a string or an object");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    throwsInvalid(() => any.master_request!(gm.master_op_login, cyclic), "master_request: body cannot be sent as JSON");
    throwsInvalid(() => any.master_room_create!("room", 4, 7000, { properties: { big: 1n } }), "master_room_create: body cannot be sent as JSON");
    throwsInvalid(() => any.master_set_timeout!(-1), "master_set_timeout: timeout_ms must be from 0");
    throwsInvalid(() => any.master_set_timeout!("100"), "master_set_timeout: timeout_ms must be a number");
  });

  it("keeps the timeout setting, and starts logged out, in no room and no party", () => {
    expect(gm.master_get_timeout()).toBe(10_000);
    gm.master_set_timeout(2500.7);
    expect(gm.master_get_timeout()).toBe(2500);
    gm.master_set_timeout(0);
    expect(gm.master_get_timeout()).toBe(0);
    expect(gm.master_logged_in()).toBe(false);
    expect(gm.master_get_username()).toBe("");
    expect(gm.master_get_account_id()).toBe(0);
    expect(gm.master_get_token()).toBe("");
    expect(gm.master_get_room()).toBe(0);
    expect(gm.master_get_party()).toBe(0);
    expect(gm.async_event_pending()).toBe(0);
  });
});
