/**
 * Every number of the gmnet wire protocol, in one place, imported by the server, the engine,
 * bots and tests. PROTOCOL.md at the repository root shows the same tables with byte layouts.
 * Numbers are append-only: a value, once released, never changes meaning.
 */

/** Bumped on any incompatible change; a Hello with another version is refused with VERSION_MISMATCH. */
export const PROTOCOL_VERSION = 1;

/** `[channel u16][packet_type u16][priority u8][flags u8][reserved u16][length u32]`, little-endian. */
export const FRAME_HEADER_SIZE = 12;

/**
 * Channel numbers (seed 003): 0 control, 1–999 system, 1000–1999 handed out to applications at
 * runtime, 2000–2999 LLM sessions (one per MCP client session, PROTOCOL.md §17), the rest reserved.
 */
export const Channel = {
  CONTROL: 0,
  VSOCKET: 1,
  SIGNAL: 2,
  MASTER: 3,
  STATS: 4,
  /** MCP tool registration (PROTOCOL.md §17). */
  MCP: 5,
  /** First channel number handed out to applications by CHANNEL_REGISTER. */
  FIRST_APP: 1000,
  /** Last app channel number: an app key has at most 1000 channels. */
  LAST_APP: 1999,
  /** First LLM-session channel: the calls of one MCP client session travel on one of these. */
  FIRST_LLM: 2000,
  LAST_LLM: 2999,
  LAST: 0xffff,
} as const;

export const Priority = {
  /** Sent at once, ahead of any batch: errors, pongs, shutdown notices. */
  CRITICAL: 0,
  /** First in a batch: control replies. */
  HIGH: 1,
  /** Game data, virtual-socket streams. */
  NORMAL: 2,
  /** Background traffic; relayed datagrams, dropped first under pressure. */
  LOW: 3,
} as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

/** Frame flag bits (byte 5). Unknown bits are a protocol error so they can be given meaning later. */
export const FrameFlag = {
  NONE: 0,
} as const;
export const KNOWN_FRAME_FLAGS = 0;

/** Packet types on Channel.CONTROL. */
export const ControlType = {
  HELLO: 1,
  WELCOME: 2,
  ERROR: 3,
  PING: 4,
  PONG: 5,
  /** Server is going away (SIGTERM): reconnect after `retryAfterMs`. */
  DRAIN: 6,
  CHANNEL_REGISTER: 7,
  CHANNEL_ASSIGNED: 8,
  CHANNEL_UNREGISTER: 9,
  /** Right after HELLO: open a resumable session ("" id) or resume a detached one (PROTOCOL.md §14). */
  RESUME: 10,
  /** The answer to RESUME, right after WELCOME: resumed or fresh, and how much of ours arrived. */
  RESUMED: 11,
  /** Client asks for an immediate reply, to measure its round-trip time to the server. */
  ECHO_REQUEST: 12,
  /** Server's answer to ECHO_REQUEST, sent at Critical priority with the same nonce. */
  ECHO_REPLY: 13,
  /** Cumulative count of the sender's sequenced frames received on a resumable session (§14). */
  ACK: 14,
} as const;


/** Packet types on Channel.VSOCKET (seed 002's virtual socket protocol). */
export const VSocketType = {
  VIRTUAL_IP: 1,
  RESOLVE_REQUEST: 2,
  RESOLVE_RESPONSE: 3,
  HOSTNAME_CLAIM: 4,
  HOSTNAME_RESULT: 5,
  SOCKET_STATUS_REQUEST: 10,
  SOCKET_STATUS_RESPONSE: 11,
  SOCKET_CONNECTION_REQUEST: 12,
  SOCKET_CONNECTION_RESPONSE: 13,
  SOCKET_CONNECTED: 14,
  REQUEST_FAILED: 15,
  ARBITRARY_DATA: 16,
  SOCKET_CLOSED: 17,
  /** Reserved and unused: resume acknowledges whole sessions with CONTROL ACK instead (PROTOCOL.md §14). */
  STREAM_ACK: 18,
  UDP_BIND: 20,
  UDP_UNBIND: 21,
  DATAGRAM: 22,
  BROADCAST: 23,
  /**
   * Client → server: open a stream to a real TCP host:port through the outbound GameMaker bridge
   * (PROTOCOL.md §8.4), only to destinations the operator allows. Answered with SOCKET_CONNECTED
   * or REQUEST_FAILED, as SOCKET_CONNECTION_REQUEST is.
   */
  BRIDGE_CONNECT: 24,
} as const;

