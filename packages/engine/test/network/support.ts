/**
 * Network integration tests run the real signaling server on port 0 and engines that talk to it
 * through real WebSockets (the `ws` package) and real WebRTC (`@roamhq/wrtc`), as a Node bot would.
 *
 * With GMNET_TEST_NODES=N (N > 1; the "cluster" vitest project sets 3), a network is N nodes joined
 * through a private Redis and a fresh PostgreSQL database (PROTOCOL.md §15), each with the test's
 * server options, and engines connect to the nodes in turn, so the same suites run across nodes.
 */
import wrtc from "@roamhq/wrtc";
import { expect } from "vitest";
import { WebSocket } from "ws";
import { type GmnetServer, type ServerOptions, createServer } from "@gmnet/signaling-server";
import { type AsyncLoad, type Engine, type NetworkOptions, createEngine, createMemoryStorage } from "../../src/index.js";
import { type ClusterServices, startClusterServices, testNodeCount, tracked } from "../support/cluster-services.js";

export interface TestNetwork {
  /** The first node (the only one without GMNET_TEST_NODES). */
  server: GmnetServer;
  /** Every node, the first being `server`. */
  servers: readonly GmnetServer[];
  /** The first node's WebSocket URL. */
  url: string;
  /** A new engine on the next node in turn; shut down with the network. */
  engine(options?: NetworkOptions): Engine;
  close(): Promise<void>;
}

export async function startNetwork(serverOptions: ServerOptions = {}, appKey = "test-app"): Promise<TestNetwork> {
  const count = testNodeCount();
  const services = count > 1 ? await startClusterServices() : undefined;
  const servers: GmnetServer[] = [];
  try {
    for (let nodeId = 1; nodeId <= count; nodeId++) servers.push(createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent", ...serverOptions, ...clusterOptions(services, nodeId) }));
    await Promise.all(servers.map((server) => server.ready));
  } catch (error) {
    await Promise.allSettled(servers.map((server) => server.close()));
    await services?.stop();
    throw error;
  }
  const urls = servers.map((server) => server.address().wsUrl);
  const engines: Engine[] = [];
  const closeAll = async (): Promise<void> => {
    for (const gm of engines) gm.network_shutdown();
    await Promise.all(servers.map((server) => server.close()));
    await services?.stop();
  };
  // A cluster network left open (a test that closes only `server`) is closed when its file ends.
  const close = services === undefined ? closeAll : tracked(closeAll);
  return {
    server: servers[0]!,
    servers,
    url: urls[0]!,
    engine(options = {}) {
      const signalingUrl = urls[engines.length % urls.length]!;
      const gm = createEngine({ storage: createMemoryStorage(), network: { WebSocket, wrtc, signalingUrl, appKey, ...options } });
      engines.push(gm);
      return gm;
    },
    close,
  };
}

/** A node's share of the cluster: the network's Redis and database, its own node id, and no SQLite file (all state is shared). */
function clusterOptions(services: ClusterServices | undefined, nodeId: number): ServerOptions {
  if (services === undefined) return {};
  // GMNET_TEST_DURABLE=1 (the "durable" vitest project): resumable sessions are kept in Redis.
  return { redis: services.redis.url, database: services.database, nodeId, db: "/nonexistent/never-opened.sqlite", durableSessions: process.env.GMNET_TEST_DURABLE === "1" };
}

/** An event as recorded by EventLog: its async_load plus the data buffer's bytes, read during the event. */
export type RecordedEvent = AsyncLoad & { bytes?: Uint8Array; event_type: number };

/**
 * Drains an engine's async events the way a game loop would and keeps them, so a test can await
 * "the next event like this" without sleeping. Data buffers are copied inside the handler,
 * because the engine deletes them when the handler returns.
 */
export class EventLog {
  readonly seen: RecordedEvent[] = [];
  private readonly taken = new Set<number>();

  constructor(private readonly gm: Engine) {}

  /** The oldest event not yet returned that matches `match`; fails after `timeoutMs`. */
  async next(match: Partial<Record<string, unknown>> | ((event: RecordedEvent) => boolean) = {}, timeoutMs = 5_000): Promise<RecordedEvent> {
    const test = typeof match === "function" ? match : (event: RecordedEvent) => Object.entries(match).every(([key, value]) => event[key] === value);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = 0; i < this.seen.length; i++) {
        const event = this.seen[i]!;
        if (!this.taken.has(i) && test(event)) {
          this.taken.add(i);
          return event;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; seen: ${JSON.stringify(this.seen.map(summary))}`);
      await this.gm.async_event_wait(left);
      this.drain();
    }
  }

  /** Dispatches whatever is queued now into the log. */
  drain(): void {
    this.gm.async_event_dispatch((load, event_type) => {
      const event: RecordedEvent = { ...load, event_type };
      if (typeof load.buffer === "number" && typeof load.size === "number") {
        const bytes = new Uint8Array(load.size);
        for (let i = 0; i < load.size; i++) bytes[i] = this.gm.buffer_peek(load.buffer, i, this.gm.buffer_u8) as number;
        event.bytes = bytes;
      }
      this.seen.push(event);
    });
  }
}

function summary(event: RecordedEvent): Record<string, unknown> {
  const { bytes, ...rest } = event;
  return bytes === undefined ? rest : { ...rest, bytes: bytes.length };
}

/** A buffer holding `bytes` (or a string's UTF-8), for sending. */
export function bufferOf(gm: Engine, content: Uint8Array | string): number {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  const buffer = gm.buffer_create(Math.max(1, bytes.length), gm.buffer_fixed, 1);
  bytes.forEach((byte, i) => gm.buffer_poke(buffer, i, gm.buffer_u8, byte));
  return buffer;
}

/** network_send_packet (network_send_raw when `raw`) of all of `content` (a string as UTF-8) on `socket`; what it returned. */
export function sendPacket(gm: Engine, socket: number, content: Uint8Array | string, raw = false): number {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  const buffer = bufferOf(gm, bytes);
  const sent = raw ? gm.network_send_raw(socket, buffer, bytes.length) : gm.network_send_packet(socket, buffer, bytes.length);
  gm.buffer_delete(buffer);
  return sent;
}

export const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);

/**
 * Offers MCP tool `name` again and again until the server gives it to `engine`: a name is freed
 * when the session of the engine that had it ends, which the server (or another node) may learn a
 * little later.
 */
export async function mcpToolOnceFree(engine: { gm: Engine; log: EventLog }, name: string): Promise<void> {
  await expect
    .poll(async () => {
      const id = engine.gm.network_mcp_tool_register(name, "mine now", { type: "object" });
      return (await engine.log.next({ type: engine.gm.network_type_mcp_tool, id })).succeeded;
    })
    .toBe(1);
}
