/**
 * @gmnet/engine — GameMaker-style functions for browser (and Node) games: buffer_*, http_*,
 * network_* and the master services' master_*, and the ds_map/ds_list/ds_queue functions networking code uses.
 *
 * Every function and constant is a named export bound to one default engine, so game code reads
 * like GML: `const b = buffer_create(16, buffer_grow, 1)`. `createEngine()` makes further
 * independent engines; `installGlobals()` puts everything on globalThis for scripts that expect
 * free functions.
 */
import { type Engine, createEngine } from "./engine.js";

export * from "./buffer/constants.js";
export * from "./ds/constants.js";
export type { DsKey, DsMapLike } from "./ds/api.js";
export type { BufferValue } from "./buffer/gm-buffer.js";
export { ErrorCode, GmnetError } from "./errors.js";
export { ev_async_save_load, ev_async_social, ev_async_web, ev_async_web_networking } from "./events/async-events.js";
export type { AsyncEventHandler, AsyncLoad } from "./events/async-events.js";
export { createEngine, engineConstants } from "./engine.js";
export { HttpError, HttpStatus } from "./http/transfer.js";
export * from "./master/constants.js";
export type { MasterNearbyQuery, MasterPresenceFilter, MasterRoomChanges, MasterRoomFilter, MasterRoomOptions } from "./master/api.js";
export * from "./network/constants.js";
export { NetworkError } from "./network/errors.js";
export type { ListenOptions, NetworkOptions } from "./network/runtime.js";
export type { NetworkStats } from "./network/stats.js";
export type { WebSocketServerConstructor } from "./network/transport/node-listener.js";
export type { WebSocketConstructor } from "./network/transport/websocket-like.js";
export type { WebRtcImplementation } from "./network/udp/signal-port.js";
export type { HttpHeaderMap } from "./http/api.js";
export type { Engine, EngineOptions } from "./engine.js";
export type { EngineOutput } from "./debug/api.js";
export type { Clock } from "./runtime/clock.js";
export { createBrowserStorage } from "./storage/browser-storage.js";
export type { BrowserStorageOptions } from "./storage/browser-storage.js";
export type { FileStorage } from "./storage/file-storage.js";
export { createMemoryStorage } from "./storage/memory-storage.js";
export { createNodeStorage } from "./storage/node-storage.js";
export type { NodeStorageOptions } from "./storage/node-storage.js";

/** The engine behind the named function exports. */
export const defaultEngine: Engine = createEngine();

export const {
  async_event_dispatch,
  async_event_pending,
  async_event_wait,
  buffer_create,
  buffer_delete,
  buffer_exists,
  buffer_write,
  buffer_read,
  buffer_seek,
  buffer_tell,
  buffer_peek,
  buffer_poke,
  buffer_fill,
  buffer_get_size,
  buffer_get_type,
  buffer_get_alignment,
  buffer_get_used_size,
  buffer_set_used_size,
  buffer_sizeof,
  buffer_resize,
  buffer_copy,
  buffer_base64_encode,
  buffer_base64_decode,
  buffer_base64_decode_ext,
  buffer_md5,
  buffer_sha1,
  buffer_crc32,
  buffer_compress,
  buffer_decompress,
  buffer_save,
  buffer_save_ext,
  buffer_save_async,
  buffer_load,
  buffer_load_ext,
  buffer_load_partial,
  buffer_load_async,
  http_get,
  http_get_file,
  http_post_string,
  http_request,
  http_get_request_crossorigin,
  http_set_request_crossorigin,
  http_get_connect_timeout,
  http_set_connect_timeout,
  network_create_server,
  network_create_server_raw,
  network_create_socket,
  network_create_socket_ext,
  network_connect,
  network_connect_async,
  network_connect_raw,
  network_connect_raw_async,
  network_send_packet,
  network_send_raw,
  network_send_broadcast,
  network_send_udp,
  network_send_udp_raw,
  network_destroy,
  network_resolve,
  network_resolve_async,
  network_set_timeout,
  network_set_config,
  network_get_config,
  network_get_stats,
  network_channel_register,
  network_channel_unregister,
  network_channel_send,
  network_mcp_tool_register,
  network_mcp_tool_unregister,
  network_mcp_tool_respond,
  network_shutdown,
  master_register,
  master_login,
  master_login_guest,
  master_logout,
  master_resume,
  master_refresh,
  master_room_create,
  master_room_list,
  master_room_join,
  master_room_leave,
  master_room_update,
  master_room_get,
  master_chat_send,
  master_party_create,
  master_party_invite,
  master_party_accept,
  master_party_decline,
  master_party_leave,
  master_presence_list,
  master_presence_subscribe,
  master_request,
  master_set_timeout,
  master_get_timeout,
  master_logged_in,
  master_get_username,
  master_get_account_id,
  master_get_token,
  master_get_room,
  master_get_party,
  master_character_create,
  master_character_list,
  master_character_select,
  master_character_delete,
  master_get_character_id,
  master_get_character,
  master_presence_set_location,
  master_presence_nearby,
  master_world_get,
  master_world_list,
  master_world_set,
  master_world_subscribe,
  master_world_unsubscribe,
  ds_exists,
  ds_map_create,
  ds_map_destroy,
  ds_map_add,
  ds_map_replace,
  ds_map_set,
  ds_map_find_value,
  ds_map_exists,
  ds_map_delete,
  ds_map_size,
  ds_map_clear,
  ds_map_keys_to_array,
  ds_map_find_first,
  ds_map_find_next,
  ds_list_create,
  ds_list_destroy,
  ds_list_add,
  ds_list_delete,
  ds_list_find_index,
  ds_list_find_value,
  ds_list_size,
  ds_list_clear,
  ds_list_insert,
  ds_list_replace,
  ds_list_set,
  ds_queue_create,
  ds_queue_destroy,
  ds_queue_enqueue,
  ds_queue_dequeue,
  ds_queue_head,
  ds_queue_tail,
  ds_queue_size,
  ds_queue_empty,
  ds_queue_clear,
  show_debug_message,
  show_debug_message_ext,
  show_message,
} = defaultEngine;

/**
 * Puts every function and constant of `engine` (default: the default engine) on `target`
 * (default: globalThis), so game scripts can call `buffer_create(…)` as a free function.
 * Returns the names it installed.
 */
export function installGlobals(target: object = globalThis, engine: Engine = defaultEngine): string[] {
  Object.assign(target, engine);
  return Object.keys(engine);
}
