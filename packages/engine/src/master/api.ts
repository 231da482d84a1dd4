/**
 * master_*: accounts, sessions, rooms, chat, parties, presence, characters and world state from the signaling
 * server's master services (PROTOCOL.md §16), over the engine's one signaling connection. Each
 * request function checks its arguments (misuse throws GmnetError E_INVALID_ARGUMENT), starts the
 * request and returns its request id; the answer arrives as an ev_async_social event of type
 * master_type_response with that id. The getters answer at once from what the engine knows.
 * docs/MASTER.md has every function, key and status.
 */
import type { NetworkRuntime } from "../network/runtime.js";
import { MasterOp } from "@gmnet/protocol";
import type { EngineContext } from "../runtime/context.js";
import {
  NEARBY_QUERY,
  PRESENCE_FILTER,
  ROOM_CHANGES,
  ROOM_FILTER,
  ROOM_OPTIONS,
  boolArg,
  chatChannelArg,
  mapArg,
  jsonBody,
  numberArg,
  opArg,
  optionsArg,
  rawBodyArg,
  stringArg,
  stringsArg,
  timeoutArg,
} from "./args.js";
import { MasterClient } from "./master-client.js";

/** The options of master_room_create, in GML's names. */
export interface MasterRoomOptions {
  password?: string;
  public?: boolean | number;
  properties?: Record<string, string | number | boolean>;
}

/** The changes master_room_update asks for. */
export interface MasterRoomChanges extends MasterRoomOptions {
  name?: string;
  max_players?: number;
}

export interface MasterRoomFilter {
  name?: string;
  not_full?: boolean | number;
  no_password?: boolean | number;
  properties?: Record<string, string | number | boolean>;
  offset?: number;
  limit?: number;
}

export interface MasterPresenceFilter {
  username?: string;
  offset?: number;
  limit?: number;
}

/** What master_presence_nearby looks for: `location`, or a position (`x`, `y`, `z`?) with a `radius`. */
export interface MasterNearbyQuery {
  location?: string;
  x?: number;
  y?: number;
  z?: number;
  radius?: number;
  offset?: number;
  limit?: number;
}

