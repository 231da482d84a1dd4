/**
 * Helpers for the server's integration tests: a server on a free port with an in-memory
 * database and no logs, its HTTP endpoints, and Prometheus text parsing.
 */
import { Channel, ChannelAssigned, ChannelRegister, ControlType } from "@gmnet/protocol";
import { type GmnetServer, type ServerOptions, createServer } from "../../src/index.js";
import type { ProtocolClient } from "./protocol-client.js";

export async function startServer(options: ServerOptions = {}): Promise<GmnetServer> {
  const server = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent", ...options });
  await server.ready;
  return server;
}

/** Password hashing for tests: the production scrypt cost would make every login take ~50 ms. */
export const FAST_HASHES = { scryptCost: 1024, scryptParallelism: 1 } as const;

/** Runs `run` against a server of its own (fast hashes plus `options`), closed afterwards. */
export async function withServer(options: ServerOptions, run: (server: GmnetServer) => Promise<void>): Promise<void> {
  const own = await startServer({ ...FAST_HASHES, ...options });
  try {
    await run(own);
  } finally {
    await own.close();
  }
}

export async function getJson(server: GmnetServer, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(server.address().url + path);
  return { status: response.status, body: await response.json() };
}

export async function metricsText(server: GmnetServer): Promise<string> {
  const response = await fetch(server.address().url + "/metrics");
  return response.text();
}

/**
 * The value of one sample in Prometheus text format, or undefined when absent. `labels` must
 * match exactly the sample's label set (order-insensitive).
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort()
    .join(",");
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? "")
      .split(",")
      .filter(Boolean)
      .sort()
      .join(",");
    if (have === wanted) return Number(match[3]);
  }
  return undefined;
}

export async function metric(server: GmnetServer, name: string, labels?: Record<string, string>): Promise<number> {
  return metricValue(await metricsText(server), name, labels) ?? 0;
}

/**
 * Polls /metrics until the sample satisfies `check`, and resolves with its value; fails with the
 * last value seen after `timeoutMs`.
 */
export async function metricUntil(server: GmnetServer, name: string, labels: Record<string, string>, check: (value: number) => boolean, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await metric(server, name, labels);
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`${name}${JSON.stringify(labels)} is still ${value} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Registers an app channel by name and resolves with its number. */
export async function registerChannel(client: ProtocolClient, name: string): Promise<number> {
  client.send(Channel.CONTROL, ControlType.CHANNEL_REGISTER, ChannelRegister.encode({ name }));
  const assigned = await client.nextMessage(Channel.CONTROL, ControlType.CHANNEL_ASSIGNED, ChannelAssigned);
  return assigned.channel;
}

/** Resolves when `condition` holds, checking after each of `poll`'s awaits; fails after `tries`. */
export async function eventually(condition: () => Promise<boolean> | boolean, poll: () => Promise<unknown>, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await poll();
  }
  throw new Error(`condition not met after ${tries} tries`);
}
