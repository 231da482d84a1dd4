/**
 * Drives the resume acceptance scenario (PROTOCOL.md §14) with real parts: a signaling server, a
 * fault-injecting proxy between it and one engine, and a virtual TCP stream between that engine
 * and a host engine, carrying numbered packets both ways at a steady rate while the proxy breaks
 * the client's path again and again. Optionally relayed datagrams flow at the same time.
 *
 * It counts what a game would care about: every packet `network_send_packet` accepted must
 * arrive exactly once and in order, and neither script may see a disconnect. Used by the test
 * suite (a few dozen drops) and by `npm run soak` (a thousand).
 */
import wrtc from "@roamhq/wrtc";
import { WebSocket } from "ws";
import { type Engine, type NetworkOptions, createEngine, createMemoryStorage } from "../../src/index.js";
import type { FaultProxy } from "./fault-proxy.js";

export type FaultKind = "reset" | "drop" | "stall" | "half-open-to-server" | "half-open-to-client";

export interface SoakOptions {
  /** Where the host engine connects (the server itself) and where the client does (the proxy). */
  serverUrl: string;
  proxy: FaultProxy;
  appKey?: string;
  /** Faults to inject, one after another. */
  drops: number;
  /** Cycled through, in order. */
  faults: readonly FaultKind[];
  /** Packets per second in each direction. */
  rate?: number;
  /** Time between the recovery from one fault and the next fault. */
  gapMs?: number;
  /** Bytes per packet (at least 4: the sequence number). */
  packetSize?: number;
  /** Also send relayed datagrams both ways at the same rate (their loss is allowed). */
  datagrams?: boolean;
  /** Options for the client engine (the one behind the proxy): short liveness so stalls are noticed fast. */
  clientNetwork?: Partial<NetworkOptions>;
  /** Give up waiting for delivery after this long once the last fault healed. */
  settleTimeoutMs?: number;
  onProgress?: (done: number) => void;
}

export interface SoakReport {
  drops: number;
  /** Packets accepted by network_send_packet, per direction. */
  sent: { toHost: number; toClient: number };
  delivered: { toHost: number; toClient: number };
  lost: number;
  duplicated: number;
  reordered: number;
  /** network_type_disconnect / _down events seen by either script, and the first few of them. */
  disconnects: number;
  disconnectEvents: Array<Record<string, unknown>>;
  /** Resumes the client engine reports; how long each took from noticing the drop to RESUMED, and from the fault to RESUMED (ms). */
  resumes: number;
  resumeMs: number[];
  recoveryMs: number[];
  datagramsSent: number;
  datagramsReceived: number;
  elapsedMs: number;
}

const PORT = 6510;
const UDP_PORT = 7000;

