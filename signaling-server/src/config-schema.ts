/**
 * Every setting of the server, declared once: its `gmnet-server` flag, its environment variable,
 * its default, a line of help and a zod schema with what a valid value is. config.ts reads flags
 * and the environment with this table, prints `--help` from it and checks createServer options
 * against it; the rules that tie settings to each other are plain checks there.
 *
 * Counts, bytes and durations are integers: `--max-queued-bytes 1.5` is refused, not rounded.
 *
 * The file is long because it is one table, an entry per setting with its help text; split, the
 * table would no longer read as the one place a setting is declared.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { APP_KEY_RULE, Channel, isValidAppKey } from "@gmnet/protocol";
import { parseAllowEntry } from "./bridge/outbound-allow.js";
import { type GmBridgeSpec, parseGmBridgeSpec, validateGmBridgeSpec } from "./bridge/spec.js";
import { MAX_NODE_ID } from "./cluster/node-ids.js";
import { parseVirtualNetwork } from "./services/virtual-network.js";

/** One setting: how it is written on the command line and in the environment, and what it may be. */
export interface Setting<T> {
  /** The command-line flag, without its leading `--`. */
  flag: string;
  env: string;
  default: T;
  /** Shown under the flag by `--help`. */
  help: string;
  /** What a valid value is, completing "--port must be …" in error messages. */
  must: string;
  schema: z.ZodType<T>;
  /** Turns the text of a flag or variable into a value for `schema`, which may still refuse it. */
  read: (text: string) => unknown;
  /** Each occurrence of the flag adds to the list rather than replacing it. */
  repeatable: boolean;
}

/** What a kind of value brings to a setting; the table adds the flag, variable and help. */
type Kind<T> = Omit<Setting<T>, "flag" | "env" | "help">;

/**
 * A zod issue whose message is complete as it is: a parser's own error (a bad --gm-bridge entry,
 * a virtual network that is not a CIDR range). Other issues get "--flag must be …" (config.ts).
 */
export interface ExplainedIssue {
  explained: true;
}

/** `schema`, then `check`, whose thrown Error message becomes the issue's message word for word. */
function checked<T>(schema: z.ZodType<T>, check: (value: T) => void): z.ZodType<T> {
  return schema.superRefine((value, context) => {
    try {
      check(value);
    } catch (error) {
      context.addIssue({ code: "custom", message: (error as Error).message, params: { explained: true } satisfies ExplainedIssue });
    }
  });
}

const asNumber = (text: string): unknown => {
  const value = text.trim() === "" ? Number.NaN : Number(text);
  // Kept as text when it is no number, so the error shows what was written.
  return Number.isNaN(value) ? text : value;
};
const splitList = (text: string): string[] => text.split(",").map((item) => item.trim()).filter(Boolean);

function describeRange(min: number, max: number | undefined): string {
  if (max !== undefined) return min === 0 ? `a non-negative integer up to ${max}` : `an integer from ${min} to ${max}`;
  if (min === 0) return "a non-negative integer";
  if (min === 1) return "a positive integer";
  return `an integer ≥ ${min}`;
}

/** A whole number from `min` to `max`; `must` replaces the generated description where the bound needs a reason. */
function integer(value: number, min: number, max?: number, must = describeRange(min, max)): Kind<number> {
  const schema = z.number().int().min(min);
  return { default: value, must, schema: max === undefined ? schema : schema.max(max), read: asNumber, repeatable: false };
}

function optionalInteger(min: number, max: number): Kind<number | undefined> {
  return { default: undefined, must: describeRange(min, max), schema: z.number().int().min(min).max(max).optional(), read: asNumber, repeatable: false };
}

/** A rate in Hz, where fractions mean something (0.5: every two seconds). */
function rate(value: number): Kind<number> {
  return { default: value, must: "a non-negative number", schema: z.number().min(0), read: asNumber, repeatable: false };
}

function optionalRate(): Kind<number | undefined> {
  return { default: undefined, must: "a non-negative number", schema: z.number().min(0).optional(), read: asNumber, repeatable: false };
}

function boolean(value: boolean): Kind<boolean> {
  const read = (text: string): unknown => (text === "true" || text === "1" ? true : text === "false" || text === "0" ? false : text);
  return { default: value, must: "true or false (or 1 or 0)", schema: z.boolean(), read, repeatable: false };
}

function text(value: string, check?: (value: string) => void): Kind<string> {
  return { default: value, must: "text", schema: check === undefined ? z.string() : checked(z.string(), check), read: (raw) => raw, repeatable: false };
}

function optionalText(check?: (value: string) => void): Kind<string | undefined> {
  const schema = check === undefined ? z.string() : checked(z.string(), check);
  return { default: undefined, must: "text", schema: schema.optional(), read: (raw) => raw, repeatable: false };
}

