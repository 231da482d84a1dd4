import { statSync } from "node:fs";
import { resolve } from "node:path";
import { Channel, FRAME_HEADER_SIZE, parseIpv4 } from "@gmnet/engine/protocol";
import { parseAllowEntry } from "./bridge/outbound-allow.js";
import { type GmBridgeSpec, formatGmBridgeSpec, parseGmBridgeSpec, validateGmBridgeSpec } from "./bridge/spec.js";
import { MAX_NODE_ID, isNodeId } from "./cluster/node-ids.js";
import { parseVirtualNetwork } from "./services/virtual-network.js";

/**
 * Every setting of the server, with its default. Limits are explicit so operators can see and
 * tune what protects the process: frame size, queue size, rate, heartbeat, pending requests.
 */
export interface ServerConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** SQLite file for the durable state (identities and virtual IPs, accounts, …) when `database` is unset; ":memory:" keeps nothing. */
  db: string;
  /**
   * A shared PostgreSQL database (postgres:// or postgresql:// URL) for the durable state in place of
   * the SQLite file `db`; undefined (the default) keeps SQLite. Its migrations are applied at
   * start-up (src/storage/).
   */
  database: string | undefined;
  /**
   * Redis (redis:// or rediss:// URL) joining this server to others as one network (PROTOCOL.md
   * §15): virtual-socket streams and datagrams reach sessions on other nodes. undefined (the
   * default) is a single node. Identities must be shared too (`database`).
   */
  redis: string | undefined;
  /** This node's id among the nodes sharing `redis`, 1–255 (the high 8 bits of its connIds); undefined: a random free one. */
  nodeId: number | undefined;
  /** Bound of a node's inbound Redis stream (XADD MAXLEN ~). */
  redisStreamMaxLen: number;
  /**
   * Bytes of messages to other nodes that Redis has not acknowledged yet (buffered while it is
   * unreachable, plus in flight); past it a stream's data closes that stream (PEER_GONE) and a
   * datagram is dropped, counted (PROTOCOL.md §15).
   */
  redisOutboundMaxBytes: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /**
   * Outgoing batches per second for every priority. 0 (the default) adds no delay: what one turn
   * of the event loop queued for a client leaves as one WebSocket message at the end of that turn.
   */
  tickRate: number;
  /** Per-priority overrides of tickRate (e.g. Low at 20 Hz for background updates); undefined follows tickRate. */
  highTickRate: number | undefined;
  normalTickRate: number | undefined;
  lowTickRate: number | undefined;
  /** false sends every frame as its own WebSocket message the moment it is queued (no batching at all). */
  batching: boolean;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** Virtual IPs are drawn from this CIDR range. */
  virtualNetwork: string;
  /** Largest frame payload a client may send; larger frames close the connection (PROTOCOL_ERROR). */
  maxFrameSize: number;
  /** Largest WebSocket message (one batch of frames). */
  maxMessageSize: number;
  /**
   * Unsent bytes per client (server queue + socket buffer). Above half, datagrams are dropped;
   * a client that stays above the whole for slowConsumerMs, or passes four times it, is cut off.
   */
  maxQueuedBytes: number;
  /** How long a client may stay above maxQueuedBytes before it is a slow consumer. */
  slowConsumerMs: number;
  /**
   * Bytes per second a client may send (token bucket, burst 2 s worth); every WebSocket message
   * costs its length plus 64, however many frames it batches. Over it, reading from the client
   * pauses until the bucket refills (TCP backpressure). 0 disables.
   */
  rateLimitBytes: number;
  /** How long a dropped connection's session is kept for a RESUME (PROTOCOL.md §14); 0 disables resume. */
  resumeWindowMs: number;
  /** Bytes of one stream's data held for a detached session; past it the stream ends (NOT_RECOVERED). */
  replayBytesPerStream: number;
  /** Bytes held for one session's replay (sent, not yet acknowledged, plus queued while detached). */
  replayBytesPerSession: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  helloTimeoutMs: number;
  /** How long a virtual-socket handshake may wait for the target's answer. */
  requestTimeoutMs: number;
  /** Unanswered handshakes one client may have open at once. */
  maxPendingRequests: number;
  /** Open virtual-socket streams one client may be an end of. */
  maxStreamsPerSession: number;
  /** UDP ports one client may bind. */
  maxUdpBindings: number;
  /** App channels one app key may register. */
  maxAppChannels: number;
  /** Channel tables of app keys nobody is connected to that are kept; past it the one idle longest is forgotten. */
  maxIdleApps: number;
  /** Browser origins allowed to connect; empty allows any (native clients send none). */
  allowedOrigins: string[];
  /** RTCIceServer list for WebRTC; TURN entries get REST credentials when turnSecret is set. */
  iceServers: Array<{ urls: string | string[]; username?: string; credential?: string }>;
  turnSecret: string | undefined;
  turnCredentialTtlSeconds: number;
  /** SIGNAL_RELAY frames one client may send per 10 seconds (token bucket; the burst is the same number). */
  signalRateLimit: number;
  /** How long clients are told to wait before reconnecting after a drain. */
  drainRetryAfterMs: number;
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy: boolean;
  /** Origins allowed to call the HTTP API (/api/); "*" allows any. */
  corsOrigins: string[];
  /** scrypt N (a power of two ≥ 1024) and p for password hashes; r is 8. Lower only for tests. */
  scryptCost: number;
  scryptParallelism: number;
  /** Password hashes computed at once, and how many may wait before logins are answered busy. */
  maxConcurrentHashes: number;
  maxQueuedHashes: number;
  /** Failed logins per account, and per client address, within loginWindowMs before further logins are locked. */
  loginMaxFailures: number;
  loginMaxFailuresPerAddress: number;
  loginWindowMs: number;
  /** Accounts (registered or guest) one client address may create within accountCreationWindowMs; more are answered rate_limited. */
  accountCreationsPerAddress: number;
  accountCreationWindowMs: number;
  /** Lifetime of a master session token; a refresh issues a new one. */
  sessionTtlMs: number;
  /** How often expired and revoked tokens are deleted. */
  sessionSweepIntervalMs: number;
  /** A master request whose handler takes longer is answered TIMEOUT. */
  masterRequestTimeoutMs: number;
  /** Largest master request body (WebSocket and HTTP), in bytes. */
  masterMaxBodyBytes: number;
  /** Unanswered master requests one connection may have. */
  masterMaxInFlight: number;
  /** Chat messages one connection may send per 10 seconds. */
  chatRateLimit: number;
  maxPartySize: number;
  /** Characters one account may have (PROTOCOL.md §16.9); more are answered too_many_characters. */
  maxCharactersPerAccount: number;
  /** Largest attributes object of one character, in bytes of its JSON text. */
  characterAttributesMaxBytes: number;
  /**
   * Who may write world documents (PROTOCOL.md §16.10): `appKey=username` entries, each naming a
   * registered (not guest) account of that app key. `--world-writer my-game=admin`, repeatable.
   * None by default: nobody writes, everyone logged in reads.
   */
  worldWriters: string[];
  /** World documents one app key may hold; creating more is answered too_many_world_documents. */
  worldMaxDocuments: number;
  /** Largest value of one world document, in bytes of its JSON text. */
  worldValueMaxBytes: number;
  /** Document names one connection may subscribe to (subscribing to all counts as one). */
  worldMaxSubscriptions: number;
  /** Location updates (PRESENCE_SET_LOCATION) one connection may send per second; more are answered rate_limited. */
  locationRateLimit: number;
  /**
   * A directory served as static files (GET and HEAD) on every path the server does not own itself
   * (/ws, /healthz, /metrics, /api): the built playground under `npm start`. None serves nothing.
   */
  staticDir: string | undefined;
  /**
   * GameMaker bridges (docs/GAMEMAKER.md): real TCP ports on `host` whose connections become
   * virtual streams to a tab's network_create_server. `--gm-bridge 6510=arena:6510@my-app`, repeatable.
   */
  gmBridges: GmBridgeSpec[];
  /** Open connections one bridge takes at once; more are closed at accept. At most 16384 (its ephemeral virtual ports). */
  gmBridgeMaxConnections: number;
  /** Open bridged connections one client address may have at once, over all bridges. */
  gmBridgeMaxPerAddress: number;
  /** How long the target may take to accept a bridged connection before it is closed. */
  gmBridgeConnectTimeoutMs: number;
  /** A bridged connection with no data either way for this long is closed; 0 (the default) never (games may sit idle). */
  gmBridgeIdleTimeoutMs: number;
  /**
   * The outbound bridge (docs/GAMEMAKER.md "Browser client → native GameMaker server"): the real
   * `host:port` destinations engines may network_connect to through the server. Exact matches only;
   * empty (the default) allows none. `--gm-bridge-allow 127.0.0.1:6510`, repeatable.
   */
  gmBridgeAllow: string[];
  /** Outbound bridged connections (dialing or open) at once, over all clients. */
  gmBridgeOutboundMaxConnections: number;
  /** Outbound bridged connections (dialing or open) one client may have at once. */
  gmBridgeOutboundMaxPerClient: number;
  /**
   * The MCP endpoint (/mcp, docs/MCP.md): `appKey=token` entries, one per app key whose tools MCP
   * clients may list and call with `Authorization: Bearer <token>`. Empty (the default): no /mcp.
   */
  mcpTokens: string[];
  /** Browser origins that may call /mcp; a request with any other Origin header gets 403 (MCP clients outside browsers send none). */
  mcpAllowedOrigins: string[];
  /** A tool call the engine has not answered in this long ends with an MCP error. */
  mcpCallTimeoutMs: number;
  /** Tool calls in flight at once per app key; more are refused with an MCP error. */
  mcpMaxConcurrentCalls: number;
  /** Tools one app key may have registered at once. */
  mcpMaxTools: number;
  /** MCP client sessions open at once per app key (each has an LLM-session channel, 2000–2999). */
  mcpMaxSessions: number;
  /** An MCP session with no request for this long is ended (its client starts a new one). */
  mcpSessionIdleMs: number;
}

