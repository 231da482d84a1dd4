/**
 * UDP ping-pong between two pages, driven entirely by events inside the pages: the pinger sends
 * one datagram, waits (async_event_wait, through the page's event log) for its echo, and only
 * then sends the next; the echoer answers every datagram it receives. No timers pace anything,
 * and every wait has a deadline.
 */
import type { NetworkStats } from "@gmnet/engine";
import type { Peer, RecordedEvent } from "./network.js";
import { EVENT_TIMEOUT_MS, onlineIp } from "./network.js";

/** The datagram that ends a ping-pong (echoed like any other). */
export const BYE = "bye";

export interface EchoResult {
  /** Every data event the echoer got, in order (buffer bytes as hex and the string read from them). */
  received: RecordedEvent[];
  /** network_send_udp's return value for each echo. */
  echoSent: number[];
  stats: NetworkStats;
}

export interface PingResult {
  /** Pings sent (not counting the final bye). */
  rounds: number;
  /** The round whose echo first made the stop condition true, -1 if it never did. */
  stoppedAtRound: number;
  /** ms from the first ping until the stop condition was met (-1 if never). */
  elapsedMs: number;
  /** The data events of every echo, in order. */
  echoes: RecordedEvent[];
  /** network_send_udp's return value for each ping, and for the bye last. */
  sent: number[];
  stats: NetworkStats;
}

export interface PingOptions {
  /** The pinger's UDP socket. */
  socket: number;
  /** Where the echoer listens. */
  ip: string;
  port: number;
  /** Stop once both p2p_packets_sent and p2p_packets_received of the pinger's socket are above 0 (after minRounds). */
  untilP2p: boolean;
  /** Rounds to play at least. */
  minRounds: number;
  /** Keep playing for at least this long (ms, from the first ping), also after the stop condition is met. */
  minMs?: number;
  /** Stop starting new rounds after this long (ms): with untilP2p, running out of time fails the test. */
  maxMs: number;
}

/** Runs in the echoer's page: answers every datagram on `socket` with "echo: <text>" until it has answered BYE. */
async function echoInPage({ socket, bye, timeoutMs }: { socket: number; bye: string; timeoutMs: number }): Promise<EchoResult> {
  const gm = globalThis.gmnet;
  const log = globalThis.gmnetE2e;
  if (log === undefined) throw new Error("the e2e event log is not installed");
  const received: RecordedEvent[] = [];
  const echoSent: number[] = [];
  const buffer = gm.buffer_create(64, gm.buffer_grow, 1);
  try {
    for (;;) {
      const event = await log.next({ type: gm.network_type_data, id: socket }, timeoutMs);
      received.push(event);
      gm.buffer_seek(buffer, gm.buffer_seek_start, 0);
      gm.buffer_write(buffer, gm.buffer_string, `echo: ${String(event.text)}`);
      echoSent.push(gm.network_send_udp(socket, String(event.ip), Number(event.port), buffer, gm.buffer_tell(buffer)));
      if (event.text === bye) break;
    }
  } finally {
    gm.buffer_delete(buffer);
  }
  return { received, echoSent, stats: gm.network_get_stats(socket) as NetworkStats };
}

/** Runs in the pinger's page: "ping <n>" and wait for its echo, round after round, then BYE. */
async function pingInPage({ options, bye, timeoutMs }: { options: PingOptions; bye: string; timeoutMs: number }): Promise<PingResult> {
  const gm = globalThis.gmnet;
  const log = globalThis.gmnetE2e;
  if (log === undefined) throw new Error("the e2e event log is not installed");
  const { socket, ip, port } = options;
  const echoes: RecordedEvent[] = [];
  const sent: number[] = [];
  const buffer = gm.buffer_create(64, gm.buffer_grow, 1);
  const send = (text: string): void => {
    gm.buffer_seek(buffer, gm.buffer_seek_start, 0);
    gm.buffer_write(buffer, gm.buffer_string, text);
    sent.push(gm.network_send_udp(socket, ip, port, buffer, gm.buffer_tell(buffer)));
  };
  const echoOf = async (text: string): Promise<void> => {
    const echo = await log.next({ type: gm.network_type_data, id: socket }, timeoutMs);
    echoes.push(echo);
    if (echo.text !== `echo: ${text}`) throw new Error(`sent ${JSON.stringify(text)}, the next datagram back was ${JSON.stringify(echo.text)}`);
  };
  let rounds = 0;
  let stoppedAtRound = -1;
  let elapsedMs = -1;
  const start = performance.now();
  try {
    while (performance.now() - start < options.maxMs) {
      const text = `ping ${rounds}`;
      send(text);
      rounds++;
      try {
        await echoOf(text);
      } catch (error) {
        throw new Error(`round ${rounds - 1}: ${String(error)}; stats: ${JSON.stringify(gm.network_get_stats(socket))}`, { cause: error });
      }
      const stats = gm.network_get_stats(socket) as NetworkStats;
      const p2p = stats.p2p_packets_sent > 0 && stats.p2p_packets_received > 0;
      elapsedMs = performance.now() - start;
      if (rounds >= options.minRounds && elapsedMs >= (options.minMs ?? 0) && (!options.untilP2p || p2p)) {
        stoppedAtRound = rounds - 1;
        break;
      }
    }
    if (stoppedAtRound < 0) elapsedMs = -1;
    send(bye);
    await echoOf(bye);
  } finally {
    gm.buffer_delete(buffer);
  }
  return { rounds, stoppedAtRound, elapsedMs, echoes, sent, stats: gm.network_get_stats(socket) as NetworkStats };
}

/** Plays a ping-pong between two pages at once; both sides' results once the pinger's BYE came back. */
export async function pingPong(echoer: { peer: Peer; socket: number }, pinger: { peer: Peer } & PingOptions): Promise<{ echo: EchoResult; ping: PingResult }> {
  const { peer, ...options } = pinger;
  const [echo, ping] = await Promise.all([
    echoer.peer.page.evaluate(echoInPage, { socket: echoer.socket, bye: BYE, timeoutMs: EVENT_TIMEOUT_MS }),
    peer.page.evaluate(pingInPage, { options, bye: BYE, timeoutMs: EVENT_TIMEOUT_MS }),
  ]);
  return { echo, ping };
}

/** Creates a UDP socket bound to `port` in the page and waits for the engine to be online; returns the socket and the page's virtual IP. */
export async function createUdpSocket(peer: Peer, port: number): Promise<{ socket: number; ip: string }> {
  const socket = await peer.page.evaluate((port) => globalThis.gmnet.network_create_socket_ext(globalThis.gmnet.network_socket_udp, port), port);
  if (socket < 0) throw new Error(`${peer.name}: network_create_socket_ext(udp, ${port}) returned ${socket}`);
  return { socket, ip: await onlineIp(peer) };
}