/** Resolves after `ms` of real time: the soak paces its sends like a game loop does. */
const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runStreamSoak(options: SoakOptions): Promise<SoakReport> {
  const appKey = options.appKey ?? `soak-${Math.random().toString(36).slice(2, 8)}`;
  const rate = options.rate ?? 100;
  const gapMs = options.gapMs ?? 100;
  const packetSize = Math.max(4, options.packetSize ?? 32);
  const intervalMs = 1000 / rate;
  const make = (url: string, extra: Partial<NetworkOptions> = {}): Engine =>
    createEngine({ storage: createMemoryStorage(), network: { WebSocket, wrtc, signalingUrl: url, appKey, ...extra } });
  const host = make(options.serverUrl);
  const client = make(options.proxy.wsUrl("/ws"), { livenessTimeoutMs: 400, echoIntervalMs: 100, reconnectDelayMs: 20, ...options.clientNetwork });
  const report: SoakReport = {
    drops: 0,
    sent: { toHost: 0, toClient: 0 },
    delivered: { toHost: 0, toClient: 0 },
    lost: 0,
    duplicated: 0,
    reordered: 0,
    disconnects: 0,
    disconnectEvents: [],
    resumes: 0,
    resumeMs: [],
    recoveryMs: [],
    datagramsSent: 0,
    datagramsReceived: 0,
    elapsedMs: 0,
  };
  const started = performance.now();
  // Next expected sequence number per direction; anything else is a duplicate, a reorder or a gap.
  const expected = { toHost: 1, toClient: 1 };
  const received = (direction: "toHost" | "toClient", seq: number): void => {
    const want = expected[direction];
    if (seq === want) {
      expected[direction] = want + 1;
      report.delivered[direction]++;
    } else if (seq < want) report.duplicated++;
    else {
      report.reordered++;
      expected[direction] = seq + 1;
    }
  };

  let hostPeer = -1;
  let clientUp = false;
  const drain = (gm: Engine, direction: "toHost" | "toClient"): void => {
    gm.async_event_dispatch((load) => {
      const type = load.type as number;
      if (type === gm.network_type_disconnect || type === gm.network_type_down) {
        report.disconnects++;
        if (report.disconnectEvents.length < 5) report.disconnectEvents.push({ ...load, side: direction === "toHost" ? "host" : "client", drop: report.drops });
      }
      if (type === gm.network_type_connect) hostPeer = load.socket as number;
      if (type === gm.network_type_non_blocking_connect && load.succeeded === 1) clientUp = true;
      if (type === gm.network_type_data) {
        const buffer = load.buffer as number;
        if (load.id === udpOf(gm)) report.datagramsReceived++;
        else received(direction, gm.buffer_peek(buffer, 0, gm.buffer_u32) as number);
      }
    });
  };
  const udpSockets = new Map<Engine, number>();
  const udpOf = (gm: Engine): number => udpSockets.get(gm) ?? -2;

  try {
    const server = host.network_create_server(host.network_socket_tcp, PORT, 4);
    if (server < 0) throw new Error("the host could not listen");
    const hostIp = await waitFor(host, () => (host.network_get_config(host.network_config_virtual_ip) as string) || undefined);
    const socket = client.network_create_socket(client.network_socket_tcp);
    client.network_connect_async(socket, hostIp, PORT);
    await waitFor(client, () => (clientUp ? true : undefined), () => drain(client, "toClient"));
    await waitFor(host, () => (hostPeer >= 0 ? true : undefined), () => drain(host, "toHost"));
    if (options.datagrams) {
      for (const gm of [host, client]) {
        gm.network_set_config(gm.network_config_enable_webrtc, 0);
        udpSockets.set(gm, gm.network_create_socket_ext(gm.network_socket_udp, UDP_PORT));
      }
    }
    const clientIp = client.network_get_config(client.network_config_virtual_ip) as string;

    const packet = (gm: Engine, seq: number): number => {
      const buffer = gm.buffer_create(packetSize, gm.buffer_fixed, 1);
      gm.buffer_poke(buffer, 0, gm.buffer_u32, seq);
      return buffer;
    };
    const sendBoth = (): void => {
      const toHost = packet(client, report.sent.toHost + 1);
      if (client.network_send_packet(socket, toHost, packetSize) === packetSize) report.sent.toHost++;
      client.buffer_delete(toHost);
      const toClient = packet(host, report.sent.toClient + 1);
      if (host.network_send_packet(hostPeer, toClient, packetSize) === packetSize) report.sent.toClient++;
      host.buffer_delete(toClient);
      if (options.datagrams) {
        for (const [gm, peerIp] of [[client, hostIp], [host, clientIp]] as const) {
          const datagram = packet(gm, 0);
          if (gm.network_send_udp(udpOf(gm), peerIp, UDP_PORT, datagram, packetSize) > 0) report.datagramsSent++;
          gm.buffer_delete(datagram);
        }
      }
    };

    let resumesSeen = 0;
    let injectedAt = 0;
    const pump = async (ms: number): Promise<void> => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        sendBoth();
        drain(host, "toHost");
        drain(client, "toClient");
        const stats = client.network_get_stats(-1)!;
        if ((stats.resumes ?? 0) > resumesSeen) {
          resumesSeen = stats.resumes ?? 0;
          report.resumeMs.push(stats.last_resume_ms ?? NaN);
          report.recoveryMs.push(performance.now() - injectedAt);
        }
        await tick(intervalMs);
      }
    };

    for (let drop = 0; drop < options.drops; drop++) {
      await pump(gapMs);
      inject(options.proxy, options.faults[drop % options.faults.length]!);
      injectedAt = performance.now();
      report.drops++;
      // Keep the stream busy until the client has resumed (or given up and reported it).
      const before = resumesSeen;
      const deadline = performance.now() + 35_000;
      while (resumesSeen === before && report.disconnects === 0 && performance.now() < deadline) await pump(intervalMs);
      options.onProgress?.(drop + 1);
    }
    // Everything accepted must arrive: wait for both directions to catch up.
    const settleBy = performance.now() + (options.settleTimeoutMs ?? 10_000);
    while ((expected.toHost <= report.sent.toHost || expected.toClient <= report.sent.toClient) && performance.now() < settleBy) {
      drain(host, "toHost");
      drain(client, "toClient");
      await tick(5);
    }
    report.lost = report.sent.toHost - report.delivered.toHost + (report.sent.toClient - report.delivered.toClient);
    report.resumes = client.network_get_stats(-1)!.resumes ?? 0;
  } finally {
    report.elapsedMs = performance.now() - started;
    client.network_shutdown();
    host.network_shutdown();
  }
  return report;
}

function inject(proxy: FaultProxy, kind: FaultKind): void {
  if (kind === "reset") proxy.reset();
  else if (kind === "drop") proxy.drop();
  else if (kind === "stall") proxy.stall();
  else proxy.halfOpen(kind === "half-open-to-server" ? "to-server" : "to-client");
}

/** Steps the engine's events until `value` gives something (or 5 s pass). */
async function waitFor<T>(gm: Engine, value: () => T | undefined, step: () => void = () => gm.async_event_dispatch(() => {})): Promise<T> {
  const deadline = performance.now() + 5000;
  for (;;) {
    step();
    const found = value();
    if (found !== undefined) return found;
    if (performance.now() > deadline) throw new Error("timed out setting up the soak");
    await gm.async_event_wait(20);
  }
}
