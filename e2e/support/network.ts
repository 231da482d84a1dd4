/**
 * Helpers for the network e2e tests, in one place: the `openPeer` fixture (a playground page in
 * a browser context of its own, so its own sessionStorage, identity and virtual IP: another
 * "machine" on the virtual network), an event log inside each page that drains the engine's
 * async events the way a game loop would, so a test waits for "the next event like this" with a
 * deadline instead of sleeping, and the TCP steps the tests share.
 *
 * Functions passed to page.evaluate run in the page: they are serialized, so they may use only
 * their arguments and the page's globals (globalThis.gmnet, globalThis.gmnetE2e).
 */
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "@playwright/test";
import { expect, playgroundReady, test as base } from "../fixtures.js";

/** GameMaker's async_load[? "type"] values and event subtype (network.spec.ts checks them against the engine's). */
export const network_type_connect = 1;
export const network_type_disconnect = 2;
export const network_type_data = 3;
export const network_type_non_blocking_connect = 4;
export const network_type_up = 5;
export const ev_async_web_networking = 68;

/** How long a single wait for a network event may take before the test fails with what was seen. */
export const EVENT_TIMEOUT_MS = 10_000;

/** One async event as the page's log keeps it: async_load, event_type, and for data events the bytes. */
export interface RecordedEvent {
  [key: string]: unknown;
  event_type: number;
  /** Data events: the buffer's bytes as hex, read during the event (the engine deletes the buffer after the handler). */
  hex?: string;
  /** Data events: buffer_read(buffer, buffer_string) from the start of the buffer. */
  text?: string;
}

/** Fields an event must have (===); numbers and strings only, so it can travel into the page. */
export type EventMatch = Record<string, string | number>;

interface PageEventLog {
  /** Every event dispatched so far, oldest first. */
  readonly seen: RecordedEvent[];
  /** Dispatches every queued async event into `seen`. */
  drain(): void;
  /** The oldest event not returned yet that has every field of `match`; waits (async_event_wait) until `timeoutMs`, then throws listing what was seen. */
  next(match: EventMatch, timeoutMs: number): Promise<RecordedEvent>;
}

declare global {
  /** The network e2e tests' event log, installed by {@link installEventLog}. */
  var gmnetE2e: PageEventLog | undefined;
}

/** Installs globalThis.gmnetE2e (runs in the page). */
export function installEventLog(): void {
  if (globalThis.gmnetE2e !== undefined) return;
  const gm = globalThis.gmnet;
  const seen: RecordedEvent[] = [];
  const taken = new Set<number>();
  let firstUntaken = 0;
  const summary = (event: RecordedEvent): string =>
    JSON.stringify(event, (key, value: unknown) => (key === "hex" && typeof value === "string" ? `${value.length / 2} bytes` : value));
  const log: PageEventLog = {
    seen,
    drain() {
      gm.async_event_dispatch((load, event_type) => {
        const event: RecordedEvent = { ...load, event_type };
        if (typeof load.buffer === "number" && typeof load.size === "number") {
          let hex = "";
          for (let i = 0; i < load.size; i++) hex += Number(gm.buffer_peek(load.buffer, i, gm.buffer_u8)).toString(16).padStart(2, "0");
          event.hex = hex;
          gm.buffer_seek(load.buffer, gm.buffer_seek_start, 0);
          const text = gm.buffer_read(load.buffer, gm.buffer_string);
          if (typeof text === "string") event.text = text;
        }
        seen.push(event);
      });
    },
    async next(match, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      const matches = (event: RecordedEvent): boolean => Object.entries(match).every(([key, value]) => event[key] === value);
      for (;;) {
        log.drain();
        for (let i = firstUntaken; i < seen.length; i++) {
          if (taken.has(i) || !matches(seen[i]!)) continue;
          taken.add(i);
          while (taken.has(firstUntaken)) firstUntaken++;
          return seen[i]!;
        }
        const left = deadline - performance.now();
        if (left <= 0) {
          const recent = seen.slice(-20).map(summary).join(", ") || "nothing";
          throw new Error(`no event matching ${JSON.stringify(match)} within ${timeoutMs} ms; ${seen.length} seen, the last ones: ${recent}`);
        }
        await gm.async_event_wait(left);
      }
    },
  };
  globalThis.gmnetE2e = log;
}