/** Comma-separated text; `check` sees the whole list (each entry, and rules across entries). */
function list(value: string[], must: string, options: { repeatable?: boolean; check?: (entries: string[]) => void } = {}): Kind<string[]> {
  const schema = z.array(z.string());
  return { default: value, must, schema: options.check === undefined ? schema : checked(schema, options.check), read: splitList, repeatable: options.repeatable ?? false };
}

/** The entries of a list, each checked by `parse` (which throws a readable message). */
const eachEntry =
  (parse: (entry: string) => unknown) =>
  (entries: readonly string[]): void => {
    for (const entry of entries) parse(entry);
  };

/** Largest Hello payload (version, app key, secret, token at their maximum lengths). */
const MAX_HELLO_BYTES = 2 + (2 + 64) + (2 + 128) + (2 + 256);

/** Ephemeral virtual ports a bridge hands out, one per open connection (49152–65535). */
export const GM_BRIDGE_EPHEMERAL_PORTS = 65536 - 49152;

const LLM_SESSION_CHANNELS = Channel.LAST_LLM - Channel.FIRST_LLM + 1;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export type IceServer = { urls: string | string[]; username?: string; credential?: string };

const isIceUrl = (url: unknown): boolean => typeof url === "string" && /^(stun|stuns|turn|turns):/.test(url);

/** Entries pass through as given (an RTCIceServer may carry more than urls and credentials). */
const iceServersSchema = checked(z.array(z.custom<IceServer>()), (servers) => {
  for (const entry of servers as unknown[]) {
    const urls = typeof entry === "object" && entry !== null ? (entry as { urls?: unknown }).urls : undefined;
    const urlList = Array.isArray(urls) ? urls : [urls];
    if (urlList.length === 0 || !urlList.every(isIceUrl)) {
      throw new Error(`every iceServers entry needs "urls": a stun:, stuns:, turn: or turns: URL or a list of them (got ${JSON.stringify(entry)})`);
    }
  }
});

/** A postgres:// or postgresql:// URL; the error never repeats the URL (it may hold a password). */
function checkDatabaseUrl(url: string): void {
  const problem = "--database (GMNET_DATABASE_URL) must be a PostgreSQL URL like postgres://user:password@host:5432/gmnet";
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new Error(problem);
  if (!URL.canParse(url)) throw new Error(`${problem} (this one does not parse as a URL)`);
}

/** A redis:// or rediss:// URL; the error never repeats the URL. */
function checkRedisUrl(url: string): void {
  const problem = "--redis (GMNET_REDIS_URL) must be a Redis URL like redis://host:6379 or rediss://user:password@host:6380";
  if (!/^rediss?:\/\//i.test(url)) throw new Error(problem);
  if (!URL.canParse(url)) throw new Error(`${problem} (this one does not parse as a URL)`);
}

function checkAdvertiseUrl(url: string): void {
  const problem = "--advertise-url (GMNET_ADVERTISE_URL) must be this node's base URL as the other nodes reach it, like http://10.0.0.5:8080";
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) throw new Error(problem);
  const { pathname, search, hash } = new URL(url);
  if (pathname !== "/" || search !== "" || hash !== "") throw new Error(`${problem} (no path, query or fragment)`);
}

/** Checked at startup, so a missing build is a clear error now rather than every page a 404 later. */
function checkStaticDir(dir: string): void {
  if (dir === "") throw new Error("staticDir must be the path of a directory");
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // Missing, or unreadable on the way: either way there is nothing to serve.
  }
  if (!isDirectory) throw new Error(`staticDir ${resolve(dir)} is not a directory (for the playground, build it first: npm run build)`);
}

/** `appKey=username` → its parts; throws with a readable message. */
export function parseWorldWriter(entry: string): { appKey: string; username: string } {
  const at = entry.indexOf("=");
  const appKey = at < 0 ? "" : entry.slice(0, at);
  const username = at < 0 ? "" : entry.slice(at + 1);
  if (!isValidAppKey(appKey) || !/^[A-Za-z0-9_.-]{3,24}$/.test(username)) {
    throw new Error(`--world-writer ${JSON.stringify(entry)}: takes <app key>=<user name>, an app key of ${APP_KEY_RULE} and a user name of 3–24 of A–Z a–z 0–9 _ . -`);
  }
  return { appKey, username };
}

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

function checkMcpTokens(entries: readonly string[]): void {
  const appKeyOfToken = new Map<string, string>();
  for (const { appKey, token } of entries.map(parseMcpToken)) {
    // One token names one app key, or a request could not say whose tools it wants.
    const other = appKeyOfToken.get(token);
    if (other !== undefined && other !== appKey) throw new Error(`--mcp-token: app keys ${other} and ${appKey} have the same token; give each its own`);
    appKeyOfToken.set(token, appKey);
  }
}

const gmBridges: Kind<GmBridgeSpec[]> = {
  default: [],
  must: "a list of bridges like 6510=arena:6510@my-app (programmatically { port, target, targetPort, appKey } objects)",
  schema: checked(z.array(z.custom<GmBridgeSpec>()), (specs) => specs.forEach(validateGmBridgeSpec)),
  read: (raw) => splitList(raw).map(parseGmBridgeSpec),
  repeatable: true,
};

