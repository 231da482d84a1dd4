/**
 * The master service's numbers (Channel.MASTER): request/response as the Master Server Toolkit
 * does it — an opcode per operation, a response status, JSON bodies — plus events the server
 * pushes. PROTOCOL.md §16 documents every body; the server validates each request body against
 * a schema before any service sees it.
 */

/** Packet types on Channel.MASTER. */
export const MasterType = {
  /** Client → server: `u32 reqId, u16 op, rest body` (JSON, UTF-8; empty = `{}`). */
  REQUEST: 1,
  /** Server → client: `u32 reqId, u16 op, u8 status, rest body` (JSON). */
  RESPONSE: 2,
  /** Server → client, unasked: `u16 event, rest body` (JSON). */
  EVENT: 3,
} as const;

/** Operations. Numbers are grouped by service: 1–19 auth, 20–39 rooms, 40–49 chat, 50–59 parties, 60–69 presence, 70–79 characters, 80–89 world state. */
export const MasterOp = {
  REGISTER: 1,
  LOGIN: 2,
  LOGIN_GUEST: 3,
  LOGOUT: 4,
  RESUME: 5,
  REFRESH: 6,
  ROOM_CREATE: 20,
  ROOM_LIST: 21,
  ROOM_JOIN: 22,
  ROOM_LEAVE: 23,
  ROOM_UPDATE: 24,
  ROOM_GET: 25,
  CHAT_SEND: 40,
  PARTY_CREATE: 50,
  PARTY_INVITE: 51,
  PARTY_ACCEPT: 52,
  PARTY_DECLINE: 53,
  PARTY_LEAVE: 54,
  PRESENCE_LIST: 60,
  PRESENCE_SUBSCRIBE: 61,
  PRESENCE_SET_LOCATION: 62,
  PRESENCE_NEARBY: 63,
  CHARACTER_CREATE: 70,
  CHARACTER_LIST: 71,
  CHARACTER_SELECT: 72,
  CHARACTER_DELETE: 73,
  WORLD_GET: 80,
  WORLD_LIST: 81,
  WORLD_SET: 82,
  WORLD_SUBSCRIBE: 83,
  WORLD_UNSUBSCRIBE: 84,
} as const;
export type MasterOp = (typeof MasterOp)[keyof typeof MasterOp];

/** Response statuses; 1–8 have the Master Server Toolkit's ResponseStatus values. */
export const MasterStatus = {
  SUCCESS: 1,
  /** No response within the request timeout (set by the client, or the server's handler limit). */
  TIMEOUT: 2,
  /** The server failed while handling the request (a bug or a storage fault). */
  ERROR: 3,
  /** Not logged in, bad credentials, bad token, or not allowed (not the host, not the leader). */
  UNAUTHORIZED: 4,
  /** The body is not JSON or does not match the operation's schema. */
  INVALID: 5,
  /** A rule said no: name taken, room full, already in a party… */
  FAILED: 6,
  /** The client has no connection to the server (set by the client). */
  NOT_CONNECTED: 7,
  /** The room, party, invite or user does not exist (or is offline). */
  NOT_FOUND: 8,
  /** The opcode names no operation. */
  UNKNOWN_OPERATION: 9,
  /** Too many attempts (login lockout, chat flood, too many requests in flight). */
  RATE_LIMITED: 10,
} as const;
export type MasterStatus = (typeof MasterStatus)[keyof typeof MasterStatus];

/** Events the server pushes on Channel.MASTER. */
export const MasterEvent = {
  /** The connection's login changed without a request: resumed from HELLO's token, rejected, or ended. */
  SESSION: 1,
  CHAT: 2,
  PARTY_INVITE: 3,
  PARTY_UPDATE: 4,
  ROOM_UPDATE: 5,
  ROOM_CLOSED: 6,
  PRESENCE: 7,
  /** A world document the connection subscribes to was written (PROTOCOL.md §16.10). */
  WORLD_UPDATE: 8,
} as const;
export type MasterEvent = (typeof MasterEvent)[keyof typeof MasterEvent];

/** The `error` string of a failed response body, with the status it always comes with. */
export const MasterError = {
  invalid_body: MasterStatus.INVALID,
  unknown_operation: MasterStatus.UNKNOWN_OPERATION,
  not_logged_in: MasterStatus.UNAUTHORIZED,
  wrong_credentials: MasterStatus.UNAUTHORIZED,
  token_invalid: MasterStatus.UNAUTHORIZED,
  token_expired: MasterStatus.UNAUTHORIZED,
  not_host: MasterStatus.UNAUTHORIZED,
  not_leader: MasterStatus.UNAUTHORIZED,
  wrong_password: MasterStatus.UNAUTHORIZED,
  not_world_writer: MasterStatus.UNAUTHORIZED,
  locked: MasterStatus.RATE_LIMITED,
  rate_limited: MasterStatus.RATE_LIMITED,
  busy: MasterStatus.RATE_LIMITED,
  username_taken: MasterStatus.FAILED,
  already_hosting: MasterStatus.FAILED,
  already_in_room: MasterStatus.FAILED,
  not_in_room: MasterStatus.FAILED,
  room_full: MasterStatus.FAILED,
  already_in_party: MasterStatus.FAILED,
  not_in_party: MasterStatus.FAILED,
  party_full: MasterStatus.FAILED,
  needs_connection: MasterStatus.FAILED,
  character_name_taken: MasterStatus.FAILED,
  too_many_characters: MasterStatus.FAILED,
  world_version_conflict: MasterStatus.FAILED,
  too_many_world_documents: MasterStatus.FAILED,
  too_many_subscriptions: MasterStatus.FAILED,
  room_not_found: MasterStatus.NOT_FOUND,
  party_not_found: MasterStatus.NOT_FOUND,
  invite_not_found: MasterStatus.NOT_FOUND,
  user_not_found: MasterStatus.NOT_FOUND,
  character_not_found: MasterStatus.NOT_FOUND,
  world_document_not_found: MasterStatus.NOT_FOUND,
  timeout: MasterStatus.TIMEOUT,
  internal: MasterStatus.ERROR,
  not_connected: MasterStatus.NOT_CONNECTED,
} as const;
export type MasterError = keyof typeof MasterError;

/** Chat channels as they appear in CHAT_SEND and CHAT bodies. */
export const CHAT_CHANNELS = ["global", "room", "party", "whisper"] as const;
export type ChatChannel = (typeof CHAT_CHANNELS)[number];
