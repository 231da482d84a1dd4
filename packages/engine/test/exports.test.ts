/** The package surface: named exports, installGlobals, and plain-node import of the built dist/. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as engine from "../src/index.js";
import { ASYNC_EVENT_CONSTANTS, BUFFER_CONSTANTS, DS_CONSTANTS, MASTER_CONSTANTS, NETWORK_CONSTANTS } from "./expected-constants.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

const expectedFunctions = [
  "buffer_create", "buffer_delete", "buffer_exists", "buffer_read", "buffer_write", "buffer_seek", "buffer_tell",
  "buffer_peek", "buffer_poke", "buffer_fill", "buffer_get_size", "buffer_get_type", "buffer_get_alignment",
  "buffer_get_used_size", "buffer_set_used_size", "buffer_sizeof", "buffer_resize", "buffer_copy",
  "buffer_save", "buffer_save_ext", "buffer_save_async", "buffer_load", "buffer_load_ext", "buffer_load_partial",
  "buffer_load_async", "buffer_base64_encode", "buffer_base64_decode", "buffer_base64_decode_ext",
  "buffer_md5", "buffer_sha1", "buffer_crc32", "buffer_compress", "buffer_decompress",
  "async_event_dispatch", "async_event_pending", "async_event_wait",
  "http_get", "http_get_file", "http_post_string", "http_request", "http_get_request_crossorigin",
  "http_set_request_crossorigin", "http_get_connect_timeout", "http_set_connect_timeout",
  "network_create_server", "network_create_server_raw", "network_create_socket", "network_create_socket_ext",
  "network_connect", "network_connect_async", "network_connect_raw", "network_connect_raw_async",
  "network_send_packet", "network_send_raw", "network_send_broadcast", "network_send_udp", "network_send_udp_raw",
  "network_destroy", "network_resolve", "network_resolve_async", "network_set_timeout", "network_set_config",
  "network_get_config", "network_get_stats", "network_shutdown",
  "network_channel_register", "network_channel_unregister", "network_channel_send",
  "network_mcp_tool_register", "network_mcp_tool_unregister", "network_mcp_tool_respond",
  "master_register", "master_login", "master_login_guest", "master_logout", "master_resume", "master_refresh",
  "master_room_create", "master_room_list", "master_room_join", "master_room_leave", "master_room_update", "master_room_get",
  "master_chat_send", "master_party_create", "master_party_invite", "master_party_accept", "master_party_decline",
  "master_party_leave", "master_presence_list", "master_presence_subscribe", "master_request", "master_set_timeout",
  "master_get_timeout", "master_logged_in", "master_get_username", "master_get_account_id", "master_get_token",
  "master_get_room", "master_get_party", "master_character_create", "master_character_list", "master_character_select",
  "master_character_delete", "master_get_character_id", "master_get_character", "master_world_get", "master_world_list",
  "master_world_set", "master_world_subscribe", "master_world_unsubscribe", "master_presence_set_location", "master_presence_nearby",
  "ds_exists", "ds_map_create", "ds_map_destroy", "ds_map_add", "ds_map_replace", "ds_map_set", "ds_map_find_value",
  "ds_map_exists", "ds_map_delete", "ds_map_size", "ds_map_clear", "ds_map_keys_to_array", "ds_map_find_first",
  "ds_map_find_next", "ds_list_create", "ds_list_destroy", "ds_list_add", "ds_list_delete", "ds_list_find_index",
  "ds_list_find_value", "ds_list_size", "ds_list_clear", "ds_list_insert", "ds_list_replace", "ds_list_set",
  "ds_queue_create", "ds_queue_destroy", "ds_queue_enqueue", "ds_queue_dequeue", "ds_queue_head", "ds_queue_tail",
  "ds_queue_size", "ds_queue_empty", "ds_queue_clear",
  "show_debug_message", "show_debug_message_ext", "show_message",
];

describe("package exports", () => {
  it("every function of the engine is a named export bound to the default engine", () => {
    const exported = engine as unknown as Record<string, unknown>;
    for (const name of expectedFunctions) expect(typeof exported[name], name).toBe("function");
    const engineFunctions = Object.entries(engine.defaultEngine).filter(([, v]) => typeof v === "function").map(([k]) => k);
    expect(engineFunctions.sort()).toEqual([...expectedFunctions].sort());
    const b = engine.buffer_create(1, engine.buffer_fixed, 1);
    expect(engine.defaultEngine.buffer_exists(b)).toBe(true);
  });

  it("every constant has its documented number as a named export, an engine property and in engineConstants", () => {
    const exported = engine as unknown as Record<string, unknown>;
    const gm = engine.createEngine({ storage: engine.createMemoryStorage() }) as unknown as Record<string, unknown>;
    const documented: Record<string, number> = { ...BUFFER_CONSTANTS, ...NETWORK_CONSTANTS, ...MASTER_CONSTANTS, ...ASYNC_EVENT_CONSTANTS, ...DS_CONSTANTS };
    for (const [name, value] of Object.entries(documented)) {
      expect(exported[name], name).toBe(value);
      expect(gm[name], name).toBe(value);
    }
    // engineConstants holds every constant but the ds_type_* ones, and none the table does not document.
    const { ds_type_map: _map, ds_type_list: _list, ds_type_queue: _queue, ...engineDocumented } = documented;
    expect(engine.engineConstants).toEqual(engineDocumented);
  });

  it("installGlobals puts every function and constant on the target", () => {
    const target: Record<string, unknown> = {};
    const names = engine.installGlobals(target);
    expect(names).toEqual(expect.arrayContaining([...expectedFunctions, "buffer_grow", "buffer_u64", "ev_async_save_load", "ev_async_social", "master_type_response", "master_chat_whisper", "ds_type_map", "ds_type_list", "ds_type_queue"]));
    const create = target.buffer_create as typeof engine.buffer_create;
    expect(engine.buffer_exists(create(4, target.buffer_grow as number, 1))).toBe(true);
  });

  it("plain node imports the built package from the repository root, with no loader flags", () => {
    expect(existsSync(`${repoRoot}packages/engine/dist/index.js`), "the install step builds dist/").toBe(true);
    const script = `
      import * as gm from "@gmnet/engine";
      const b = gm.buffer_create(0, gm.buffer_grow, 1);
      gm.buffer_write(b, gm.buffer_string, "abc");
      console.log(JSON.stringify([gm.buffer_md5(b, 0, 3), gm.buffer_u64, typeof gm.installGlobals]));
      await import("@gmnet/engine/globals");
      console.log(typeof globalThis.buffer_crc32);
      const [kept, protocol] = await Promise.all([import("@gmnet/engine/protocol"), import("@gmnet/protocol")]);
      console.log(kept.FrameDecoder === protocol.FrameDecoder && Object.keys(kept).length === Object.keys(protocol).length);`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: repoRoot, encoding: "utf8" });
    // @gmnet/engine/protocol, kept for older imports, is the protocol package itself.
    expect(out.trim().split("\n")).toEqual([JSON.stringify(["900150983cd24fb0d6963f7d28e17f72", 7, "function"]), "function", "true"]);
  });

  it("the built type declarations compile in a strict consumer project", () => {
    const tsc = `${repoRoot}node_modules/typescript/bin/tsc`;
    const run = () => execFileSync(process.execPath, [tsc, "-p", `${repoRoot}packages/engine/test/consumer/tsconfig.json`], { cwd: repoRoot, encoding: "utf8" });
    expect(run).not.toThrow();
  }, 30_000);
});
