/**
 * Why a connection failed or ended. Network faults are never thrown: they arrive in
 * ev_async_web_networking events as async_load[? "error"] (with a readable "message").
 * The codes are public API, listed in docs/ERRORS.md, and never renamed.
 */
export const NetworkError = {
  /** No client of this app holds that virtual IP. */
  OFFLINE: "E_NETWORK_OFFLINE",
  /** The host name did not resolve. */
  UNKNOWN_HOST: "E_NETWORK_UNKNOWN_HOST",
  /** The host is online but nothing listens on that port. */
  NOT_LISTENING: "E_NETWORK_NOT_LISTENING",
  /** The server socket refused: max_client reached, or its engine is at its stream limit. */
  REFUSED: "E_NETWORK_REFUSED",
  /** No answer within the connect timeout, or no traffic within network_set_timeout's limits. */
  TIMEOUT: "E_NETWORK_TIMEOUT",
  /** The host went away while the connection was being set up. */
  GONE: "E_NETWORK_GONE",
  /** The other end called network_destroy. */
  CLOSED: "E_NETWORK_CLOSED",
  /** The other end's engine lost its connection (tab closed, crash, network). */
  PEER_GONE: "E_NETWORK_PEER_GONE",
  /** The signaling server shut down. */
  SHUTDOWN: "E_NETWORK_SHUTDOWN",
  /** The signaling server could not be reached, or the connection to it was lost. */
  SIGNALING: "E_NETWORK_SIGNALING",
  /**
   * The connection to the signaling server was down for longer than the resume window, or more
   * was sent meanwhile than it could hold (PROTOCOL.md §14): this end's streams ended, and data in
   * flight may be lost. Within the window a drop is invisible.
   */
  NOT_RECOVERED: "E_NETWORK_NOT_RECOVERED",
  /** This engine moved to another virtual IP (a master login, logout or resume): its virtual streams ended. */
  ADDRESS_CHANGED: "E_NETWORK_ADDRESS_CHANGED",
  /** The server refused a request (a limit such as too many open streams or pending connects). */
  LIMIT: "E_NETWORK_LIMIT",
  /** A WebSocket (ws/wss socket) failed or closed abnormally. */
  WEBSOCKET: "E_NETWORK_WEBSOCKET",
  /** The GameMaker handshake (GM:Studio-Connect) failed: the other side is not a GameMaker peer. */
  HANDSHAKE: "E_NETWORK_HANDSHAKE",
  /** A server could not listen on its real port (Node with the `listen` option): the port is in use, not permitted, or Node's modules are missing. */
  LISTEN: "E_NETWORK_LISTEN",
  /**
   * End-to-end encryption (network_config_encryption): a message failed authentication (tampered
   * with, sealed under another key, or sent in plaintext by an engine that does not encrypt), or a
   * datagram or channel message was a replay. A stream ends with it; datagrams and channel
   * messages are dropped and counted.
   */
  DECRYPT: "E_NETWORK_DECRYPT",
  /** An incoming message was larger than network_config_message_size_limit. */
  MESSAGE_TOO_LARGE: "E_NETWORK_MESSAGE_TOO_LARGE",
  /** The server refused an MCP tool: its name, description or input schema breaks the rules (the message says which). */
  MCP_INVALID_TOOL: "E_NETWORK_MCP_INVALID_TOOL",
  /** Another engine of the app offers an MCP tool of that name. */
  MCP_TOOL_TAKEN: "E_NETWORK_MCP_TOOL_TAKEN",
  /** The server has no MCP endpoint for this app key (it was not started with --mcp-token for it). */
  MCP_DISABLED: "E_NETWORK_MCP_DISABLED",
  /** A server of several nodes could not record the MCP tool's name in the table the nodes share (Redis unreachable); registering again later may work. */
  MCP_UNAVAILABLE: "E_NETWORK_MCP_UNAVAILABLE",
  /** The MCP client cancelled a tool call, or its MCP session ended, before the script answered. */
  MCP_CANCELLED: "E_NETWORK_MCP_CANCELLED",
} as const;

export type NetworkError = (typeof NetworkError)[keyof typeof NetworkError];

/** A failure with a code and a message for logs, as carried by events. */
export interface NetworkFault {
  readonly code: NetworkError;
  readonly message: string;
}

export const fault = (code: NetworkError, message: string): NetworkFault => ({ code, message });
