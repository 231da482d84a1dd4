/**
 * Every message of the protocol, by channel. Field names are from the point of view of the
 * client that sends or receives the message: `peerIp`/`peerPort` are the other end, `localPort`
 * is the client's own port. The server never trusts a client's claim about its own address: it
 * overwrites the source side (peerIp on the way out) with what it knows.
 *
 * Addresses travel as u32 (network order value of the dotted quad, e.g. 10.0.0.1 = 0x0a000001).
 */
import { type MessageOf, bool, f64, message, rest, restText, str, u16, u32, u8 } from "./schema.js";

/** Longest app key, host name, channel name. */
export const MAX_NAME_BYTES = 64;
/** Longest host of a BRIDGE_CONNECT (a DNS name is at most 253 characters). */
export const MAX_BRIDGE_HOST_BYTES = 255;

// ------------------------------------------------------------------ Channel.CONTROL

/** Client → server, first frame of every connection. `secret` is the client's identity secret (kept by the client); `token` a master session token ("" for none). */
export const Hello = message("Hello", { version: u16, appKey: str(MAX_NAME_BYTES), secret: str(128), token: str(256) });
/** Server → client, answer to a good Hello. */
export const Welcome = message("Welcome", {
  version: u16,
  virtualIp: u32,
  sessionId: str(64),
  heartbeatIntervalMs: u32,
  heartbeatTimeoutMs: u32,
  tickRate: u16,
  maxFrameSize: u32,
  serverTime: f64,
});
/** Server → client. `refChannel`/`refType` name the frame that caused it; `refId` its request id if it had one. */
export const ErrorMessage = message("Error", { code: u16, refChannel: u16, refType: u16, refId: u32, message: str(1024) });
export const Ping = message("Ping", { nonce: u32, serverTime: f64 });
export const Pong = message("Pong", { nonce: u32 });
export const Drain = message("Drain", { retryAfterMs: u32 });
/** ECHO_REQUEST (client → server) and ECHO_REPLY (server → client, same nonce): a round-trip probe. */
export const Echo = message("Echo", { nonce: u32 });
/** C→S right after HELLO. `sessionId` "" opens a resumable session; `received` counts the server's sequenced frames the client got. */
export const Resume = message("Resume", { sessionId: str(MAX_NAME_BYTES), received: u32 });
/** S→C right after WELCOME. `received` counts the client's sequenced frames the server got (0 for a fresh session). */
export const Resumed = message("Resumed", { resumed: bool, received: u32, resumeWindowMs: u32 });
export const Ack = message("Ack", { received: u32 });
export const ChannelRegister = message("ChannelRegister", { name: str(MAX_NAME_BYTES) });
export const ChannelAssigned = message("ChannelAssigned", { name: str(MAX_NAME_BYTES), channel: u16 });
export const ChannelUnregister = message("ChannelUnregister", { channel: u16 });
/**
 * The payload of an app channel frame (channel ≥ 1000) as the server relays it: the sender's
 * virtual IP, stamped by the server, then the sender's payload unchanged. A client sends the bare
 * payload (PROTOCOL.md §3).
 */
export const ChannelData = message("ChannelData", { fromIp: u32, data: rest });

// ------------------------------------------------------------------ Channel.MCP and LLM-session channels

/** Longest MCP tool name (MCP asks clients to accept 1–128 characters; gmnet keeps names short). */
export const MAX_TOOL_NAME_BYTES = 64;
/** Longest tool description. */
export const MAX_TOOL_DESCRIPTION_BYTES = 4096;
/** Longest JSON Schema of a tool's input. */
export const MAX_TOOL_SCHEMA_BYTES = 16384;

/** C→S: offer a tool to the app key's MCP clients. `schema` is the JSON text of its input's JSON Schema (an object schema). */
export const McpToolRegister = message("McpToolRegister", { name: str(MAX_TOOL_NAME_BYTES), description: str(MAX_TOOL_DESCRIPTION_BYTES), schema: str(MAX_TOOL_SCHEMA_BYTES) });
/** S→C: the answer to McpToolRegister (ToolStatus), in order. */
export const McpToolRegistered = message("McpToolRegistered", { name: str(MAX_TOOL_NAME_BYTES), status: u8, message: str(1024) });
export const McpToolUnregister = message("McpToolUnregister", { name: str(MAX_TOOL_NAME_BYTES) });
/** S→C on an LLM-session channel: call `tool` with `args`, the JSON text of an object the server validated against the tool's schema. */
export const LlmCall = message("LlmCall", { callId: u32, tool: str(MAX_TOOL_NAME_BYTES), args: restText });
/** C→S on the call's channel: the tool's answer, as text (often JSON), and whether it is an error. */
export const LlmResult = message("LlmResult", { callId: u32, isError: bool, content: restText });
/** S→C on the call's channel: the call ended without its answer (CallEndReason); a late LlmResult is ignored. */
export const LlmCallEnded = message("LlmCallEnded", { callId: u32, reason: u8 });

// ------------------------------------------------------------------ Channel.VSOCKET