/** Packet types on Channel.SIGNAL (WebRTC offer/answer/candidates between two virtual IPs). */
export const SignalType = {
  RELAY: 1,
  ICE_SERVERS_REQUEST: 2,
  ICE_SERVERS: 3,
} as const;

/**
 * On a resumable session every frame after WELCOME is *sequenced* (counted by both ends, kept
 * for replay until acknowledged) except the connection's own housekeeping and datagrams, which
 * are unreliable by contract. Both ends must classify alike, so the rule lives here.
 */
export function isSequenced(channel: number, type: number): boolean {
  if (channel === Channel.CONTROL) {
    return type !== ControlType.HELLO && type !== ControlType.WELCOME && type !== ControlType.PING && type !== ControlType.PONG &&
      type !== ControlType.DRAIN && type !== ControlType.RESUME && type !== ControlType.RESUMED && type !== ControlType.ECHO_REQUEST &&
      type !== ControlType.ECHO_REPLY && type !== ControlType.ACK;
  }
  return channel !== Channel.VSOCKET || (type !== VSocketType.DATAGRAM && type !== VSocketType.BROADCAST);
}

/** isSequenced for an encoded frame, read from its header (channel u16 at 0, type u16 at 2). */
export function isSequencedFrame(frame: Uint8Array): boolean {
  return isSequenced(frame[0]! | (frame[1]! << 8), frame[2]! | (frame[3]! << 8));
}

/** When each end of a resumable session acknowledges what it received (PROTOCOL.md §14.1): the same rule both ways. */
export const AckPolicy = {
  /** An outgoing batch carries an ACK once this many received frames are unacknowledged. */
  PIGGYBACK_FRAMES: 8,
  /** An ACK goes out on its own once this many are unacknowledged… */
  EVERY_FRAMES: 64,
  /** …or this long after the first unacknowledged one. */
  DELAY_MS: 100,
} as const;

/** Packet types on Channel.MCP: an engine offers tools to the MCP clients of its app key (PROTOCOL.md §17). */
export const McpType = {
  /** Client → server: offer a tool (name, description, JSON Schema of its input). */
  TOOL_REGISTER: 1,
  /** Server → client: the answer to TOOL_REGISTER, with a ToolStatus. */
  TOOL_REGISTERED: 2,
  /** Client → server: withdraw a tool this client registered. */
  TOOL_UNREGISTER: 3,
} as const;

/** TOOL_REGISTERED's status. */
export const ToolStatus = {
  OK: 0,
  /** The name, description or input schema breaks the rules of PROTOCOL.md §17 (the message says which). */
  INVALID: 1,
  /** Another client of the app key has a tool of that name. */
  TAKEN: 2,
  /** The app key has as many tools as the server allows (mcpMaxTools). */
  LIMIT: 3,
  /** The server has no MCP endpoint for this app key (no --mcp-token for it). */
  DISABLED: 4,
  /** Several nodes (--redis): the table they share tool names in cannot be reached now; registering again later may work. */
  UNAVAILABLE: 5,
} as const;

/** Packet types on an LLM-session channel (2000–2999): the calls of one MCP client session. */
export const LlmType = {
  /** Server → client: call a tool this client registered, with arguments the server checked against its schema. */
  CALL: 1,
  /** Client → server: the tool's answer. */
  RESULT: 2,
  /** Server → client: a call ended without the answer being wanted any more (CallEndReason). */
  CALL_ENDED: 3,
} as const;

/** CALL_ENDED's reason. */
export const CallEndReason = {
  /** No RESULT within the server's call timeout (mcpCallTimeoutMs). */
  TIMEOUT: 1,
  /** The MCP client cancelled the call, or its session ended. */
  CANCELLED: 2,
} as const;