export const defaultConfig: ServerConfig = {
  host: "0.0.0.0",
  port: 8080,
  db: "./data/gmnet.sqlite",
  database: undefined,
  redis: undefined,
  nodeId: undefined,
  redisStreamMaxLen: 10_000,
  // 64 MiB: a blip of a few seconds at tens of MB/s of cross-node traffic fits; a long outage
  // ends streams instead of growing the process without bound.
  redisOutboundMaxBytes: 64 * 1024 * 1024,
  logLevel: "info",
  tickRate: 0,
  highTickRate: undefined,
  normalTickRate: undefined,
  lowTickRate: undefined,
  batching: true,
  tlsCert: undefined,
  tlsKey: undefined,
  virtualNetwork: "10.0.0.0/8",
  maxFrameSize: 256 * 1024,
  maxMessageSize: 1024 * 1024,
  maxQueuedBytes: 4 * 1024 * 1024,
  slowConsumerMs: 5000,
  rateLimitBytes: 16 * 1024 * 1024,
  resumeWindowMs: 30_000,
  replayBytesPerStream: 2 * 1024 * 1024,
  replayBytesPerSession: 8 * 1024 * 1024,
  heartbeatIntervalMs: 15_000,
  heartbeatTimeoutMs: 10_000,
  helloTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  maxPendingRequests: 64,
  maxStreamsPerSession: 1024,
  maxUdpBindings: 64,
  maxAppChannels: 256,
  maxIdleApps: 1024,
  allowedOrigins: [],
  // None by default: host candidates connect peers on one machine or LAN. Internet play needs
  // STUN (and TURN for strict NATs) from the operator: --ice-servers '[{"urls":"stun:…"}]'.
  iceServers: [],
  turnSecret: undefined,
  turnCredentialTtlSeconds: 3600,
  signalRateLimit: 200,
  drainRetryAfterMs: 1000,
  trustProxy: false,
  corsOrigins: ["*"],
  // OWASP's scrypt alternative to N=2^17,p=1 with 16 MiB instead of 128 MiB per hash (~200 ms).
  scryptCost: 16384,
  scryptParallelism: 5,
  maxConcurrentHashes: 4,
  maxQueuedHashes: 64,
  loginMaxFailures: 5,
  loginMaxFailuresPerAddress: 20,
  loginWindowMs: 15 * 60_000,
  accountCreationsPerAddress: 100,
  accountCreationWindowMs: 3600_000,
  sessionTtlMs: 24 * 3600_000,
  sessionSweepIntervalMs: 60_000,
  masterRequestTimeoutMs: 10_000,
  masterMaxBodyBytes: 16 * 1024,
  masterMaxInFlight: 32,
  chatRateLimit: 10,
  maxPartySize: 8,
  maxCharactersPerAccount: 8,
  characterAttributesMaxBytes: 4096,
  worldWriters: [],
  worldMaxDocuments: 32,
  worldValueMaxBytes: 4096,
  worldMaxSubscriptions: 64,
  locationRateLimit: 10,
  staticDir: undefined,
  gmBridges: [],
  gmBridgeMaxConnections: 256,
  gmBridgeMaxPerAddress: 16,
  gmBridgeConnectTimeoutMs: 10_000,
  gmBridgeIdleTimeoutMs: 0,
  gmBridgeAllow: [],
  gmBridgeOutboundMaxConnections: 256,
  gmBridgeOutboundMaxPerClient: 8,
  mcpTokens: [],
  mcpAllowedOrigins: [],
  mcpCallTimeoutMs: 30_000,
  mcpMaxConcurrentCalls: 16,
  mcpMaxTools: 64,
  mcpMaxSessions: 64,
  mcpSessionIdleMs: 30 * 60_000,
};