export function createMasterApi(context: EngineContext, net: NetworkRuntime) {
  const client = new MasterClient(context, net);
  const state = client.state;

  /** Sends `fields` as the body of `op`. */
  const ask = (op: number, fields: Record<string, unknown>, fn: string): number => client.request(op, jsonBody(fields, fn));
  const str = (value: unknown, name: string, fn: string): string => stringArg(value, name, fn) as string;
  const num = (value: unknown, name: string, fn: string): number => numberArg(value, name, fn) as number;

  return {
    /** Creates an account (it does not log in). Response: `account_id`, `username`. */
    master_register(username: string, password: string): number {
      const fn = "master_register";
      return ask(MasterOp.REGISTER, { username: str(username, "username", fn), password: str(password, "password", fn) }, fn);
    },

    /** Logs in; the engine moves to the account's virtual IP. Response: the Session (`account_id`, `username`, `guest`, `token`, `expires_in_ms`, `ip`). */
    master_login(username: string, password: string): number {
      const fn = "master_login";
      return ask(MasterOp.LOGIN, { username: str(username, "username", fn), password: str(password, "password", fn) }, fn);
    },

    /** Logs in as a new guest account. Response: the Session. */
    master_login_guest(): number {
      return ask(MasterOp.LOGIN_GUEST, {}, "master_login_guest");
    },

    /** Ends the login here at once (the getters say so before the answer) and on the server; the engine moves back to its own virtual IP. */
    master_logout(): number {
      state.loggedOut();
      return ask(MasterOp.LOGOUT, {}, "master_logout");
    },

    /** Logs in with a token from an earlier login (master_get_token). Response: the Session. */
    master_resume(token: string): number {
      const fn = "master_resume";
      return ask(MasterOp.RESUME, { token: str(token, "token", fn) }, fn);
    },

    /** Swaps the login's token for a new one (the old one is revoked). Response: the Session. */
    master_refresh(): number {
      return ask(MasterOp.REFRESH, {}, "master_refresh");
    },

    /** Registers a room for the game server this engine runs on `port`. Response: the Room plus `ip`, `port`. */
    master_room_create(name: string, max_players: number, port: number, options?: MasterRoomOptions): number {
      const fn = "master_room_create";
      const fields = { name: str(name, "name", fn), maxPlayers: num(max_players, "max_players", fn), port: num(port, "port", fn) };
      return ask(MasterOp.ROOM_CREATE, { ...fields, ...optionsArg(options, ROOM_OPTIONS, "options", fn) }, fn);
    },

    /** Lists public rooms. Response: `total`, `offset`, `rooms` (an array of Rooms). */
    master_room_list(filter?: MasterRoomFilter): number {
      const fn = "master_room_list";
      return ask(MasterOp.ROOM_LIST, optionsArg(filter, ROOM_FILTER, "filter", fn), fn);
    },

    /** Joins a room. Response: the Room plus the host's `ip` and `port`, for network_connect. */
    master_room_join(room_id: number, password?: string): number {
      const fn = "master_room_join";
      const fields: Record<string, unknown> = { roomId: num(room_id, "room_id", fn) };
      if (password !== undefined && password !== null) fields.password = str(password, "password", fn);
      return ask(MasterOp.ROOM_JOIN, fields, fn);
    },

    /** Leaves the room (a host's leaving closes it). */
    master_room_leave(): number {
      return ask(MasterOp.ROOM_LEAVE, {}, "master_room_leave");
    },

    /** The host changes its room. Response: the Room. */
    master_room_update(changes: MasterRoomChanges): number {
      const fn = "master_room_update";
      return ask(MasterOp.ROOM_UPDATE, optionsArg(changes, ROOM_CHANGES, "changes", fn, true), fn);
    },

    /** One room by id, private ones included. Response: the Room. */
    master_room_get(room_id: number): number {
      const fn = "master_room_get";
      return ask(MasterOp.ROOM_GET, { roomId: num(room_id, "room_id", fn) }, fn);
    },

    /** Sends a chat message on a master_chat_* channel; `to` names the user for master_chat_whisper. */
    master_chat_send(channel: number, text: string, to?: string): number {
      const fn = "master_chat_send";
      const fields: Record<string, unknown> = { channel: chatChannelArg(channel, fn), text: str(text, "text", fn) };
      if (to !== undefined && to !== null && str(to, "to", fn) !== "") fields.to = to;
      return ask(MasterOp.CHAT_SEND, fields, fn);
    },

    /** Creates a party led by this login. Response: the Party (`party_id`, `leader`, `members`). */
    master_party_create(): number {
      return ask(MasterOp.PARTY_CREATE, {}, "master_party_create");
    },

    /** The leader invites a user; they get a master_type_party_invite event. */
    master_party_invite(username: string): number {
      const fn = "master_party_invite";
      return ask(MasterOp.PARTY_INVITE, { username: str(username, "username", fn) }, fn);
    },

    /** Accepts an invite. Response: the Party. */
    master_party_accept(party_id: number): number {
      const fn = "master_party_accept";
      return ask(MasterOp.PARTY_ACCEPT, { partyId: num(party_id, "party_id", fn) }, fn);
    },

    master_party_decline(party_id: number): number {
      const fn = "master_party_decline";
      return ask(MasterOp.PARTY_DECLINE, { partyId: num(party_id, "party_id", fn) }, fn);
    },

    master_party_leave(): number {
      return ask(MasterOp.PARTY_LEAVE, {}, "master_party_leave");
    },

    /** Who is logged in. Response: `total`, `offset`, `users` (each `username`, `account_id`, `guest`, `room_id`, `party_id`). */
    master_presence_list(filter?: MasterPresenceFilter): number {
      const fn = "master_presence_list";
      return ask(MasterOp.PRESENCE_LIST, optionsArg(filter, PRESENCE_FILTER, "filter", fn), fn);
    },

    /** Turns master_type_presence events on or off. */
    master_presence_subscribe(enabled: boolean | number): number {
      const fn = "master_presence_subscribe";
      return ask(MasterOp.PRESENCE_SUBSCRIBE, { enabled: boolArg(enabled, "enabled", fn) }, fn);
    },

    /**
     * Says where this login is: a location string ("" for none) and, optionally, a 2D (`x`, `y`) or
     * 3D (`x`, `y`, `z`) position; each call replaces the last. At most 10 per second by default
     * (more: `rate_limited`). Response: `location`, `position` (`{x, y[, z]}` or null).
     */
    master_presence_set_location(location: string, x?: number, y?: number, z?: number): number {
      const fn = "master_presence_set_location";
      const fields: Record<string, unknown> = { location: str(location, "location", fn) };
      for (const [name, value] of [["x", x], ["y", y], ["z", z]] as const) if (value !== undefined && value !== null) fields[name] = num(value, name, fn);
      return ask(MasterOp.PRESENCE_SET_LOCATION, fields, fn);
    },

    /** Logged-in players of the app key at `location`, or within `radius` of a position, nearest first (this login left out). Response: `total`, `offset`, `users` (with `distance` for a position). */
    master_presence_nearby(query: MasterNearbyQuery): number {
      const fn = "master_presence_nearby";
      return ask(MasterOp.PRESENCE_NEARBY, optionsArg(query, NEARBY_QUERY, "query", fn, true), fn);
    },

    /** Creates a character of this account (not selected). `attributes` is the game's own struct, sent as JSON. Response: the Character (`character_id`, `name`, `attributes`, `selected`, `created_at`). */
    master_character_create(name: string, attributes?: Record<string, unknown>): number {
      const fn = "master_character_create";
      const fields: Record<string, unknown> = { name: str(name, "name", fn) };
      if (attributes !== undefined && attributes !== null) fields.attributes = mapArg(attributes, "attributes", fn);
      return ask(MasterOp.CHARACTER_CREATE, fields, fn);
    },

    /** This account's characters, oldest first. Response: `selected_id` (0 for none), `characters` (an array of Characters). */
    master_character_list(): number {
      return ask(MasterOp.CHARACTER_LIST, {}, "master_character_list");
    },

    /** Selects one of this account's characters (0 selects none); presence and chat show it. Response: the Character (`character_id` 0 alone for none). */
    master_character_select(character_id: number): number {
      const fn = "master_character_select";
      return ask(MasterOp.CHARACTER_SELECT, { characterId: num(character_id, "character_id", fn) }, fn);
    },

    /** Deletes one of this account's characters (a selected one is deselected). Response: `character_id`. */
    master_character_delete(character_id: number): number {
      const fn = "master_character_delete";
      return ask(MasterOp.CHARACTER_DELETE, { characterId: num(character_id, "character_id", fn) }, fn);
    },

    /** One world document of the app key. Response: the Document (`name`, `version`, `value`, `updated_at`, `updated_by`); `world_document_not_found` when there is none. */
    master_world_get(name: string): number {
      const fn = "master_world_get";
      return ask(MasterOp.WORLD_GET, { name: str(name, "name", fn) }, fn);
    },

    /** The app key's world documents by name, those whose names start with `prefix` if given. Response: `documents` (an array of Documents). */
    master_world_list(prefix?: string): number {
      const fn = "master_world_list";
      return ask(MasterOp.WORLD_LIST, prefix === undefined || prefix === null ? {} : { prefix: str(prefix, "prefix", fn) }, fn);
    },

    /**
     * Writes a world document (only the server's configured writers may): `value` is the game's own
     * struct; `expected_version` is the version read (0 creates, only if absent). Response: the
     * Document at its new version; `world_version_conflict` with the current `version` when stale.
     */
    master_world_set(name: string, value: Record<string, unknown>, expected_version: number): number {
      const fn = "master_world_set";
      return ask(MasterOp.WORLD_SET, { name: str(name, "name", fn), value: mapArg(value, "value", fn), expectedVersion: num(expected_version, "expected_version", fn) }, fn);
    },

    /** Subscribes to the named documents, or to all of the app key's (no argument), for master_type_world_update events. Response: `all`, `names`, `documents` (the current ones it covers). */
    master_world_subscribe(names?: string[]): number {
      const fn = "master_world_subscribe";
      return ask(MasterOp.WORLD_SUBSCRIBE, names === undefined || names === null ? {} : { names: stringsArg(names, "names", fn) }, fn);
    },

    /** Ends the subscription to the named documents, or every subscription (no argument). Response: `all`, `names` (what is left). */
    master_world_unsubscribe(names?: string[]): number {
      const fn = "master_world_unsubscribe";
      return ask(MasterOp.WORLD_UNSUBSCRIBE, names === undefined || names === null ? {} : { names: stringsArg(names, "names", fn) }, fn);
    },

    /** Any opcode with any body: a string is sent as it is (JSON or not), an object as JSON with its keys as given. */
    master_request(op: number, body?: string | object): number {
      const fn = "master_request";
      return client.request(opArg(op, fn), rawBodyArg(body, fn));
    },

    /** How long a request may wait for its answer before it ends with master_status_timeout, in ms (default 10000; 0 = no limit). Applies to requests started afterwards. */
    master_set_timeout(timeout_ms: number): void {
      client.timeoutMs = timeoutArg(timeout_ms, "master_set_timeout");
    },

    master_get_timeout(): number {
      return client.timeoutMs;
    },

    /** Whether this engine holds a login (also while it reconnects to resume it). */
    master_logged_in(): boolean {
      return state.login !== undefined;
    },

    /** The login's user name, "" when not logged in. */
    master_get_username(): string {
      return state.login?.username ?? "";
    },

    /** The login's account id, 0 when not logged in. */
    master_get_account_id(): number {
      return state.login?.accountId ?? 0;
    },

    /** The login's session token (kept in memory only), "" when not logged in. */
    master_get_token(): string {
      return state.login?.token ?? "";
    },

    /** The id of the room this engine hosts or joined, 0 for none. */
    master_get_room(): number {
      return state.room;
    },

    /** The id of the party this engine is in, 0 for none. */
    master_get_party(): number {
      return state.party;
    },

    /** The id of the login's selected character, 0 for none (or when not logged in). */
    master_get_character_id(): number {
      return state.character.id;
    },

    /** The name of the login's selected character, "" for none (or when not logged in). */
    master_get_character(): string {
      return state.character.name;
    },
  };
}
