/**
 * The server's configuration: read from `gmnet-server` flags over environment variables over
 * defaults, and checked, setting by setting against the table in config-schema.ts, then for the
 * rules that tie settings to each other.
 */
import { parseArgs } from "node:util";
import { FRAME_HEADER_SIZE, parseIpv4 } from "@gmnet/protocol";
import { parseAllowEntry } from "./bridge/outbound-allow.js";
import { formatGmBridgeSpec } from "./bridge/spec.js";
import { type ExplainedIssue, type ServerConfig, type Setting, defaultConfig, serverSettings } from "./config-schema.js";
import { parseVirtualNetwork } from "./services/virtual-network.js";

export {
  GM_BRIDGE_EPHEMERAL_PORTS,
  MIN_MCP_TOKEN_LENGTH,
  type ServerConfig,
  defaultConfig,
  parseMcpToken,
  parseWorldWriter,
} from "./config-schema.js";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type SettingKey = keyof ServerConfig;
const settings = Object.entries(serverSettings) as Array<[SettingKey, Setting<unknown>]>;

/** `gmnet-server --help`: every flag with its environment variable, default and what it does. */
export function usage(): string {
  const lines = settings.map(([, setting]) => {
    const value = setting.default;
    const shown = value === undefined ? "" : ` (default ${typeof value === "string" ? value : JSON.stringify(value)})`;
    return `  --${setting.flag.padEnd(22)} ${setting.env}${shown}\n      ${setting.help}`;
  });
  return [
    "usage: gmnet-server [--flag value | --flag=value]...",
    "",
    "Flags override environment variables, which override defaults. A repeatable flag adds to its list;",
    "its variable takes a comma-separated list.",
    "",
    ...lines,
    "",
  ].join("\n");
}

/** Reads `--flag value` / `--flag=value` arguments over environment variables over defaults. */
export function configFromArgs(argv: readonly string[], env: Record<string, string | undefined>): ServerConfig {
  const config: Record<string, unknown> = { ...defaultConfig };
  for (const [key, setting] of settings) {
    const text = env[setting.env];
    if (text !== undefined && text !== "") config[key] = read(setting, text);
  }
  // A repeatable flag (--gm-bridge) adds to what its earlier occurrences gave; its first one replaces the environment's list.
  const seen = new Set<SettingKey>();
  for (const { key, setting, text } of flagsOf(argv)) {
    const value = read(setting, text);
    config[key] = setting.repeatable && seen.has(key) ? [...(config[key] as unknown[]), ...(value as unknown[])] : value;
    seen.add(key);
  }
  return validateConfig(config as ServerConfig);
}

const settingOfFlag = new Map(settings.map(([key, setting]) => [setting.flag, { key, setting }]));

/**
 * The flags of `argv` in order. parseArgs runs loose (strict: false) and this walks its tokens,
 * so errors name the flag in our words, and a value starting with "-" (`--port -1`) is read as the
 * value to refuse rather than as an ambiguous option.
 */
function flagsOf(argv: readonly string[]): Array<{ key: SettingKey; setting: Setting<unknown>; text: string }> {
  const options = Object.fromEntries(settings.map(([, setting]) => [setting.flag, { type: "string" as const, multiple: true }]));
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const flags = [];
  for (const token of tokens) {
    if (token.kind === "positional") throw new ConfigError(`unexpected argument ${JSON.stringify(token.value)}`);
    if (token.kind === "option-terminator") continue;
    const known = settingOfFlag.get(token.name);
    if (known === undefined || token.rawName !== `--${token.name}`) {
      throw new ConfigError(`unknown option ${token.rawName} (known: ${settings.map(([, setting]) => `--${setting.flag}`).join(" ")})`);
    }
    if (token.value === undefined) throw new ConfigError(`${token.rawName} needs a value`);
    flags.push({ ...known, text: token.value });
  }
  return flags;
}