/** Ephemeral virtual ports a bridge hands out, one per open connection (49152–65535). */
export const GM_BRIDGE_EPHEMERAL_PORTS = 65536 - 49152;

/** Flags for the `gmnet-server` command line, each with its environment variable. */
const FLAGS: Record<string, { key: keyof ServerConfig; env: string; kind: "string" | "number" | "list" | "json" | "boolean" | "bridges" | "allow" | "tokens" | "writers" }> = {
  host: { key: "host", env: "GMNET_HOST", kind: "string" },
  port: { key: "port", env: "PORT", kind: "number" },
  db: { key: "db", env: "GMNET_DB", kind: "string" },
  database: { key: "database", env: "GMNET_DATABASE_URL", kind: "string" },
  redis: { key: "redis", env: "GMNET_REDIS_URL", kind: "string" },
  "node-id": { key: "nodeId", env: "GMNET_NODE_ID", kind: "number" },
  "redis-stream-max-len": { key: "redisStreamMaxLen", env: "GMNET_REDIS_STREAM_MAX_LEN", kind: "number" },
  "redis-outbound-max-bytes": { key: "redisOutboundMaxBytes", env: "GMNET_REDIS_OUTBOUND_MAX_BYTES", kind: "number" },
  "log-level": { key: "logLevel", env: "GMNET_LOG_LEVEL", kind: "string" },
  "tick-rate": { key: "tickRate", env: "GMNET_TICK_RATE", kind: "number" },
  "high-tick-rate": { key: "highTickRate", env: "GMNET_HIGH_TICK_RATE", kind: "number" },
  "normal-tick-rate": { key: "normalTickRate", env: "GMNET_NORMAL_TICK_RATE", kind: "number" },
  "low-tick-rate": { key: "lowTickRate", env: "GMNET_LOW_TICK_RATE", kind: "number" },
  batching: { key: "batching", env: "GMNET_BATCHING", kind: "boolean" },
  "tls-cert": { key: "tlsCert", env: "GMNET_TLS_CERT", kind: "string" },
  "tls-key": { key: "tlsKey", env: "GMNET_TLS_KEY", kind: "string" },
  "virtual-network": { key: "virtualNetwork", env: "GMNET_VIRTUAL_NETWORK", kind: "string" },
  "max-frame-size": { key: "maxFrameSize", env: "GMNET_MAX_FRAME_SIZE", kind: "number" },
  "max-message-size": { key: "maxMessageSize", env: "GMNET_MAX_MESSAGE_SIZE", kind: "number" },
  "max-queued-bytes": { key: "maxQueuedBytes", env: "GMNET_MAX_QUEUED_BYTES", kind: "number" },
  "slow-consumer-ms": { key: "slowConsumerMs", env: "GMNET_SLOW_CONSUMER_MS", kind: "number" },
  "rate-limit-bytes": { key: "rateLimitBytes", env: "GMNET_RATE_LIMIT_BYTES", kind: "number" },
  "resume-window": { key: "resumeWindowMs", env: "GMNET_RESUME_WINDOW_MS", kind: "number" },
  "replay-bytes-per-stream": { key: "replayBytesPerStream", env: "GMNET_REPLAY_BYTES_PER_STREAM", kind: "number" },
  "replay-bytes-per-session": { key: "replayBytesPerSession", env: "GMNET_REPLAY_BYTES_PER_SESSION", kind: "number" },
  "heartbeat-interval": { key: "heartbeatIntervalMs", env: "GMNET_HEARTBEAT_INTERVAL_MS", kind: "number" },
  "heartbeat-timeout": { key: "heartbeatTimeoutMs", env: "GMNET_HEARTBEAT_TIMEOUT_MS", kind: "number" },
  "hello-timeout": { key: "helloTimeoutMs", env: "GMNET_HELLO_TIMEOUT_MS", kind: "number" },
  "request-timeout": { key: "requestTimeoutMs", env: "GMNET_REQUEST_TIMEOUT_MS", kind: "number" },
  "max-pending-requests": { key: "maxPendingRequests", env: "GMNET_MAX_PENDING_REQUESTS", kind: "number" },
  "max-streams": { key: "maxStreamsPerSession", env: "GMNET_MAX_STREAMS", kind: "number" },
  "max-udp-bindings": { key: "maxUdpBindings", env: "GMNET_MAX_UDP_BINDINGS", kind: "number" },
  "max-app-channels": { key: "maxAppChannels", env: "GMNET_MAX_APP_CHANNELS", kind: "number" },
  "max-idle-apps": { key: "maxIdleApps", env: "GMNET_MAX_IDLE_APPS", kind: "number" },
  "allowed-origins": { key: "allowedOrigins", env: "GMNET_ALLOWED_ORIGINS", kind: "list" },
  "ice-servers": { key: "iceServers", env: "GMNET_ICE_SERVERS", kind: "json" },
  "turn-secret": { key: "turnSecret", env: "GMNET_TURN_SECRET", kind: "string" },
  "turn-credential-ttl": { key: "turnCredentialTtlSeconds", env: "GMNET_TURN_CREDENTIAL_TTL", kind: "number" },
  "signal-rate-limit": { key: "signalRateLimit", env: "GMNET_SIGNAL_RATE_LIMIT", kind: "number" },
  "drain-retry-after": { key: "drainRetryAfterMs", env: "GMNET_DRAIN_RETRY_AFTER_MS", kind: "number" },
  "trust-proxy": { key: "trustProxy", env: "GMNET_TRUST_PROXY", kind: "boolean" },
  "cors-origins": { key: "corsOrigins", env: "GMNET_CORS_ORIGINS", kind: "list" },
  "scrypt-cost": { key: "scryptCost", env: "GMNET_SCRYPT_COST", kind: "number" },
  "scrypt-parallelism": { key: "scryptParallelism", env: "GMNET_SCRYPT_PARALLELISM", kind: "number" },
  "max-concurrent-hashes": { key: "maxConcurrentHashes", env: "GMNET_MAX_CONCURRENT_HASHES", kind: "number" },
  "max-queued-hashes": { key: "maxQueuedHashes", env: "GMNET_MAX_QUEUED_HASHES", kind: "number" },
  "login-max-failures": { key: "loginMaxFailures", env: "GMNET_LOGIN_MAX_FAILURES", kind: "number" },
  "login-max-failures-per-address": { key: "loginMaxFailuresPerAddress", env: "GMNET_LOGIN_MAX_FAILURES_PER_ADDRESS", kind: "number" },
  "login-window": { key: "loginWindowMs", env: "GMNET_LOGIN_WINDOW_MS", kind: "number" },
  "account-creations-per-address": { key: "accountCreationsPerAddress", env: "GMNET_ACCOUNT_CREATIONS_PER_ADDRESS", kind: "number" },
  "account-creation-window": { key: "accountCreationWindowMs", env: "GMNET_ACCOUNT_CREATION_WINDOW_MS", kind: "number" },
  "session-ttl": { key: "sessionTtlMs", env: "GMNET_SESSION_TTL_MS", kind: "number" },
  "session-sweep-interval": { key: "sessionSweepIntervalMs", env: "GMNET_SESSION_SWEEP_INTERVAL_MS", kind: "number" },
  "master-request-timeout": { key: "masterRequestTimeoutMs", env: "GMNET_MASTER_REQUEST_TIMEOUT_MS", kind: "number" },
  "master-max-body": { key: "masterMaxBodyBytes", env: "GMNET_MASTER_MAX_BODY_BYTES", kind: "number" },
  "master-max-in-flight": { key: "masterMaxInFlight", env: "GMNET_MASTER_MAX_IN_FLIGHT", kind: "number" },
  "chat-rate-limit": { key: "chatRateLimit", env: "GMNET_CHAT_RATE_LIMIT", kind: "number" },
  "max-party-size": { key: "maxPartySize", env: "GMNET_MAX_PARTY_SIZE", kind: "number" },
  "max-characters-per-account": { key: "maxCharactersPerAccount", env: "GMNET_MAX_CHARACTERS_PER_ACCOUNT", kind: "number" },
  "character-attributes-max-bytes": { key: "characterAttributesMaxBytes", env: "GMNET_CHARACTER_ATTRIBUTES_MAX_BYTES", kind: "number" },
  "world-writer": { key: "worldWriters", env: "GMNET_WORLD_WRITERS", kind: "writers" },
  "world-max-documents": { key: "worldMaxDocuments", env: "GMNET_WORLD_MAX_DOCUMENTS", kind: "number" },
  "world-value-max-bytes": { key: "worldValueMaxBytes", env: "GMNET_WORLD_VALUE_MAX_BYTES", kind: "number" },
  "world-max-subscriptions": { key: "worldMaxSubscriptions", env: "GMNET_WORLD_MAX_SUBSCRIPTIONS", kind: "number" },
  "location-rate-limit": { key: "locationRateLimit", env: "GMNET_LOCATION_RATE_LIMIT", kind: "number" },
  "static-dir": { key: "staticDir", env: "GMNET_STATIC_DIR", kind: "string" },
  "gm-bridge": { key: "gmBridges", env: "GMNET_GM_BRIDGES", kind: "bridges" },
  "gm-bridge-max-connections": { key: "gmBridgeMaxConnections", env: "GMNET_GM_BRIDGE_MAX_CONNECTIONS", kind: "number" },
  "gm-bridge-max-per-address": { key: "gmBridgeMaxPerAddress", env: "GMNET_GM_BRIDGE_MAX_PER_ADDRESS", kind: "number" },
  "gm-bridge-connect-timeout": { key: "gmBridgeConnectTimeoutMs", env: "GMNET_GM_BRIDGE_CONNECT_TIMEOUT_MS", kind: "number" },
  "gm-bridge-idle-timeout": { key: "gmBridgeIdleTimeoutMs", env: "GMNET_GM_BRIDGE_IDLE_TIMEOUT_MS", kind: "number" },
  "gm-bridge-allow": { key: "gmBridgeAllow", env: "GMNET_GM_BRIDGE_ALLOW", kind: "allow" },
  "gm-bridge-outbound-max-connections": { key: "gmBridgeOutboundMaxConnections", env: "GMNET_GM_BRIDGE_OUTBOUND_MAX_CONNECTIONS", kind: "number" },
  "gm-bridge-outbound-max-per-client": { key: "gmBridgeOutboundMaxPerClient", env: "GMNET_GM_BRIDGE_OUTBOUND_MAX_PER_CLIENT", kind: "number" },
  "mcp-token": { key: "mcpTokens", env: "GMNET_MCP_TOKENS", kind: "tokens" },
  "mcp-allowed-origins": { key: "mcpAllowedOrigins", env: "GMNET_MCP_ALLOWED_ORIGINS", kind: "list" },
  "mcp-call-timeout": { key: "mcpCallTimeoutMs", env: "GMNET_MCP_CALL_TIMEOUT_MS", kind: "number" },
  "mcp-max-concurrent-calls": { key: "mcpMaxConcurrentCalls", env: "GMNET_MCP_MAX_CONCURRENT_CALLS", kind: "number" },
  "mcp-max-tools": { key: "mcpMaxTools", env: "GMNET_MCP_MAX_TOOLS", kind: "number" },
  "mcp-max-sessions": { key: "mcpMaxSessions", env: "GMNET_MCP_MAX_SESSIONS", kind: "number" },
  "mcp-session-idle": { key: "mcpSessionIdleMs", env: "GMNET_MCP_SESSION_IDLE_MS", kind: "number" },
};