/** Reasons carried by REQUEST_FAILED. */
export const FailReason = {
  /** No client holds the target virtual IP (or it belongs to another app key). */
  OFFLINE: 1,
  /** The target is online but nothing listens on that port. */
  NOT_LISTENING: 2,
  /** The target's server refused (max_client reached, or the script denied it). */
  REFUSED: 3,
  /** The target did not answer in time. */
  TIMEOUT: 4,
  /** The target went away during the handshake. */
  GONE: 5,
  /** BRIDGE_CONNECT: the destination is not on the server's allow list (--gm-bridge-allow), or resolves to an address it may not reach. */
  NOT_ALLOWED: 6,
  /** BRIDGE_CONNECT: the destination is allowed but could not be reached (DNS failure, network or host unreachable). */
  UNREACHABLE: 7,
} as const;

/** Reasons carried by SOCKET_CLOSED. */
export const CloseReason = {
  /** The peer closed the socket (network_destroy). */
  CLOSED: 1,
  /** The peer's connection to the server ended (tab closed, crash, heartbeat missed). */
  PEER_GONE: 2,
  /** The server shut down. */
  SHUTDOWN: 3,
  /** This end's session could not be resumed (past the resume window or a replay bound): data may be lost. */
  NOT_RECOVERED: 4,
  /** The peer refused a message over its size limit (network_config_message_size_limit) and closed the stream. */
  MESSAGE_TOO_LARGE: 5,
  /** The peer refused the GameMaker handshake (its network_create_server got no valid client reply, or its network_connect no valid greeting). */
  HANDSHAKE_FAILED: 6,
} as const;

/** Error codes carried by ERROR frames; see PROTOCOL.md for when each is sent. */
export const ProtocolError = {
  MALFORMED_FRAME: 1,
  FRAME_TOO_LARGE: 2,
  UNKNOWN_CHANNEL: 3,
  UNKNOWN_PACKET_TYPE: 4,
  MALFORMED_PAYLOAD: 5,
  NOT_AUTHENTICATED: 6,
  ALREADY_AUTHENTICATED: 7,
  VERSION_MISMATCH: 8,
  BAD_HELLO: 9,
  UNKNOWN_SOCKET: 10,
  NAME_TAKEN: 11,
  RATE_LIMITED: 12,
  TOO_MANY_CHANNELS: 13,
  NOT_A_PARTICIPANT: 14,
  INVALID_PORT: 15,
  TOO_MANY_PENDING: 16,
  TOO_MANY_STREAMS: 17,
  TOO_MANY_BINDINGS: 18,
} as const;
export type ProtocolError = (typeof ProtocolError)[keyof typeof ProtocolError];

/**
 * WebSocket close codes. 4000–4499: the client may reconnect; 4500–4999: it must not retry
 * without changing something (as Centrifugo's convention).
 */
export const CloseCode = {
  NORMAL: 1000,
  /** The server is shutting down; reconnect (to it or another node) shortly. */
  SERVER_SHUTDOWN: 4000,
  /** No pong within the heartbeat deadline. */
  HEARTBEAT_TIMEOUT: 4001,
  /** Reserved: the server cuts a slow consumer (above maxQueuedBytes for slowConsumerMs) without a close frame (1006). */
  SLOW_CONSUMER: 4002,
  /** Another connection took over this identity. */
  REPLACED: 4003,
  /** Not sent by this server version (was the frame-rate limit; over rateLimitBytes the server now pauses reading). */
  RATE_LIMITED: 4004,
  /** No Hello within the hello timeout. */
  HELLO_TIMEOUT: 4005,
  /** Client → server: this socket is given up (it looked dead), the session will be resumed on another (PROTOCOL.md §14). */
  RESUMING: 4006,
  /** The server could not reach its storage (database) to look up the Hello's identity; reconnect with backoff. */
  STORAGE_UNAVAILABLE: 4007,
  /**
   * The server is stopping and hands this durable session over (--durable-sessions, PROTOCOL.md §15):
   * it is kept in Redis; resume it at once, on any node.
   */
  HANDOVER: 4008,
  /** The client speaks another protocol version. */
  VERSION_MISMATCH: 4500,
  /** The Hello was malformed or its credentials were refused. */
  BAD_HELLO: 4501,
  /** A frame could not be decoded, or exceeded maxFrameSize. */
  PROTOCOL_ERROR: 4502,
  /** The page's Origin is not in allowedOrigins. */
  ORIGIN_NOT_ALLOWED: 4503,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Inverse lookup for logs and error messages: names[value]. */
export function nameOf(table: Readonly<Record<string, number>>, value: number): string {
  for (const [name, candidate] of Object.entries(table)) if (candidate === value) return name;
  return `#${value}`;
}
