/**
 * Every setting of the server, with its default. Limits are explicit so operators can see and
 * tune what protects the process: frame size, queue size, rate, heartbeat, pending requests.
 */
export interface ServerConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** SQLite file for identities and virtual IPs; ":memory:" keeps nothing. */
  db: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Outgoing batches per second; 0 sends every frame at once. */
  tickRate: number;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** Virtual IPs are drawn from this CIDR range. */
  virtualNetwork: string;
  /** Largest frame payload a client may send; larger frames close the connection (PROTOCOL_ERROR). */
  maxFrameSize: number;
  /** Largest WebSocket message (one batch of frames). */
  maxMessageSize: number;
  /** A client whose unsent data passes this is a slow consumer and is disconnected. */
  maxQueuedBytes: number;
  /** Frames per second a client may send (token bucket, burst = 2 s worth). */
  rateLimit: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  helloTimeoutMs: number;
  /** How long a virtual-socket handshake may wait for the target's answer. */
  requestTimeoutMs: number;
  /** Unanswered handshakes one client may have open at once. */
  maxPendingRequests: number;
  /** App channels one app key may register. */
  maxAppChannels: number;
  /** Browser origins allowed to connect; empty allows any (native clients send none). */
  allowedOrigins: string[];
  /** RTCIceServer list for WebRTC; TURN entries get REST credentials when turnSecret is set. */
  iceServers: Array<{ urls: string | string[]; username?: string; credential?: string }>;
  turnSecret: string | undefined;
  turnCredentialTtlSeconds: number;
  /** How long clients are told to wait before reconnecting after a drain. */
  drainRetryAfterMs: number;
}

export const defaultConfig: ServerConfig = {
  host: "0.0.0.0",
  port: 8080,
  db: "./data/gmnet.sqlite",
  logLevel: "info",
  tickRate: 60,
  tlsCert: undefined,
  tlsKey: undefined,
  virtualNetwork: "10.0.0.0/8",
  maxFrameSize: 256 * 1024,
  maxMessageSize: 1024 * 1024,
  maxQueuedBytes: 4 * 1024 * 1024,
  rateLimit: 2000,
  heartbeatIntervalMs: 15_000,
  heartbeatTimeoutMs: 10_000,
  helloTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  maxPendingRequests: 64,
  maxAppChannels: 256,
  allowedOrigins: [],
  iceServers: [{ urls: "stun:stun.l.google.com:19302" }],
  turnSecret: undefined,
  turnCredentialTtlSeconds: 3600,
  drainRetryAfterMs: 1000,
};

/** Flags for the `gmnet-server` command line, each with its environment variable. */
const FLAGS: Record<string, { key: keyof ServerConfig; env: string; kind: "string" | "number" | "list" | "json" }> = {
  host: { key: "host", env: "GMNET_HOST", kind: "string" },
  port: { key: "port", env: "PORT", kind: "number" },
  db: { key: "db", env: "GMNET_DB", kind: "string" },
  "log-level": { key: "logLevel", env: "GMNET_LOG_LEVEL", kind: "string" },
  "tick-rate": { key: "tickRate", env: "GMNET_TICK_RATE", kind: "number" },
  "tls-cert": { key: "tlsCert", env: "GMNET_TLS_CERT", kind: "string" },
  "tls-key": { key: "tlsKey", env: "GMNET_TLS_KEY", kind: "string" },
  "virtual-network": { key: "virtualNetwork", env: "GMNET_VIRTUAL_NETWORK", kind: "string" },
  "max-frame-size": { key: "maxFrameSize", env: "GMNET_MAX_FRAME_SIZE", kind: "number" },
  "max-message-size": { key: "maxMessageSize", env: "GMNET_MAX_MESSAGE_SIZE", kind: "number" },
  "max-queued-bytes": { key: "maxQueuedBytes", env: "GMNET_MAX_QUEUED_BYTES", kind: "number" },
  "rate-limit": { key: "rateLimit", env: "GMNET_RATE_LIMIT", kind: "number" },
  "heartbeat-interval": { key: "heartbeatIntervalMs", env: "GMNET_HEARTBEAT_INTERVAL_MS", kind: "number" },
  "heartbeat-timeout": { key: "heartbeatTimeoutMs", env: "GMNET_HEARTBEAT_TIMEOUT_MS", kind: "number" },
  "allowed-origins": { key: "allowedOrigins", env: "GMNET_ALLOWED_ORIGINS", kind: "list" },
  "ice-servers": { key: "iceServers", env: "GMNET_ICE_SERVERS", kind: "json" },
  "turn-secret": { key: "turnSecret", env: "GMNET_TURN_SECRET", kind: "string" },
};

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Reads `--flag value` / `--flag=value` arguments over environment variables over defaults. */
export function configFromArgs(argv: readonly string[], env: Record<string, string | undefined>): ServerConfig {
  const config: ServerConfig = { ...defaultConfig };
  const set = (flag: string, raw: string): void => {
    const spec = FLAGS[flag];
    if (spec === undefined) throw new ConfigError(`unknown option --${flag} (known: ${Object.keys(FLAGS).map((f) => `--${f}`).join(" ")})`);
    (config as unknown as Record<string, unknown>)[spec.key] = parseValue(flag, spec.kind, raw);
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
    set(flag, value);
  }
  return validateConfig(config);
}

function parseValue(flag: string, kind: string, raw: string): unknown {
  if (kind === "number") {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(`--${flag} must be a non-negative number, not ${JSON.stringify(raw)}`);
    return value;
  }
  if (kind === "list") return raw.split(",").map((item) => item.trim()).filter(Boolean);
  if (kind === "json") {
    try {
      return JSON.parse(raw);
    } catch {
      throw new ConfigError(`--${flag} must be JSON`);
    }
  }
  return raw;
}

export function validateConfig(config: ServerConfig): ServerConfig {
  if (!Number.isInteger(config.port) || config.port > 65535) throw new ConfigError(`port must be 0–65535, not ${config.port}`);
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) throw new ConfigError("--tls-cert and --tls-key go together");
  if (config.maxFrameSize > config.maxMessageSize) throw new ConfigError("maxFrameSize cannot exceed maxMessageSize");
  if (config.heartbeatIntervalMs <= 0 || config.heartbeatTimeoutMs <= 0) throw new ConfigError("heartbeat interval and timeout must be positive");
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(config.logLevel)) throw new ConfigError(`unknown log level ${config.logLevel}`);
  return config;
}
