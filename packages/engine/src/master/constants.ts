/**
 * The GML constants of master_* (docs/MASTER.md). Statuses and opcodes are the wire's numbers
 * (@gmnet/protocol's master.ts), so a value seen in async_load is the value on the wire. Only master_*
 * names live here: index.ts re-exports the whole module and engine.ts picks it by prefix.
 */
import { MasterOp, MasterStatus } from "@gmnet/protocol";

/** async_load[? "type"] of ev_async_social events. */
export const master_type_response = 1;
export const master_type_chat = 2;
export const master_type_party_invite = 3;
export const master_type_party_update = 4;
export const master_type_room_update = 5;
export const master_type_room_closed = 6;
export const master_type_presence = 7;
export const master_type_session = 8;
export const master_type_world_update = 9;

/** async_load[? "status"] of a master_type_response event. */
export const master_status_success = MasterStatus.SUCCESS;
export const master_status_timeout = MasterStatus.TIMEOUT;
export const master_status_error = MasterStatus.ERROR;
export const master_status_unauthorized = MasterStatus.UNAUTHORIZED;
export const master_status_invalid = MasterStatus.INVALID;
export const master_status_failed = MasterStatus.FAILED;
export const master_status_not_connected = MasterStatus.NOT_CONNECTED;
export const master_status_not_found = MasterStatus.NOT_FOUND;
export const master_status_unknown_operation = MasterStatus.UNKNOWN_OPERATION;
export const master_status_rate_limited = MasterStatus.RATE_LIMITED;

/** async_load[? "op"] of a response, and the first argument of master_request. */
export const master_op_register = MasterOp.REGISTER;
export const master_op_login = MasterOp.LOGIN;
export const master_op_login_guest = MasterOp.LOGIN_GUEST;
export const master_op_logout = MasterOp.LOGOUT;
export const master_op_resume = MasterOp.RESUME;
export const master_op_refresh = MasterOp.REFRESH;
export const master_op_room_create = MasterOp.ROOM_CREATE;
export const master_op_room_list = MasterOp.ROOM_LIST;
export const master_op_room_join = MasterOp.ROOM_JOIN;
export const master_op_room_leave = MasterOp.ROOM_LEAVE;
export const master_op_room_update = MasterOp.ROOM_UPDATE;
export const master_op_room_get = MasterOp.ROOM_GET;
export const master_op_chat_send = MasterOp.CHAT_SEND;
export const master_op_party_create = MasterOp.PARTY_CREATE;
export const master_op_party_invite = MasterOp.PARTY_INVITE;
export const master_op_party_accept = MasterOp.PARTY_ACCEPT;
export const master_op_party_decline = MasterOp.PARTY_DECLINE;
export const master_op_party_leave = MasterOp.PARTY_LEAVE;
export const master_op_presence_list = MasterOp.PRESENCE_LIST;
export const master_op_presence_subscribe = MasterOp.PRESENCE_SUBSCRIBE;
export const master_op_presence_set_location = MasterOp.PRESENCE_SET_LOCATION;
export const master_op_presence_nearby = MasterOp.PRESENCE_NEARBY;
export const master_op_character_create = MasterOp.CHARACTER_CREATE;
export const master_op_character_list = MasterOp.CHARACTER_LIST;
export const master_op_character_select = MasterOp.CHARACTER_SELECT;
export const master_op_character_delete = MasterOp.CHARACTER_DELETE;
export const master_op_world_get = MasterOp.WORLD_GET;
export const master_op_world_list = MasterOp.WORLD_LIST;
export const master_op_world_set = MasterOp.WORLD_SET;
export const master_op_world_subscribe = MasterOp.WORLD_SUBSCRIBE;
export const master_op_world_unsubscribe = MasterOp.WORLD_UNSUBSCRIBE;

/** Chat channels: the index of the wire's name in CHAT_CHANNELS ("global", "room", "party", "whisper"). */
export const master_chat_global = 0;
export const master_chat_room = 1;
export const master_chat_party = 2;
export const master_chat_whisper = 3;
