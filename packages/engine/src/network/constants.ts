/**
 * The network_* constants. Socket types follow seed 004 (which differs from GameMaker, where
 * ws is 6 and wss 7); every other value is GameMaker's. gmnet's own settings start at 100 so
 * they can never collide with a GameMaker constant added later. docs/NETWORK.md lists them all.
 */

// Socket types (seed 004).
/** Reliable, ordered stream to a virtual host, through the signaling server. */
export const network_socket_tcp = 0;
/** Unreliable, unordered datagrams: a WebRTC DataChannel, or the server relay until it is open. */
export const network_socket_udp = 1;
/** A plain WebSocket to any ws:// URL. */
export const network_socket_ws = 2;
/** A WebSocket to any wss:// URL (TLS). */
export const network_socket_wss = 3;

// async_load[? "type"] of ev_async_web_networking events (GameMaker's values).
export const network_type_connect = 1;
export const network_type_disconnect = 2;
export const network_type_data = 3;
export const network_type_non_blocking_connect = 4;
/** The engine reached the signaling server (gmnet raises it; GameMaker uses it for os network state). */
export const network_type_up = 5;
/** The engine could not reach the signaling server. */
export const network_type_up_failed = 6;
/** The engine lost the signaling server; it reconnects by itself. */
export const network_type_down = 7;
/** gmnet: the answer to network_resolve_async. */
export const network_type_resolve = 100;
/** gmnet: the answer to a host name claim (network_set_config(network_config_hostname, name)). */
export const network_type_hostname = 101;
/** gmnet: a server's real port is listening, or could not be (Node with the `listen` engine option). */
export const network_type_listen = 102;
/** gmnet: the answer to network_channel_register (app channels, docs/NETWORK.md). */
export const network_type_channel = 103;
/** gmnet: a message on an app channel this engine registered, from another engine of the app. */
export const network_type_channel_data = 104;
/** gmnet: the answer to network_mcp_tool_register (docs/MCP.md). */
export const network_type_mcp_tool = 105;
/** gmnet: an LLM agent calls one of this engine's MCP tools; answer with network_mcp_tool_respond. */
export const network_type_mcp_call = 106;
/** gmnet: an MCP tool call ended before the script answered it (timeout, cancelled, connection lost). */
export const network_type_mcp_call_ended = 107;
/**
 * gmnet: end-to-end encryption (docs/NETWORK.md "Encryption"): the answer to setting
 * network_config_encryption_key (id = the request id, succeeded 1 once the key is derived), or
 * (id -1, succeeded 0, error E_NETWORK_DECRYPT) a datagram or app channel message that was dropped.
 */
export const network_type_encryption = 108;

// network_channel_send priorities (seed 003; the protocol's own numbers, PROTOCOL.md §4).
/** Sent at once, ahead of anything queued later; relayed at once. Reliable. */
export const network_priority_critical = 0;
/** First in a batch. Reliable. */
export const network_priority_high = 1;
/** Game data (the default of games). Reliable. */
export const network_priority_normal = 2;
/** Background: dropped first under pressure and while reconnecting. Not reliable. */
export const network_priority_low = 3;

// network_send_raw options and async_load[? "message_type"].
export const network_send_binary = 1;
export const network_send_text = 2;

// network_set_config parameters: GameMaker's.
export const network_config_connect_timeout = 0;
export const network_config_use_non_blocking_socket = 1;
export const network_config_enable_reliable_udp = 2;
export const network_config_disable_reliable_udp = 3;
export const network_config_avoid_time_wait = 4;
export const network_config_websocket_protocol = 5;
/** GameMaker's value is not published; gmnet uses 6. */
export const network_config_enable_multicast = 6;
/** GameMaker's value is not published; gmnet uses 7. */
export const network_config_disable_multicast = 7;
/** GameMaker's value is not published; gmnet uses 8. */
export const network_config_message_size_limit = 8;

// network_set_config / network_get_config parameters: gmnet's.
/** ws:// or wss:// URL of the signaling server (default: /ws on the page's own host). */
export const network_config_signaling_url = 100;
/** The app key: clients with different keys are separate networks. */
export const network_config_app_key = 101;
/** Outgoing batches per second to the signaling server; 0 sends at the end of each script task. */
export const network_config_tick_rate = 102;
/** RTCIceServer list (array or JSON text) used for WebRTC instead of the server's. */
export const network_config_ice_servers = 103;
/** 1 (default) lets UDP sockets open WebRTC DataChannels; 0 sends every datagram through the relay. */
export const network_config_enable_webrtc = 104;
/** Simulated one-way delay added to everything this engine sends, in ms. */
export const network_config_simulate_latency = 105;
/** Simulated random extra delay, 0…value ms (reorders datagrams, never stream data). */
export const network_config_simulate_jitter = 106;
/** Simulated share of outgoing datagrams dropped, 0…1 (streams are reliable and lose nothing). */
export const network_config_simulate_loss = 107;
/** Claims a host name for this engine's virtual IP; the answer arrives as network_type_hostname. */
export const network_config_hostname = 108;
/** Read only: this engine's virtual IP as a dotted string, "" while not connected. */
export const network_config_virtual_ip = 109;
/** Read only: 1 while connected to the signaling server. */
export const network_config_connected = 110;
/** End-to-end payload encryption of what engines send each other: network_encryption_none (default), _shared or _pair. */
export const network_config_encryption = 111;
/** The shared secret (8 characters or more) the encryption key is derived from; reads back as "" or a mask, never the secret. */
export const network_config_encryption_key = 112;

// network_config_encryption values.
/** Payloads travel as the script wrote them (the default). */
export const network_encryption_none = 0;
/** Payloads are sealed with AES-GCM under the key derived from network_config_encryption_key. */
export const network_encryption_shared = 1;
/**
 * Streams and datagrams are sealed under a key of their own per pair of engines (ephemeral ECDH
 * P-256, mixed with the key of network_config_encryption_key); app channels and broadcasts keep the shared key.
 */
export const network_encryption_pair = 2;

/** network_send_* return values for failures (GameMaker: "< 0 on failure"). */
export const NETWORK_SEND_FAILED = -1;
export const NETWORK_SEND_TOO_LARGE = -2;