/**
 * The table. Limits are explicit so operators can see and tune what protects the process: frame
 * size, queue size, rate, heartbeat, pending requests. Each entry's doc comment is what
 * `ServerConfig` shows for that key; its `help` is what `--help` shows.
 */
export const serverSettings = {
  host: { flag: "host", env: "GMNET_HOST", help: "Interface to listen on.", ...text("0.0.0.0") },
  /** 0 picks a free port (tests). */
  port: { flag: "port", env: "PORT", help: "TCP port for HTTP and WebSocket; 0 picks a free one.", ...integer(8080, 0, 65535) },
  /** SQLite file for the durable state (identities and virtual IPs, accounts, …) when `database` is unset; ":memory:" keeps nothing. */
  db: { flag: "db", env: "GMNET_DB", help: 'SQLite file of the durable state when --database is unset; ":memory:" keeps nothing.', ...text("./data/gmnet.sqlite") },
  /**
   * A shared PostgreSQL database (postgres:// or postgresql:// URL) for the durable state in place of
   * the SQLite file `db`; undefined (the default) keeps SQLite. Its migrations are applied at
   * start-up (src/storage/).
   */
  database: { flag: "database", env: "GMNET_DATABASE_URL", help: "PostgreSQL URL (postgres://…) for the durable state in place of --db.", ...optionalText(checkDatabaseUrl) },
  /**
   * Redis (redis:// or rediss:// URL) joining this server to others as one network (PROTOCOL.md
   * §15): virtual-socket streams and datagrams reach sessions on other nodes. undefined (the
   * default) is a single node. Identities must be shared too (`database`).
   */
  redis: { flag: "redis", env: "GMNET_REDIS_URL", help: "Redis URL (redis://…) joining this server to others as one network; needs --database.", ...optionalText(checkRedisUrl) },
  /** This node's id among the nodes sharing `redis`, 1–255 (the high 8 bits of its connIds); undefined: a random free one. */
  nodeId: { flag: "node-id", env: "GMNET_NODE_ID", help: `This node's id among those sharing --redis, 1–${MAX_NODE_ID}; unset: a random free one.`, ...optionalInteger(1, MAX_NODE_ID) },
  /**
   * This node's base URL as the other nodes reach it (with --redis): an /mcp request for an MCP
   * session of this node that lands on another node is relayed here. Unset: http(s)://host:port
   * of the listener, the machine's host name for a wildcard host.
   */
  advertiseUrl: {
    flag: "advertise-url",
    env: "GMNET_ADVERTISE_URL",
    help: "This node's base URL as the other nodes reach it (with --redis; relays /mcp sessions); unset: from the listener's host and port.",
    ...optionalText(checkAdvertiseUrl),
  },
  /**
   * How long a node's liveness key lives unless refreshed (every third of it): how soon the others
   * treat a killed node as gone — its streams end (PEER_GONE), its routes, host names and tools
   * count no more, another node takes the master home over.
   */
  nodeTtlMs: {
    flag: "node-ttl-ms",
    env: "GMNET_NODE_TTL_MS",
    help: "How long a node's liveness key lives unless refreshed: how soon the others notice a killed node.",
    ...integer(15_000, 1_000, 600_000),
  },
  /**
   * Resumable sessions kept in Redis (PROTOCOL.md §15 "Resume on another node"): a client resumes
   * on any node, even after its node was killed, at the cost of Redis writes per sequenced frame.
   */
  durableSessions: {
    flag: "durable-sessions",
    env: "GMNET_DURABLE_SESSIONS",
    help: "With --redis: keep resumable sessions in Redis so they resume on any node (one Redis script per turn per node).",
    ...boolean(false),
  },
  /** Bound of a node's inbound Redis stream (XADD MAXLEN ~). */
  redisStreamMaxLen: { flag: "redis-stream-max-len", env: "GMNET_REDIS_STREAM_MAX_LEN", help: "Bound of this node's inbound Redis stream (XADD MAXLEN ~).", ...integer(10_000, 1) },
  /**
   * Bytes of messages to other nodes that Redis has not acknowledged yet (buffered while it is
   * unreachable, plus in flight); past it a stream's data closes that stream (PEER_GONE) and a
   * datagram is dropped, counted (PROTOCOL.md §15).
   */
  redisOutboundMaxBytes: {
    flag: "redis-outbound-max-bytes",
    env: "GMNET_REDIS_OUTBOUND_MAX_BYTES",
    help: "Bytes to other nodes Redis has not acknowledged; past it streams close and datagrams drop.",
    // 64 MiB: a blip of a few seconds at tens of MB/s of cross-node traffic fits; a long outage
    // ends streams instead of growing the process without bound.
    ...integer(64 * 1024 * 1024, 1),
  },
  logLevel: {
    flag: "log-level",
    env: "GMNET_LOG_LEVEL",
    help: `Log level: ${LOG_LEVELS.join(", ")}.`,
    default: "info" as (typeof LOG_LEVELS)[number],
    must: `a log level: ${LOG_LEVELS.join(", ")}`,
    schema: z.enum(LOG_LEVELS),
    read: (raw: string): unknown => raw,
    repeatable: false,
  },
  /**
   * Outgoing batches per second for every priority. 0 (the default) adds no delay: what one turn
   * of the event loop queued for a client leaves as one WebSocket message at the end of that turn.
   */
  tickRate: { flag: "tick-rate", env: "GMNET_TICK_RATE", help: "Outgoing batches per second, every priority; 0 sends at the end of each event-loop turn.", ...rate(0) },
  /** Per-priority overrides of tickRate (e.g. Low at 20 Hz for background updates); undefined follows tickRate. */
  highTickRate: { flag: "high-tick-rate", env: "GMNET_HIGH_TICK_RATE", help: "--tick-rate for High priority frames; unset follows --tick-rate.", ...optionalRate() },
  normalTickRate: { flag: "normal-tick-rate", env: "GMNET_NORMAL_TICK_RATE", help: "--tick-rate for Normal priority frames; unset follows --tick-rate.", ...optionalRate() },
  lowTickRate: { flag: "low-tick-rate", env: "GMNET_LOW_TICK_RATE", help: "--tick-rate for Low priority frames; unset follows --tick-rate.", ...optionalRate() },
  /** false sends every frame as its own WebSocket message the moment it is queued (no batching at all). */
  batching: { flag: "batching", env: "GMNET_BATCHING", help: "false sends every frame as its own WebSocket message at once.", ...boolean(true) },
  tlsCert: { flag: "tls-cert", env: "GMNET_TLS_CERT", help: "TLS certificate file (PEM); with --tls-key, serves HTTPS and wss://.", ...optionalText() },
  tlsKey: { flag: "tls-key", env: "GMNET_TLS_KEY", help: "TLS private key file (PEM); with --tls-cert.", ...optionalText() },
  /** Virtual IPs are drawn from this CIDR range. */
  virtualNetwork: { flag: "virtual-network", env: "GMNET_VIRTUAL_NETWORK", help: "CIDR range (/8 to /30) virtual IPs are drawn from.", ...text("10.0.0.0/8", parseVirtualNetwork) },
  /** Largest frame payload a client may send; larger frames close the connection (PROTOCOL_ERROR). */
  maxFrameSize: {
    flag: "max-frame-size",
    env: "GMNET_MAX_FRAME_SIZE",
    help: "Largest frame payload a client may send, in bytes.",
    // At least a Hello of the largest size, or no client could ever say hello.
    ...integer(256 * 1024, MAX_HELLO_BYTES),
  },
  /** Largest WebSocket message (one batch of frames). */
  maxMessageSize: { flag: "max-message-size", env: "GMNET_MAX_MESSAGE_SIZE", help: "Largest WebSocket message (one batch of frames), in bytes.", ...integer(1024 * 1024, 1) },
  /**
   * Unsent bytes per client (server queue + socket buffer). Above half, datagrams are dropped;
   * a client that stays above the whole for slowConsumerMs, or passes four times it, is cut off.
   */
  maxQueuedBytes: { flag: "max-queued-bytes", env: "GMNET_MAX_QUEUED_BYTES", help: "Unsent bytes per client; above half datagrams drop, above it for long the client is cut off.", ...integer(4 * 1024 * 1024, 1) },
  /** How long a client may stay above maxQueuedBytes before it is a slow consumer. */
  slowConsumerMs: { flag: "slow-consumer-ms", env: "GMNET_SLOW_CONSUMER_MS", help: "Milliseconds a client may stay above --max-queued-bytes.", ...integer(5000, 1) },
  /**
   * Bytes per second a client may send (token bucket, burst 2 s worth); every WebSocket message
   * costs its length plus 64, however many frames it batches. Over it, reading from the client
   * pauses until the bucket refills (TCP backpressure). 0 disables.
   */
  rateLimitBytes: { flag: "rate-limit-bytes", env: "GMNET_RATE_LIMIT_BYTES", help: "Bytes per second a client may send (burst 2 s worth); 0 disables.", ...integer(16 * 1024 * 1024, 0) },
  /** How long a dropped connection's session is kept for a RESUME (PROTOCOL.md §14); 0 disables resume. */
  resumeWindowMs: { flag: "resume-window", env: "GMNET_RESUME_WINDOW_MS", help: "Milliseconds a dropped connection's session is kept for a resume; 0 disables.", ...integer(30_000, 0) },
  /** Bytes of one stream's data held for a detached session; past it the stream ends (NOT_RECOVERED). */
  replayBytesPerStream: { flag: "replay-bytes-per-stream", env: "GMNET_REPLAY_BYTES_PER_STREAM", help: "Bytes of one stream's data held for a detached session.", ...integer(2 * 1024 * 1024, 1) },
  /** Bytes held for one session's replay (sent, not yet acknowledged, plus queued while detached). */
  replayBytesPerSession: { flag: "replay-bytes-per-session", env: "GMNET_REPLAY_BYTES_PER_SESSION", help: "Bytes held for one session's replay.", ...integer(8 * 1024 * 1024, 1) },
  heartbeatIntervalMs: { flag: "heartbeat-interval", env: "GMNET_HEARTBEAT_INTERVAL_MS", help: "Milliseconds between pings to a client.", ...integer(15_000, 1) },
  heartbeatTimeoutMs: { flag: "heartbeat-timeout", env: "GMNET_HEARTBEAT_TIMEOUT_MS", help: "Milliseconds a client may take to answer a ping.", ...integer(10_000, 1) },
  helloTimeoutMs: { flag: "hello-timeout", env: "GMNET_HELLO_TIMEOUT_MS", help: "Milliseconds a new connection may take to send its Hello.", ...integer(10_000, 1) },
  /** How long a virtual-socket handshake may wait for the target's answer. */
  requestTimeoutMs: { flag: "request-timeout", env: "GMNET_REQUEST_TIMEOUT_MS", help: "Milliseconds a virtual-socket handshake may wait for the target.", ...integer(10_000, 1) },
  /** Unanswered handshakes one client may have open at once. */
  maxPendingRequests: { flag: "max-pending-requests", env: "GMNET_MAX_PENDING_REQUESTS", help: "Unanswered handshakes one client may have open.", ...integer(64, 1) },
  /** Open virtual-socket streams one client may be an end of. */
  maxStreamsPerSession: { flag: "max-streams", env: "GMNET_MAX_STREAMS", help: "Open virtual-socket streams one client may be an end of.", ...integer(1024, 1) },
  /** UDP ports one client may bind. */
  maxUdpBindings: { flag: "max-udp-bindings", env: "GMNET_MAX_UDP_BINDINGS", help: "UDP ports one client may bind.", ...integer(64, 1) },
  /** App channels one app key may register. */
  maxAppChannels: {
    flag: "max-app-channels",
    env: "GMNET_MAX_APP_CHANNELS",
    help: "App channels one app key may register.",
    ...integer(256, 0, 1000, "a non-negative integer up to 1000, as there are only 1000 app channel numbers (1000–1999)"),
  },
  /** Channel tables of app keys nobody is connected to that are kept; past it the one idle longest is forgotten. */
  maxIdleApps: { flag: "max-idle-apps", env: "GMNET_MAX_IDLE_APPS", help: "Channel tables of app keys nobody is connected to that are kept.", ...integer(1024, 0) },
  /** Browser origins allowed to connect; empty allows any (native clients send none). */
  allowedOrigins: {
    flag: "allowed-origins",
    env: "GMNET_ALLOWED_ORIGINS",
    help: "Comma-separated browser origins allowed to connect; none allows any.",
    ...list([], "a list of origins like https://game.example"),
  },
  /** RTCIceServer list for WebRTC; TURN entries get REST credentials when turnSecret is set. */
  iceServers: {
    flag: "ice-servers",
    env: "GMNET_ICE_SERVERS",
    help: 'JSON list of RTCIceServer objects for WebRTC, like [{"urls":"stun:stun.example:3478"}].',
    // None by default: host candidates connect peers on one machine or LAN. Internet play needs
    // STUN (and TURN for strict NATs) from the operator.
    default: [] as IceServer[],
    must: 'a JSON array of RTCIceServer objects like [{"urls":"stun:stun.example:3478"}]',
    schema: iceServersSchema,
    // Not JSON: kept as text, which the schema refuses with the expected form.
    read: (raw: string): unknown => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
    },
    repeatable: false,
  },
  turnSecret: { flag: "turn-secret", env: "GMNET_TURN_SECRET", help: "Shared secret giving TURN entries of --ice-servers REST credentials.", ...optionalText() },
  turnCredentialTtlSeconds: { flag: "turn-credential-ttl", env: "GMNET_TURN_CREDENTIAL_TTL", help: "Seconds a TURN credential is valid.", ...integer(3600, 1) },
  /** SIGNAL_RELAY frames one client may send per 10 seconds (token bucket; the burst is the same number). */
  signalRateLimit: { flag: "signal-rate-limit", env: "GMNET_SIGNAL_RATE_LIMIT", help: "WebRTC signaling frames one client may send per 10 seconds.", ...integer(200, 0) },
  /** How long clients are told to wait before reconnecting after a drain. */
  drainRetryAfterMs: { flag: "drain-retry-after", env: "GMNET_DRAIN_RETRY_AFTER_MS", help: "Milliseconds clients are told to wait before reconnecting after a drain.", ...integer(1000, 0) },
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy: { flag: "trust-proxy", env: "GMNET_TRUST_PROXY", help: "Take the client address from X-Forwarded-For (only behind a proxy that sets it).", ...boolean(false) },
  /** Origins allowed to call the HTTP API (/api/); "*" allows any. */
  corsOrigins: { flag: "cors-origins", env: "GMNET_CORS_ORIGINS", help: 'Comma-separated origins allowed to call the HTTP API (/api/); "*" allows any.', ...list(["*"], "a list of origins like https://game.example, or *") },
  /** scrypt N (a power of two ≥ 1024) and p for password hashes; r is 8. Lower only for tests. */
  scryptCost: {
    flag: "scrypt-cost",
    env: "GMNET_SCRYPT_COST",
    help: "scrypt N of password hashes, a power of two ≥ 1024 (lower only for tests).",
    // OWASP's scrypt alternative to N=2^17,p=1 with 16 MiB instead of 128 MiB per hash (~200 ms).
    // scrypt needs a power of two; below 1024 a hash is too cheap to slow down guessing at all.
    ...integer(16384, 1024, undefined, "a power of two ≥ 1024"),
    schema: z.number().int().min(1024).refine((value) => Number.isInteger(Math.log2(value))),
  },
  scryptParallelism: { flag: "scrypt-parallelism", env: "GMNET_SCRYPT_PARALLELISM", help: "scrypt p of password hashes.", ...integer(5, 1) },
  /** Password hashes computed at once, and how many may wait before logins are answered busy. */
  maxConcurrentHashes: { flag: "max-concurrent-hashes", env: "GMNET_MAX_CONCURRENT_HASHES", help: "Password hashes computed at once.", ...integer(4, 1) },
  maxQueuedHashes: { flag: "max-queued-hashes", env: "GMNET_MAX_QUEUED_HASHES", help: "Password hashes that may wait before logins are answered busy.", ...integer(64, 0) },
  /** Failed logins per account, and per client address, within loginWindowMs before further logins are locked. */
  loginMaxFailures: { flag: "login-max-failures", env: "GMNET_LOGIN_MAX_FAILURES", help: "Failed logins per account within --login-window before logins are locked.", ...integer(5, 1) },
  loginMaxFailuresPerAddress: {
    flag: "login-max-failures-per-address",
    env: "GMNET_LOGIN_MAX_FAILURES_PER_ADDRESS",
    help: "Failed logins per client address within --login-window before logins are locked.",
    ...integer(20, 1),
  },
  loginWindowMs: { flag: "login-window", env: "GMNET_LOGIN_WINDOW_MS", help: "Milliseconds failed logins are counted over.", ...integer(15 * 60_000, 1) },
  /** Accounts (registered or guest) one client address may create within accountCreationWindowMs; more are answered rate_limited. */
  accountCreationsPerAddress: {
    flag: "account-creations-per-address",
    env: "GMNET_ACCOUNT_CREATIONS_PER_ADDRESS",
    help: "Accounts one client address may create within --account-creation-window.",
    ...integer(100, 1),
  },
  accountCreationWindowMs: { flag: "account-creation-window", env: "GMNET_ACCOUNT_CREATION_WINDOW_MS", help: "Milliseconds account creations are counted over.", ...integer(3600_000, 1) },
  /** Lifetime of a master session token; a refresh issues a new one. */
  sessionTtlMs: { flag: "session-ttl", env: "GMNET_SESSION_TTL_MS", help: "Milliseconds a master session token lives.", ...integer(24 * 3600_000, 1000) },
  /** How often expired and revoked tokens are deleted. */
  sessionSweepIntervalMs: { flag: "session-sweep-interval", env: "GMNET_SESSION_SWEEP_INTERVAL_MS", help: "Milliseconds between deletions of expired tokens.", ...integer(60_000, 1) },
  /** A master request whose handler takes longer is answered TIMEOUT. */
  masterRequestTimeoutMs: { flag: "master-request-timeout", env: "GMNET_MASTER_REQUEST_TIMEOUT_MS", help: "Milliseconds before a master request is answered TIMEOUT.", ...integer(10_000, 1) },
  /** Largest master request body (WebSocket and HTTP), in bytes. */
  masterMaxBodyBytes: { flag: "master-max-body", env: "GMNET_MASTER_MAX_BODY_BYTES", help: "Largest master request body (WebSocket and HTTP), in bytes.", ...integer(16 * 1024, 64) },
  /** Unanswered master requests one connection may have. */
  masterMaxInFlight: { flag: "master-max-in-flight", env: "GMNET_MASTER_MAX_IN_FLIGHT", help: "Unanswered master requests one connection may have.", ...integer(32, 1) },
  /** Chat messages one connection may send per 10 seconds. */
  chatRateLimit: { flag: "chat-rate-limit", env: "GMNET_CHAT_RATE_LIMIT", help: "Chat messages one connection may send per 10 seconds.", ...integer(10, 1) },
  maxPartySize: { flag: "max-party-size", env: "GMNET_MAX_PARTY_SIZE", help: "Members of one party.", ...integer(8, 2) },
  /** Characters one account may have (PROTOCOL.md §16.9); more are answered too_many_characters. */
  maxCharactersPerAccount: { flag: "max-characters-per-account", env: "GMNET_MAX_CHARACTERS_PER_ACCOUNT", help: "Characters one account may have.", ...integer(8, 1) },
  /** Largest attributes object of one character, in bytes of its JSON text. */
  characterAttributesMaxBytes: {
    flag: "character-attributes-max-bytes",
    env: "GMNET_CHARACTER_ATTRIBUTES_MAX_BYTES",
    help: "Largest attributes object of one character, in bytes of JSON.",
    // "{}" is the smallest attributes object.
    ...integer(4096, 2),
  },
  /**
   * Who may write world documents (PROTOCOL.md §16.10): `appKey=username` entries, each naming a
   * registered (not guest) account of that app key. `--world-writer my-game=admin`, repeatable.
   * None by default: nobody writes, everyone logged in reads.
   */
  worldWriters: {
    flag: "world-writer",
    env: "GMNET_WORLD_WRITERS",
    help: "<app key>=<user name>: a registered account that may write that app key's world documents; repeatable. See docs/MASTER.md.",
    ...list([], '"appKey=username" entries', { repeatable: true, check: eachEntry(parseWorldWriter) }),
  },
  /** World documents one app key may hold; creating more is answered too_many_world_documents. */
  worldMaxDocuments: { flag: "world-max-documents", env: "GMNET_WORLD_MAX_DOCUMENTS", help: "World documents one app key may hold.", ...integer(32, 1) },
  /** Largest value of one world document, in bytes of its JSON text. */
  worldValueMaxBytes: {
    flag: "world-value-max-bytes",
    env: "GMNET_WORLD_VALUE_MAX_BYTES",
    help: "Largest value of one world document, in bytes of JSON.",
    // "{}" is the smallest value.
    ...integer(4096, 2),
  },
  /** Document names one connection may subscribe to (subscribing to all counts as one). */
  worldMaxSubscriptions: { flag: "world-max-subscriptions", env: "GMNET_WORLD_MAX_SUBSCRIPTIONS", help: "World document names one connection may subscribe to.", ...integer(64, 1) },
  /** Location updates (PRESENCE_SET_LOCATION) one connection may send per second; more are answered rate_limited. */
  locationRateLimit: { flag: "location-rate-limit", env: "GMNET_LOCATION_RATE_LIMIT", help: "Location updates one connection may send per second.", ...integer(10, 1) },
  /**
   * A directory served as static files (GET and HEAD) on every path the server does not own itself
   * (/ws, /healthz, /metrics, /api): the built playground under `npm start`. None serves nothing.
   */
  staticDir: { flag: "static-dir", env: "GMNET_STATIC_DIR", help: "A directory served as static files on every other path.", ...optionalText(checkStaticDir) },
  /**
   * GameMaker bridges (docs/GAMEMAKER.md): real TCP ports on `host` whose connections become
   * virtual streams to a tab's network_create_server. `--gm-bridge 6510=arena:6510@my-app`, repeatable.
   */
  gmBridges: {
    flag: "gm-bridge",
    env: "GMNET_GM_BRIDGES",
    help: "<real port>=<host name or virtual IP>:<virtual port>[@<app key>] (app key default gmnet); repeatable. See docs/GAMEMAKER.md.",
    ...gmBridges,
  },
  /** Open connections one bridge takes at once; more are closed at accept. At most 16384 (its ephemeral virtual ports). */
  gmBridgeMaxConnections: {
    flag: "gm-bridge-max-connections",
    env: "GMNET_GM_BRIDGE_MAX_CONNECTIONS",
    help: `Open connections one bridge takes at once, at most ${GM_BRIDGE_EPHEMERAL_PORTS}.`,
    ...integer(256, 1, GM_BRIDGE_EPHEMERAL_PORTS, `an integer from 1 to ${GM_BRIDGE_EPHEMERAL_PORTS} (one ephemeral virtual port per connection)`),
  },
  /** Open bridged connections one client address may have at once, over all bridges. */
  gmBridgeMaxPerAddress: { flag: "gm-bridge-max-per-address", env: "GMNET_GM_BRIDGE_MAX_PER_ADDRESS", help: "Open bridged connections one client address may have.", ...integer(16, 1) },
  /** How long the target may take to accept a bridged connection before it is closed. */
  gmBridgeConnectTimeoutMs: {
    flag: "gm-bridge-connect-timeout",
    env: "GMNET_GM_BRIDGE_CONNECT_TIMEOUT_MS",
    help: "Milliseconds the target may take to accept a bridged connection.",
    ...integer(10_000, 1),
  },
  /** A bridged connection with no data either way for this long is closed; 0 (the default) never (games may sit idle). */
  gmBridgeIdleTimeoutMs: { flag: "gm-bridge-idle-timeout", env: "GMNET_GM_BRIDGE_IDLE_TIMEOUT_MS", help: "Milliseconds without data before a bridged connection closes; 0 never.", ...integer(0, 0) },
  /**
   * The outbound bridge (docs/GAMEMAKER.md "Browser client → native GameMaker server"): the real
   * `host:port` destinations engines may network_connect to through the server. Exact matches only;
   * empty (the default) allows none. `--gm-bridge-allow 127.0.0.1:6510`, repeatable.
   */
  gmBridgeAllow: {
    flag: "gm-bridge-allow",
    env: "GMNET_GM_BRIDGE_ALLOW",
    help: "host:port (exact; [ipv6]:port), a real destination engines may network_connect to through the server; repeatable.",
    ...list([], 'host:port entries like "127.0.0.1:6510"', { repeatable: true, check: eachEntry(parseAllowEntry) }),
  },
  /** Outbound bridged connections (dialing or open) at once, over all clients. */
  gmBridgeOutboundMaxConnections: {
    flag: "gm-bridge-outbound-max-connections",
    env: "GMNET_GM_BRIDGE_OUTBOUND_MAX_CONNECTIONS",
    help: "Outbound bridged connections at once, over all clients.",
    ...integer(256, 1),
  },
  /** Outbound bridged connections (dialing or open) one client may have at once. */
  gmBridgeOutboundMaxPerClient: {
    flag: "gm-bridge-outbound-max-per-client",
    env: "GMNET_GM_BRIDGE_OUTBOUND_MAX_PER_CLIENT",
    help: "Outbound bridged connections one client may have.",
    ...integer(8, 1),
  },
  /**
   * The MCP endpoint (/mcp, docs/MCP.md): `appKey=token` entries, one per app key whose tools MCP
   * clients may list and call with `Authorization: Bearer <token>`. Empty (the default): no /mcp.
   */
  mcpTokens: {
    flag: "mcp-token",
    env: "GMNET_MCP_TOKENS",
    help: `<app key>=<token> (token: ${MIN_MCP_TOKEN_LENGTH}+ characters) opens /mcp to MCP clients of that app key; repeatable. See docs/MCP.md.`,
    ...list([], '"appKey=token" entries', { repeatable: true, check: checkMcpTokens }),
  },
  /** Browser origins that may call /mcp; a request with any other Origin header gets 403 (MCP clients outside browsers send none). */
  mcpAllowedOrigins: {
    flag: "mcp-allowed-origins",
    env: "GMNET_MCP_ALLOWED_ORIGINS",
    help: "Comma-separated browser origins that may call /mcp.",
    ...list([], "a list of origins like https://inspector.example"),
  },
  /** A tool call the engine has not answered in this long ends with an MCP error. */
  mcpCallTimeoutMs: { flag: "mcp-call-timeout", env: "GMNET_MCP_CALL_TIMEOUT_MS", help: "Milliseconds an MCP tool call may wait for the engine.", ...integer(30_000, 1) },
  /** Tool calls in flight at once per app key; more are refused with an MCP error. */
  mcpMaxConcurrentCalls: { flag: "mcp-max-concurrent-calls", env: "GMNET_MCP_MAX_CONCURRENT_CALLS", help: "MCP tool calls in flight at once per app key.", ...integer(16, 1) },
  /** Tools one app key may have registered at once. */
  mcpMaxTools: { flag: "mcp-max-tools", env: "GMNET_MCP_MAX_TOOLS", help: "MCP tools one app key may register.", ...integer(64, 1) },
  /** MCP client sessions open at once per app key (each has an LLM-session channel, 2000–2999). */
  mcpMaxSessions: {
    flag: "mcp-max-sessions",
    env: "GMNET_MCP_MAX_SESSIONS",
    help: "MCP client sessions open at once per app key.",
    ...integer(64, 1, LLM_SESSION_CHANNELS, `an integer from 1 to ${LLM_SESSION_CHANNELS}, as there are only ${LLM_SESSION_CHANNELS} LLM-session channels (2000–2999)`),
  },
  /** An MCP session with no request for this long is ended (its client starts a new one). */
  mcpSessionIdleMs: { flag: "mcp-session-idle", env: "GMNET_MCP_SESSION_IDLE_MS", help: "Milliseconds without a request before an MCP session ends.", ...integer(30 * 60_000, 1) },
} satisfies Record<string, Setting<unknown>>;

/** Every setting of the server (see `serverSettings` for what each one means). */
export type ServerConfig = { [K in keyof typeof serverSettings]: (typeof serverSettings)[K]["default"] };

export const defaultConfig: ServerConfig = Object.fromEntries(Object.entries(serverSettings).map(([key, setting]) => [key, setting.default])) as ServerConfig;