/** `gmnet-server --help`: every flag with its environment variable and default. */
export function usage(): string {
  const lines = Object.entries(FLAGS).map(([flag, spec]) => {
    const value = defaultConfig[spec.key];
    const shown = value === undefined ? "" : ` (default ${typeof value === "string" ? value : JSON.stringify(value)})`;
    return `  --${flag.padEnd(22)} ${spec.env}${shown}`;
  });
  return ["usage: gmnet-server [--flag value | --flag=value]...", "", "Flags override environment variables, which override defaults:", ...lines, "",
    "--gm-bridge takes <real port>=<host name or virtual IP>:<virtual port>[@<app key>] (app key default gmnet)",
    "and may be repeated; GMNET_GM_BRIDGES takes a comma-separated list. See docs/GAMEMAKER.md.",
    "--gm-bridge-allow takes host:port (exact; [ipv6]:port), a real destination engines may network_connect to",
    "through the server; repeatable, GMNET_GM_BRIDGE_ALLOW comma-separated; none by default.",
    "--mcp-token takes <app key>=<token> (token: 16+ characters), opening /mcp to MCP clients of that app key;",
    "repeatable, GMNET_MCP_TOKENS comma-separated; none by default. See docs/MCP.md.",
    "--world-writer takes <app key>=<user name>, a registered account allowed to write that app key's world",
    "documents; repeatable, GMNET_WORLD_WRITERS comma-separated; none by default. See docs/MASTER.md.", ""].join("\n");
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Reads `--flag value` / `--flag=value` arguments over environment variables over defaults. */
export function configFromArgs(argv: readonly string[], env: Record<string, string | undefined>): ServerConfig {
  const config: ServerConfig = { ...defaultConfig };
  // A repeatable flag (--gm-bridge) adds to what earlier occurrences on the command line gave,
  // and its first occurrence replaces the environment's list.
  const repeated = new Set<string>();
  const set = (flag: string, raw: string, fromArgs = false): void => {
    const spec = FLAGS[flag];
    if (spec === undefined) throw new ConfigError(`unknown option --${flag} (known: ${Object.keys(FLAGS).map((f) => `--${f}`).join(" ")})`);
    const value = parseValue(flag, spec.kind, raw);
    const target = config as unknown as Record<string, unknown>;
    if ((spec.kind === "bridges" || spec.kind in CHECKED_LISTS) && fromArgs && repeated.has(flag)) target[spec.key] = [...(target[spec.key] as unknown[]), ...(value as unknown[])];
    else target[spec.key] = value;
    if (fromArgs) repeated.add(flag);
  };
  for (const [flag, spec] of Object.entries(FLAGS)) {
    const raw = env[spec.env];
    if (raw !== undefined && raw !== "") set(flag, raw);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`--${flag} needs a value`);
    set(flag, value, true);
  }
  return validateConfig(config);
}