/** A setting's value from its text; the schema checks it later. A parser's error (a bad --gm-bridge) stops here. */
function read(setting: Setting<unknown>, text: string): unknown {
  try {
    return setting.read(text);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** Largest frame payload the engine accepts from the server (signaling-socket.ts). */
const MAX_CLIENT_FRAME_BYTES = 16 * 1024 * 1024;
/** ICE_SERVERS carries the list as a string of at most this many UTF-8 bytes. */
const MAX_ICE_SERVERS_JSON = 8192;
/** What TURN REST credentials add to one entry at most (username "expiry:a.b.c.d", base64 SHA-1 HMAC). */
const TURN_CREDENTIAL_BYTES = '"username":"4294967295:255.255.255.255","credential":"'.length + 28 + 2;
/** Bytes of a world document's body besides its value (name, version, time, writer, keys), at most. */
export const WORLD_DOCUMENT_OVERHEAD_BYTES = 256;

/** Checks every setting, then the rules between them; throws a ConfigError naming the flag, or returns `config` itself. */
export function validateConfig(config: ServerConfig): ServerConfig {
  for (const [key, setting] of settings) {
    const value: unknown = config[key];
    const result = setting.schema.safeParse(value);
    if (result.success) continue;
    const issue = result.error.issues[0];
    if (issue?.code === "custom" && (issue.params as Partial<ExplainedIssue> | undefined)?.explained) throw new ConfigError(issue.message);
    throw new ConfigError(`--${setting.flag} must be ${setting.must}, not ${show(value)} (${setting.env}; ${key} in createServer options)`);
  }
  checkRulesBetweenSettings(config);
  return config;
}

function show(value: unknown): string {
  return typeof value === "string" || (typeof value === "object" && value !== null) ? JSON.stringify(value) : String(value);
}

function checkRulesBetweenSettings(config: ServerConfig): void {
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) throw new ConfigError("--tls-cert and --tls-key go together");
  // A paused reader must be able to take the largest message in one go once the bucket is full.
  if (config.rateLimitBytes > 0 && config.rateLimitBytes * 2 < config.maxMessageSize + 64) {
    throw new ConfigError(`rateLimitBytes (${config.rateLimitBytes}) must allow one largest message (maxMessageSize ${config.maxMessageSize}) per 2 s burst`);
  }
  if (config.maxFrameSize > config.maxMessageSize) throw new ConfigError("maxFrameSize cannot exceed maxMessageSize");
  // A reading client must always have room for one relayed frame of the largest size (and a
  // datagram, dropped above half the queue, for one too), or it would be cut off for nothing.
  const roomForAFrame = 2 * (config.maxFrameSize + 4 * FRAME_HEADER_SIZE);
  if (config.maxQueuedBytes < roomForAFrame) throw new ConfigError(`maxQueuedBytes (${config.maxQueuedBytes}) must be at least twice maxFrameSize plus headers (${roomForAFrame})`);
  if (config.durableSessions && config.redis === undefined) {
    throw new ConfigError("--durable-sessions needs --redis redis://… (GMNET_REDIS_URL): durable sessions live in Redis");
  }
  // Each node's own SQLite would give one identity a different address on each node, and two identities the same one.
  if (config.redis !== undefined && config.database === undefined) {
    throw new ConfigError("--redis needs --database postgres://… (GMNET_DATABASE_URL): the nodes must share one identity table");
  }
  // ICE_SERVERS has a size limit; check it once here, with room for the TURN credentials added per client.
  const iceBytes = Buffer.byteLength(JSON.stringify(config.iceServers)) + (config.turnSecret === undefined ? 0 : config.iceServers.length * TURN_CREDENTIAL_BYTES);
  if (iceBytes > MAX_ICE_SERVERS_JSON) throw new ConfigError(`iceServers takes ${iceBytes} bytes as JSON (with credentials); the protocol carries at most ${MAX_ICE_SERVERS_JSON}`);
  checkGmBridges(config);
  checkWorld(config);
}

function checkGmBridges(config: ServerConfig): void {
  const ports = new Set<number>();
  for (const spec of config.gmBridges) {
    if (spec.port !== 0 && (ports.has(spec.port) || spec.port === config.port)) throw new ConfigError(`gm-bridge ${formatGmBridgeSpec(spec)}: port ${spec.port} is already used by the server or another bridge`);
    ports.add(spec.port);
  }
  // Addresses inside the virtual network name engines, so a real destination there could not be reached.
  const network = parseVirtualNetwork(config.virtualNetwork);
  for (const text of config.gmBridgeAllow) {
    const entry = parseAllowEntry(text);
    const ip = entry.family === 4 ? parseIpv4(entry.host) : undefined;
    if (ip !== undefined && ip >= network.first - 1 && ip <= network.last + 1) {
      throw new ConfigError(`--gm-bridge-allow ${text}: ${entry.host} is inside the virtual network ${config.virtualNetwork}, where addresses name engines; move the virtual network (--virtual-network) to reach it`);
    }
  }
}

function checkWorld(config: ServerConfig): void {
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