export interface PeerOptions {
  /** false: the page has no RTCPeerConnection (removed before any page script runs). Default true. */
  webrtc?: boolean;
  /** Extra options for browser.newContext (e.g. permissions). */
  context?: BrowserContextOptions;
}

/** A playground page in a browser context of its own: another "machine" on the virtual network. */
export interface Peer {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught errors and console.error messages of the page, as they happen. */
  readonly problems: string[];
  /**
   * Problems a test expects (e.g. Chromium's own line for each refused WebSocket while a server
   * is down): matching ones are not counted, whenever they arrive — also after the test's body.
   */
  readonly expectedProblems: RegExp[];
}

/** Opens a new context and the playground in it, with gmnet loaded and the event log installed. */
async function openPeer(browser: Browser, baseURL: string, name: string, options: PeerOptions): Promise<Peer> {
  const context = await browser.newContext({ ...options.context, baseURL });
  if (options.webrtc === false) {
    await context.addInitScript(() => {
      const scope = window as unknown as Record<string, unknown>;
      delete scope.RTCPeerConnection;
      delete scope.webkitRTCPeerConnection;
    });
  }
  const page = await context.newPage();
  const problems: string[] = [];
  const expectedProblems: RegExp[] = [];
  page.on("pageerror", (error) => problems.push(`${name}: uncaught ${error.name}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`${name}: console.error: ${message.text()}`);
  });
  await page.goto("/buffers.html");
  await playgroundReady(page);
  await page.evaluate(installEventLog);
  return { name, context, page, problems, expectedProblems };
}

/**
 * `openPeer(name, options)`: a playground page in a new browser context (see {@link Peer}).
 * Every context opened is closed after the test, and the test fails if any page threw an
 * uncaught error or logged one with console.error.
 */
export const test = base.extend<{ openPeer: (name: string, options?: PeerOptions) => Promise<Peer> }>({
  openPeer: async ({ browser, baseURL }, use) => {
    if (baseURL === undefined) throw new Error("no baseURL: run the tests with --config e2e/playwright.config.ts, whose global setup starts the server");
    const peers: Peer[] = [];
    await use(async (name, options = {}) => {
      const peer = await openPeer(browser, baseURL, name, options);
      peers.push(peer);
      return peer;
    });
    const problems = peers.flatMap((peer) => peer.problems.filter((problem) => !peer.expectedProblems.some((pattern) => pattern.test(problem))));
    await Promise.all(peers.map((peer) => peer.context.close()));
    expect(problems, "errors reported by the pages").toEqual([]);
  },
});

export { expect };

/** Waits in the page for its next network event with these fields (see PageEventLog.next). */
export function nextEvent(peer: Peer, match: EventMatch, timeoutMs = EVENT_TIMEOUT_MS): Promise<RecordedEvent> {
  return peer.page.evaluate(
    ({ match, timeoutMs }) => {
      if (globalThis.gmnetE2e === undefined) throw new Error("the e2e event log is not installed");
      return globalThis.gmnetE2e.next(match, timeoutMs);
    },
    { match, timeoutMs },
  );
}

/** Whether the page's engine is connected to the signaling server (network_config_connected), and its virtual IP. */
export function networkState(peer: Peer): Promise<{ connected: unknown; ip: unknown }> {
  return peer.page.evaluate(() => {
    const gm = globalThis.gmnet;
    return { connected: gm.network_get_config(gm.network_config_connected), ip: gm.network_get_config(gm.network_config_virtual_ip) };
  });
}

/**
 * Waits for the page's network_type_up event (the engine reached the signaling server) and
 * returns the virtual IP it carries, which network_get_config must agree with.
 */
export async function onlineIp(peer: Peer): Promise<string> {
  const up = await nextEvent(peer, { type: network_type_up });
  expect(up, `${peer.name}: network_type_up`).toMatchObject({ event_type: ev_async_web_networking, id: -1, ip: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/) });
  expect(await networkState(peer), `${peer.name}: network_get_config once up`).toEqual({ connected: 1, ip: up.ip });
  return up.ip as string;
}

/** A virtual port for one test. Each context is a host of its own, so ports cannot collide across tests; picking them at random keeps the tests from relying on any particular one. */
export function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 40_000);
}

/** The bytes of a buffer_string, as hex: UTF-8, then a NUL. */
export const stringHex = (text: string): string => Buffer.concat([Buffer.from(text, "utf8"), Buffer.of(0)]).toString("hex");

/**
 * Writes `text` with buffer_write(buffer_string) and sends it: on a socket with network_send_packet,
 * or on an app channel with network_channel_send (packet type 1). Returns what the send returned
 * and the size sent.
 */
export function sendText(peer: Peer, to: number | { channel: number }, text: string): Promise<{ sent: number; size: number }> {
  return peer.page.evaluate(
    ({ to, text }) => {
      const gm = globalThis.gmnet;
      const buffer = gm.buffer_create(16, gm.buffer_grow, 1);
      try {
        gm.buffer_write(buffer, gm.buffer_string, text);
        const size = gm.buffer_get_used_size(buffer);
        return { sent: typeof to === "number" ? gm.network_send_packet(to, buffer, size) : gm.network_channel_send(to.channel, 1, buffer, size), size };
      } finally {
        gm.buffer_delete(buffer);
      }
    },
    { to, text },
  );
}

/** A TCP connection from B's page to a server in A's page, as connectTcp made it. */
export interface TcpPair {
  /** A's server socket, its virtual IP and port. */
  server: number;
  ipA: string;
  port: number;
  /** B's socket, its virtual IP and the port it connected from (as A saw it). */
  clientSocket: number;
  ipB: string;
  clientPort: number;
  /** The socket A's server accepted for B. */
  accepted: number;
}

/**
 * A opens a TCP server (network_create_server, GameMaker framing) on a random port and learns its
 * IP from network_type_up; B connects with network_connect_async. Checks both sides' events:
 * network_type_non_blocking_connect in B, network_type_connect in A.
 */
export async function connectTcp(a: Peer, b: Peer): Promise<TcpPair> {
  const port = randomPort();
  const server = await a.page.evaluate((port) => globalThis.gmnet.network_create_server(globalThis.gmnet.network_socket_tcp, port, 4), port);
  expect(server, "network_create_server").toBeGreaterThanOrEqual(0);
  const ipA = await onlineIp(a);

  const client = await b.page.evaluate(
    ({ ip, port }) => {
      const gm = globalThis.gmnet;
      const socket = gm.network_create_socket(gm.network_socket_tcp);
      return { socket, connect: gm.network_connect_async(socket, ip, port) };
    },
    { ip: ipA, port },
  );
  expect(client.socket, "network_create_socket").toBeGreaterThanOrEqual(0);
  expect(client.connect, "network_connect_async").toBe(0);
  const ipB = await onlineIp(b);
  expect(ipB).not.toBe(ipA);
  const connected = await nextEvent(b, { type: network_type_non_blocking_connect, id: client.socket });
  expect(connected).toMatchObject({ event_type: ev_async_web_networking, socket: client.socket, succeeded: 1, ip: ipA, port });

  const accepted = await nextEvent(a, { type: network_type_connect, id: server });
  expect(accepted).toMatchObject({ event_type: ev_async_web_networking, server, ip: ipB, socket: expect.any(Number), port: expect.any(Number) });
  expect(accepted.socket).not.toBe(server);
  expect(accepted.port).toBeGreaterThan(0);
  return { server, ipA, port, clientSocket: client.socket, ipB, clientPort: accepted.port as number, accepted: accepted.socket as number };
}