/** Repeatable flags whose entries stay text, each checked by its parser (which throws a readable message). */
const CHECKED_LISTS: Partial<Record<string, (entry: string) => unknown>> = { allow: parseAllowEntry, tokens: parseMcpToken, writers: parseWorldWriter };

function parseValue(flag: string, kind: string, raw: string): unknown {
  if (kind === "number") {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(`--${flag} must be a non-negative number, not ${JSON.stringify(raw)}`);
    return value;
  }
  if (kind === "boolean") {
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    throw new ConfigError(`--${flag} must be true or false, not ${JSON.stringify(raw)}`);
  }
  if (kind === "list") return raw.split(",").map((item) => item.trim()).filter(Boolean);
  if (kind === "bridges") {
    try {
      return raw.split(",").map((item) => item.trim()).filter(Boolean).map(parseGmBridgeSpec);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  const check = CHECKED_LISTS[kind];
  if (check !== undefined) {
    // Kept as text (the way they were written), each checked now so a typo stops the startup.
    const entries = raw.split(",").map((item) => item.trim()).filter(Boolean);
    try {
      for (const entry of entries) check(entry);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
    return entries;
  }
  if (kind === "json") {
    try {
      return JSON.parse(raw);
    } catch {
      throw new ConfigError(`--${flag} must be JSON`);
    }
  }
  return raw;
}

/** Largest Hello payload (version, app key, secret, token at their maximum lengths). */
const MAX_HELLO_BYTES = 2 + (2 + 64) + (2 + 128) + (2 + 256);
/** ICE_SERVERS carries the list as a string of at most this many UTF-8 bytes. */
const MAX_ICE_SERVERS_JSON = 8192;
/** What TURN REST credentials add to one entry at most (username "expiry:a.b.c.d", base64 SHA-1 HMAC). */
const TURN_CREDENTIAL_BYTES = '"username":"4294967295:255.255.255.255","credential":"'.length + 28 + 2;

export function validateConfig(config: ServerConfig): ServerConfig {
  const count = (key: keyof ServerConfig, min: number): void => {
    const value = config[key];
    if (typeof value !== "number" || !Number.isFinite(value) || value < min) throw new ConfigError(`${key} must be a number ≥ ${min}, not ${String(value)}`);
  };
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) throw new ConfigError(`port must be 0–65535, not ${config.port}`);
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) throw new ConfigError("--tls-cert and --tls-key go together");
  count("tickRate", 0);
  for (const key of ["highTickRate", "normalTickRate", "lowTickRate"] as const) if (config[key] !== undefined) count(key, 0);
  if (typeof config.batching !== "boolean") throw new ConfigError("batching must be true or false");
  count("maxFrameSize", MAX_HELLO_BYTES);
  count("maxMessageSize", 1);
  count("maxQueuedBytes", 1);
  count("slowConsumerMs", 1);
  count("rateLimitBytes", 0);
  count("resumeWindowMs", 0);
  count("replayBytesPerStream", 1);
  count("replayBytesPerSession", 1);
  // A paused reader must be able to take the largest message in one go once the bucket is full.
  if (config.rateLimitBytes > 0 && config.rateLimitBytes * 2 < config.maxMessageSize + 64) {
    throw new ConfigError(`rateLimitBytes (${config.rateLimitBytes}) must allow one largest message (maxMessageSize ${config.maxMessageSize}) per 2 s burst`);
  }
  count("helloTimeoutMs", 1);
  count("requestTimeoutMs", 1);
  count("maxPendingRequests", 1);
  count("maxStreamsPerSession", 1);
  count("maxUdpBindings", 1);
  count("maxAppChannels", 0);
  count("maxIdleApps", 0);
  count("turnCredentialTtlSeconds", 1);
  count("signalRateLimit", 0);
  count("drainRetryAfterMs", 0);
  count("scryptParallelism", 1);
  count("maxConcurrentHashes", 1);
  count("maxQueuedHashes", 0);
  count("loginMaxFailures", 1);
  count("loginMaxFailuresPerAddress", 1);
  count("loginWindowMs", 1);
  count("accountCreationsPerAddress", 1);
  count("accountCreationWindowMs", 1);
  count("sessionTtlMs", 1000);
  count("sessionSweepIntervalMs", 1);
  count("masterRequestTimeoutMs", 1);
  count("masterMaxBodyBytes", 64);
  count("masterMaxInFlight", 1);
  count("chatRateLimit", 1);
  count("maxPartySize", 2);
  count("maxCharactersPerAccount", 1);
  // "{}" is the smallest attributes object.
  count("characterAttributesMaxBytes", 2);
  count("worldMaxDocuments", 1);
  // "{}" is the smallest value.
  count("worldValueMaxBytes", 2);
  count("worldMaxSubscriptions", 1);
  count("locationRateLimit", 1);
  // scrypt needs a power of two; below 1024 a hash is too cheap to slow down guessing at all.
  if (!Number.isInteger(Math.log2(config.scryptCost)) || config.scryptCost < 1024) throw new ConfigError(`scryptCost must be a power of two ≥ 1024, not ${config.scryptCost}`);
  if (typeof config.trustProxy !== "boolean") throw new ConfigError("trustProxy must be true or false");
  if (!Array.isArray(config.corsOrigins) || !config.corsOrigins.every((origin) => typeof origin === "string")) {
    throw new ConfigError("corsOrigins must be a list of origins like https://game.example, or *");
  }
  if (config.maxFrameSize > config.maxMessageSize) throw new ConfigError("maxFrameSize cannot exceed maxMessageSize");
  // A reading client must always have room for one relayed frame of the largest size (and a
  // datagram, dropped above half the queue, for one too), or it would be cut off for nothing.
  if (config.maxQueuedBytes < 2 * (config.maxFrameSize + 4 * FRAME_HEADER_SIZE)) {
    throw new ConfigError(`maxQueuedBytes (${config.maxQueuedBytes}) must be at least twice maxFrameSize plus headers (${2 * (config.maxFrameSize + 4 * FRAME_HEADER_SIZE)})`);
  }
  if (config.maxAppChannels > 1000) throw new ConfigError("maxAppChannels cannot exceed the 1000 app channel numbers (1000–1999)");
  if (!(config.heartbeatIntervalMs > 0) || !(config.heartbeatTimeoutMs > 0)) throw new ConfigError("heartbeat interval and timeout must be positive");
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(config.logLevel)) throw new ConfigError(`unknown log level ${config.logLevel}`);
  try {
    parseVirtualNetwork(config.virtualNetwork);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (!Array.isArray(config.allowedOrigins) || !config.allowedOrigins.every((origin) => typeof origin === "string")) {
    throw new ConfigError("allowedOrigins must be a list of origins like https://game.example");
  }
  validateDatabase(config.database);
  validateRedis(config);
  validateIceServers(config);
  validateStaticDir(config.staticDir);
  validateGmBridges(config);
  validateMcp(config);
  validateWorld(config);
  return config;
}

/** A postgres:// or postgresql:// URL; the error never repeats the URL (it may hold a password). */
function validateDatabase(database: string | undefined): void {
  if (database === undefined) return;
  const problem = "--database (GMNET_DATABASE_URL) must be a PostgreSQL URL like postgres://user:password@host:5432/gmnet";
  if (typeof database !== "string" || !/^postgres(ql)?:\/\//i.test(database)) throw new ConfigError(problem);
  try {
    new URL(database);
  } catch {
    throw new ConfigError(`${problem} (this one does not parse as a URL)`);
  }
}

/** A redis:// or rediss:// URL, a node id that fits the connIds' high bits, a positive stream bound; errors never repeat the URL. */
function validateRedis(config: ServerConfig): void {
  if (config.redis !== undefined) {
    const problem = "--redis (GMNET_REDIS_URL) must be a Redis URL like redis://host:6379 or rediss://user:password@host:6380";
    if (typeof config.redis !== "string" || !/^rediss?:\/\//i.test(config.redis)) throw new ConfigError(problem);
    try {
      new URL(config.redis);
    } catch {
      throw new ConfigError(`${problem} (this one does not parse as a URL)`);
    }
    // Each node's own SQLite would give one identity a different address on each node, and two identities the same one.
    if (config.database === undefined) throw new ConfigError("--redis needs --database postgres://… (GMNET_DATABASE_URL): the nodes must share one identity table");
  }
  if (config.nodeId !== undefined && !isNodeId(config.nodeId)) throw new ConfigError(`--node-id must be an integer from 1 to ${MAX_NODE_ID}, not ${config.nodeId}`);
  if (!Number.isInteger(config.redisStreamMaxLen) || config.redisStreamMaxLen < 1) {
    throw new ConfigError(`--redis-stream-max-len must be a positive integer, not ${config.redisStreamMaxLen}`);
  }
  if (!Number.isInteger(config.redisOutboundMaxBytes) || config.redisOutboundMaxBytes < 1) {
    throw new ConfigError(`--redis-outbound-max-bytes must be a positive integer, not ${config.redisOutboundMaxBytes}`);
  }
}

/** `appKey=username` → its parts; throws with a readable message. */
export function parseWorldWriter(entry: string): { appKey: string; username: string } {
  const at = entry.indexOf("=");
  const appKey = at < 0 ? "" : entry.slice(0, at);
  const username = at < 0 ? "" : entry.slice(at + 1);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(appKey) || !/^[A-Za-z0-9_.-]{3,24}$/.test(username)) {
    throw new Error(`--world-writer ${JSON.stringify(entry)}: takes <app key>=<user name>, an app key of 1–64 characters of A–Z a–z 0–9 . _ - and a user name of 3–24 of A–Z a–z 0–9 _ . -`);
  }
  return { appKey, username };
}

/** Bytes of a world document's body besides its value (name, version, time, writer, keys), at most. */
export const WORLD_DOCUMENT_OVERHEAD_BYTES = 256;

function validateWorld(config: ServerConfig): void {
  if (!Array.isArray(config.worldWriters) || !config.worldWriters.every((entry) => typeof entry === "string")) {
    throw new ConfigError('worldWriters must be a list of "appKey=username" strings');
  }
  for (const entry of config.worldWriters) {
    try {
      parseWorldWriter(entry);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  // A write carries the value in a request body: with writers listed, the largest value must fit one.
  // (Answers are not bound by maxFrameSize, which limits what clients send; an engine takes 16 MiB.)
  if (config.worldWriters.length > 0 && config.worldValueMaxBytes + WORLD_DOCUMENT_OVERHEAD_BYTES > config.masterMaxBodyBytes) {
    throw new ConfigError(`worldValueMaxBytes (${config.worldValueMaxBytes}) plus ${WORLD_DOCUMENT_OVERHEAD_BYTES} must fit in masterMaxBodyBytes (${config.masterMaxBodyBytes}) when --world-writer is set`);
  }
  const listBytes = config.worldMaxDocuments * (config.worldValueMaxBytes + WORLD_DOCUMENT_OVERHEAD_BYTES) + WORLD_DOCUMENT_OVERHEAD_BYTES;
  if (listBytes > MAX_CLIENT_FRAME_BYTES) {
    throw new ConfigError(`worldMaxDocuments × (worldValueMaxBytes + ${WORLD_DOCUMENT_OVERHEAD_BYTES}) (${listBytes}) must fit in the ${MAX_CLIENT_FRAME_BYTES} bytes an engine takes in one frame`);
  }
}

/** The largest frame payload the engine accepts from the server (signaling-client.ts). */
const MAX_CLIENT_FRAME_BYTES = 16 * 1024 * 1024;

/** Shortest MCP token: a guessable one would open the app's tools to anyone. */
export const MIN_MCP_TOKEN_LENGTH = 16;

/** `appKey=token` → its parts; throws with a readable message. */
export function parseMcpToken(entry: string): { appKey: string; token: string } {
  const at = entry.indexOf("=");
  const appKey = at < 0 ? "" : entry.slice(0, at);
  const token = at < 0 ? "" : entry.slice(at + 1);
  if (appKey === "" || Buffer.byteLength(appKey) > 64) throw new Error(`--mcp-token ${JSON.stringify(entry.slice(0, at < 0 ? 0 : at))}=…: takes <app key>=<token> with an app key of 1 to 64 bytes`);
  if (token.length < MIN_MCP_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
    throw new Error(`--mcp-token ${appKey}=…: the token must be at least ${MIN_MCP_TOKEN_LENGTH} printable ASCII characters without spaces (e.g. openssl rand -hex 24)`);
  }
  return { appKey, token };
}

function validateMcp(config: ServerConfig): void {
  if (!Array.isArray(config.mcpTokens) || !config.mcpTokens.every((entry) => typeof entry === "string")) {
    throw new ConfigError('mcpTokens must be a list of "appKey=token" strings');
  }
  const tokens = new Map<string, string>();
  for (const entry of config.mcpTokens) {
    let parsed;
    try {
      parsed = parseMcpToken(entry);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
    // One token names one app key, or a request could not say whose tools it wants.
    const other = tokens.get(parsed.token);
    if (other !== undefined && other !== parsed.appKey) throw new ConfigError(`--mcp-token: app keys ${other} and ${parsed.appKey} have the same token; give each its own`);
    tokens.set(parsed.token, parsed.appKey);
  }
  if (!Array.isArray(config.mcpAllowedOrigins) || !config.mcpAllowedOrigins.every((origin) => typeof origin === "string")) {
    throw new ConfigError("mcpAllowedOrigins must be a list of origins like https://inspector.example");
  }
  for (const key of ["mcpCallTimeoutMs", "mcpMaxConcurrentCalls", "mcpMaxTools", "mcpMaxSessions", "mcpSessionIdleMs"] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${key} must be a whole number ≥ 1, not ${String(value)}`);
  }
  const llmChannels = Channel.LAST_LLM - Channel.FIRST_LLM + 1;
  if (config.mcpMaxSessions > llmChannels) throw new ConfigError(`mcpMaxSessions cannot exceed the ${llmChannels} LLM-session channels (2000–2999)`);
}

function validateGmBridges(config: ServerConfig): void {
  if (!Array.isArray(config.gmBridges)) throw new ConfigError("gmBridges must be a list of bridges like { port: 6510, target: \"arena\", targetPort: 6510, appKey: \"gmnet\" }");
  const ports = new Set<number>();
  for (const spec of config.gmBridges) {
    try {
      validateGmBridgeSpec(spec);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
    if (spec.port !== 0 && (ports.has(spec.port) || spec.port === config.port)) throw new ConfigError(`gm-bridge ${formatGmBridgeSpec(spec)}: port ${spec.port} is already used by the server or another bridge`);
    ports.add(spec.port);
  }
  for (const key of ["gmBridgeMaxConnections", "gmBridgeMaxPerAddress", "gmBridgeConnectTimeoutMs"] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${key} must be a whole number ≥ 1, not ${String(value)}`);
  }
  if (config.gmBridgeMaxConnections > GM_BRIDGE_EPHEMERAL_PORTS) throw new ConfigError(`gmBridgeMaxConnections cannot exceed ${GM_BRIDGE_EPHEMERAL_PORTS} (one ephemeral virtual port per connection)`);
  if (!Number.isFinite(config.gmBridgeIdleTimeoutMs) || config.gmBridgeIdleTimeoutMs < 0) throw new ConfigError(`gmBridgeIdleTimeoutMs must be ≥ 0 (0: never), not ${String(config.gmBridgeIdleTimeoutMs)}`);
  validateGmBridgeAllow(config);
}

function validateGmBridgeAllow(config: ServerConfig): void {
  if (!Array.isArray(config.gmBridgeAllow) || !config.gmBridgeAllow.every((entry) => typeof entry === "string")) {
    throw new ConfigError("gmBridgeAllow must be a list of host:port strings like \"127.0.0.1:6510\"");
  }
  const network = parseVirtualNetwork(config.virtualNetwork);
  for (const text of config.gmBridgeAllow) {
    let entry;
    try {
      entry = parseAllowEntry(text);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
    const ip = entry.family === 4 ? parseIpv4(entry.host) : undefined;
    if (ip !== undefined && ip >= network.first - 1 && ip <= network.last + 1) {
      throw new ConfigError(`--gm-bridge-allow ${text}: ${entry.host} is inside the virtual network ${config.virtualNetwork}, where addresses name engines; move the virtual network (--virtual-network) to reach it`);
    }
  }
  for (const key of ["gmBridgeOutboundMaxConnections", "gmBridgeOutboundMaxPerClient"] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${key} must be a whole number ≥ 1, not ${String(value)}`);
  }
}

/** Checked at startup, so a missing build is a clear error now rather than every page a 404 later. */
function validateStaticDir(dir: string | undefined): void {
  if (dir === undefined) return;
  if (typeof dir !== "string" || dir === "") throw new ConfigError("staticDir must be the path of a directory");
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // Missing, or unreadable on the way: either way there is nothing to serve.
  }
  if (!isDirectory) throw new ConfigError(`staticDir ${resolve(dir)} is not a directory (for the playground, build it first: npm run build)`);
}

function validateIceServers(config: ServerConfig): void {
  const servers: unknown = config.iceServers;
  const isUrl = (url: unknown): boolean => typeof url === "string" && /^(stun|stuns|turn|turns):/.test(url);
  if (!Array.isArray(servers)) throw new ConfigError("iceServers must be a JSON array of RTCIceServer objects");
  for (const entry of servers as unknown[]) {
    const urls = typeof entry === "object" && entry !== null ? (entry as { urls?: unknown }).urls : undefined;
    const list = Array.isArray(urls) ? urls : [urls];
    if (list.length === 0 || !list.every(isUrl)) {
      throw new ConfigError(`every iceServers entry needs "urls": a stun:, stuns:, turn: or turns: URL or a list of them (got ${JSON.stringify(entry)})`);
    }
  }
  // ICE_SERVERS has a size limit; check it once here, with room for the TURN credentials added per client.
  const size = Buffer.byteLength(JSON.stringify(servers)) + (config.turnSecret === undefined ? 0 : servers.length * TURN_CREDENTIAL_BYTES);
  if (size > MAX_ICE_SERVERS_JSON) throw new ConfigError(`iceServers takes ${size} bytes as JSON (with credentials); the protocol carries at most ${MAX_ICE_SERVERS_JSON}`);
}