/** Server → client when its virtual IP is (re)assigned outside the Welcome (e.g. after a login). */
export const VirtualIp = message("VirtualIp", { ip: u32 });
export const ResolveRequest = message("ResolveRequest", { reqId: u32, name: str(MAX_NAME_BYTES) });
/** `ip` 0 means the name is unknown. */
export const ResolveResponse = message("ResolveResponse", { reqId: u32, ip: u32 });
export const HostnameClaim = message("HostnameClaim", { reqId: u32, name: str(MAX_NAME_BYTES) });
export const HostnameResult = message("HostnameResult", { reqId: u32, ok: bool });

/**
 * SOCKET_STATUS_REQUEST and SOCKET_CONNECTION_REQUEST. From a client: "reach peerIp:peerPort
 * from my localPort". To the target: "peerIp:peerPort (stamped by the server) wants your localPort".
 * The server replaces the requester's reqId with its own routing id on the way to the target.
 */
export const SocketRequest = message("SocketRequest", { reqId: u32, peerIp: u32, peerPort: u16, localPort: u16 });
/** Target → server → requester: is anything listening on that port? */
export const SocketStatusResponse = message("SocketStatusResponse", { reqId: u32, listening: bool });
/** Target → server: accept or deny a connection request. */
export const SocketConnectionResponse = message("SocketConnectionResponse", { reqId: u32, accepted: bool });
/** Server → both ends when a connection is accepted: `connId` names the stream from now on. */
export const SocketConnected = message("SocketConnected", { reqId: u32, connId: u32, peerIp: u32, peerPort: u16, localPort: u16 });
export const RequestFailed = message("RequestFailed", { reqId: u32, reason: u8 });
/** Stream data. `seq` numbers the sender's frames on this stream from 1; relayed unchanged (receivers may use it to check order). */
export const ArbitraryData = message("ArbitraryData", { connId: u32, seq: u32, data: rest });
export const SocketClosed = message("SocketClosed", { connId: u32, reason: u8 });
/** Reserved and unused (resume acknowledges whole sessions with CONTROL ACK): every frame up to `seq` arrived. */
export const StreamAck = message("StreamAck", { connId: u32, seq: u32 });
/**
 * BRIDGE_CONNECT: "connect my localPort to the real TCP host:port" (PROTOCOL.md §8.4). `host` is a
 * DNS name, a dotted IPv4 address or an IPv6 address (with or without brackets), as the script gave it.
 */
export const BridgeConnect = message("BridgeConnect", { reqId: u32, host: str(MAX_BRIDGE_HOST_BYTES), port: u16, localPort: u16 });
export const UdpBind = message("UdpBind", { port: u16 });
/** From a client: send to peerIp:peerPort from localPort. To a client: from peerIp:peerPort (stamped) to localPort. */
export const Datagram = message("Datagram", { peerIp: u32, peerPort: u16, localPort: u16, data: rest });
/** Client → server: send to `port` on every other client of the same app key bound to it. Delivered as DATAGRAM. */
export const Broadcast = message("Broadcast", { port: u16, localPort: u16, data: rest });

// ------------------------------------------------------------------ Channel.SIGNAL

/** Kinds of SIGNAL_RELAY payload (simple-peer's signal data, as JSON). */
export const SignalKind = { OFFER: 1, ANSWER: 2, CANDIDATE: 3, RENEGOTIATE: 4, CLOSE: 5 } as const;
/** From a client: deliver `data` to peerIp. To a client: `data` from peerIp (stamped). `pairId` names the WebRTC association. */
export const SignalRelay = message("SignalRelay", { peerIp: u32, pairId: u32, kind: u8, data: str(16384) });
export const IceServersRequest = message("IceServersRequest", { reqId: u32 });
/** `json` is an RTCIceServer[]; TURN entries carry time-limited credentials. */
export const IceServers = message("IceServers", { reqId: u32, json: str(8192) });

export type HelloMessage = MessageOf<typeof Hello>;
export type WelcomeMessage = MessageOf<typeof Welcome>;
export type SocketRequestMessage = MessageOf<typeof SocketRequest>;
export type DatagramMessage = MessageOf<typeof Datagram>;
export type SignalRelayMessage = MessageOf<typeof SignalRelay>;

// ------------------------------------------------------------------ addresses

/** "10.0.0.1" → 0x0a000001, or undefined for anything that is not a dotted IPv4 quad. */
export function parseIpv4(text: string): number | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = Number(match[i]);
    if (part > 255) return undefined;
    value = value * 256 + part;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

// ------------------------------------------------------------------ Channel.MASTER

/** MasterType.REQUEST: `body` is JSON text (UTF-8); an empty body means `{}`. */
export const MasterRequest = message("MasterRequest", { reqId: u32, op: u16, body: rest });
/** MasterType.RESPONSE: same reqId and op as the request; `status` a MasterStatus; `body` JSON. */
export const MasterResponse = message("MasterResponse", { reqId: u32, op: u16, status: u8, body: rest });
/** MasterType.EVENT: `event` a MasterEvent; `body` JSON. */
export const MasterEventMessage = message("MasterEvent", { event: u16, body: rest });
