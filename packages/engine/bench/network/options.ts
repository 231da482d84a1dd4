/**
 * The network benchmark's configurations and options (network.bench.ts): what each configuration
 * measures and on which signaling server, the command line, and the fixed ports, names and timeouts.
 */
import { type ServerOptions, defaultConfig } from "@gmnet/signaling-server";
import { parseBenchArgs } from "../../../../scripts/bench-args.js";

export type ConfigId = "bare" | "bare-relay" | "tcp" | "tcp-sealed" | "tcp60" | "bridge" | "mcp" | "dc" | "p2p" | "relay" | "relay-sealed" | "relay60";

/** The signaling servers the gmnet configurations run on: what each changes of the server's defaults. */
export type ServerId = "default" | "tick60" | "bridge" | "mcp";
/** The host name engine A claims in the bridge configuration, and the bridge's virtual port. */
export const BRIDGE_HOST = "bench-host";
export const BRIDGE_PORT = 6520;
/** The mcp configuration's bearer token (the server is on 127.0.0.1 for this run only) and A's tool. */
export const MCP_TOKEN = "network-bench-mcp-token";
export const MCP_TOOL = "echo";
export const SERVERS: Readonly<Record<ServerId, Partial<ServerOptions>>> = {
  default: {},
  tick60: { tickRate: 60 },
  // Defaults plus one GameMaker bridge: a real TCP port (picked by the system) to A's server.
  bridge: { gmBridges: [{ port: 0, target: BRIDGE_HOST, targetPort: BRIDGE_PORT, appKey: "network-bench" }] },
  // Defaults plus /mcp for the bench's app key.
  mcp: { mcpTokens: [`network-bench=${MCP_TOKEN}`] },
};

export interface Config {
  readonly id: ConfigId;
  readonly label: string;
  readonly path: string;
  readonly kind: "bare" | "bare-relay" | "dc" | "tcp" | "bridge" | "mcp" | "udp";
  /** The signaling server (gmnet configurations). */
  readonly server?: ServerId;
  /** Messages in flight during the throughput measurement, at most (else --window). */
  readonly maxWindow?: number;
  /** Both engines seal what they send (network_encryption_shared, docs/NETWORK.md "Encryption"). */
  readonly sealed?: boolean;
  /** The path UDP data events must report (`async_load.via`). */
  readonly via?: "p2p" | "relay";
}

export const CONFIGS: readonly Config[] = [
  { id: "bare", label: "bare ws echo", path: "ws message", kind: "bare" },
  { id: "bare-relay", label: "bare ws relay to an echoing client (gmnet's topology)", path: "ws message, relayed", kind: "bare-relay" },
  { id: "tcp", label: "network_send_packet, virtual TCP, default config", path: "server, batched per turn", kind: "tcp", server: "default" },
  { id: "tcp-sealed", label: "network_send_packet, virtual TCP, end-to-end encrypted (AES-GCM)", path: "server, batched per turn", kind: "tcp", server: "default", sealed: true },
  { id: "tcp60", label: "network_send_packet, virtual TCP, tickRate 60", path: "server, batched per tick", kind: "tcp", server: "tick60" },
  { id: "bridge", label: "native GameMaker TCP client → --gm-bridge → engine server, default config", path: "TCP, then server, batched per turn", kind: "bridge", server: "bridge" },
  { id: "mcp", label: "MCP tools/call through /mcp to an engine's tool, answered by network_mcp_tool_respond, default config", path: "HTTP POST, then server", kind: "mcp", server: "mcp", maxWindow: defaultConfig.mcpMaxConcurrentCalls },
  { id: "dc", label: "bare DataChannel echo (reference)", path: "WebRTC DataChannel", kind: "dc" },
  { id: "p2p", label: "network_send_udp, P2P, default config", path: "WebRTC DataChannel", kind: "udp", server: "default", via: "p2p" },
  { id: "relay", label: "network_send_udp, relay, default config", path: "server, batched per turn", kind: "udp", server: "default", via: "relay" },
  { id: "relay-sealed", label: "network_send_udp, relay, end-to-end encrypted (AES-GCM)", path: "server, batched per turn", kind: "udp", server: "default", via: "relay", sealed: true },
  { id: "relay60", label: "network_send_udp, relay, tickRate 60", path: "server, batched per tick", kind: "udp", server: "tick60", via: "relay" },
];

export interface Options {
  markdown: boolean;
  rounds: number;
  configs: ConfigId[];
  pings: number;
  latencyTimeMs: number;
  sizes: number[];
  window: number;
  durationMs: number;
  warmupMs: number;
}

/** A round trip (ping, or a window slot's message) not echoed within this long counts as lost. */
export const LOSS_TIMEOUT_MS = 1000;
/** Connecting, accepting and waiting for the P2P path must each finish within this long. */
export const SETUP_TIMEOUT_MS = 15_000;
export const APP_KEY = "network-bench";
export const TCP_PORT = 6510;
export const UDP_PORT_A = 7100;
export const UDP_PORT_B = 7200;
/** The largest payload: gmnet sends larger datagrams through the relay instead of the DataChannel. */
export const MAX_SIZE = 16384;

export function parseOptions(argv: readonly string[]): Options {
  const ids = CONFIGS.map((c) => c.id);
  const args = parseBenchArgs(
    argv,
    `usage: node --import tsx packages/engine/bench/network.bench.ts [--markdown] [--rounds 3] [--configs ${ids.join(",")}] ` +
      "[--pings 1000] [--latency-time 500] [--sizes 64,1024] [--window 256] [--duration 400] [--warmup 100]",
  );
  // The relay benchmark's names for what this one calls --configs and --sizes.
  for (const [theirs, ours] of [["only", "configs"], ["size", "sizes"]] as const) {
    const value = args.text(theirs);
    if (value !== undefined) console.log(`network benchmark: ignoring --${theirs} ${value} (the relay benchmark's; here use --${ours})`);
  }
  const configs = args.list("configs", ids);
  const unknown = configs.filter((id) => !ids.includes(id as ConfigId));
  if (unknown.length > 0 || configs.length === 0) throw new Error(`--configs takes ${ids.join(",")}, not ${unknown.join(",")}`);
  const sizes = args.list("sizes", ["64", "1024"]).map((raw) => {
    const size = Number(raw);
    if (!Number.isInteger(size) || size < 4 || size > MAX_SIZE) throw new Error(`--sizes needs whole numbers from 4 to ${MAX_SIZE}, not ${raw}`);
    return size;
  });
  if (sizes.length === 0) throw new Error("--sizes needs at least one size");
  // The baseline is what every ratio is against: always measured.
  if (!configs.includes("bare")) configs.unshift("bare");
  return {
    markdown: args.markdown,
    rounds: args.count("rounds", 1, 3),
    configs: configs as ConfigId[],
    pings: args.count("pings", 1, 1000),
    latencyTimeMs: args.count("latency-time", 1, 500),
    sizes,
    window: args.count("window", 1, 256),
    durationMs: args.count("duration", 100, 400),
    warmupMs: args.count("warmup", 0, 100),
  };
}
