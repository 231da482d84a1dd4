/**
 * The cluster benchmark's two measurements (cluster.bench.ts runs them):
 *
 * - load: the relay benchmark's pairs (relay/pairs.ts: a virtual-socket connect, then each sender
 *   keeps `window` ARBITRARY_DATA messages in flight to its receiver), placed on given servers, and
 *   the CPU time of every process involved (nodes, redis-server, this client process) over the
 *   measured time;
 * - rtt: one client pings another over a virtual stream (ARBITRARY_DATA there, echoed back on the
 *   same connId), one round trip at a time, with nothing else running.
 */
import { Channel, VSocketType } from "@gmnet/protocol";
import type { RelayOptions } from "./relay/config.js";
import { GmnetClient } from "./relay/gmnet-client.js";
import { type Pair, checkRawFrames, connectVirtualSocket, counterOf, gmnetPair, rawFrame } from "./relay/pairs.js";
import { startPumping, stopPumping, verifiedDeliveries } from "./relay/pumping.js";

/** A process whose CPU time the measurement reads at its start and end. */
export interface CpuSource {
  readonly name: string;
  /** User + system CPU time so far in microseconds (NaN: unknown). */
  micros(): Promise<number>;
}

/** Where one pair's sender and receiver connect (WebSocket URLs of servers). */
export interface Placement {
  readonly sender: string;
  readonly receiver: string;
}

export interface LoadMeasurement {
  readonly delivered: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  /** CPU time over wall time of every source, by name (1.0 = one core busy). */
  readonly load: ReadonlyMap<string, number>;
  /** CPU microseconds per delivered message of every source, by name. */
  readonly cpuPerMessageUs: ReadonlyMap<string, number>;
  /** This (client) process's CPU time over wall time. */
  readonly clientLoad: number;
}

export type LoadOptions = Pick<RelayOptions, "pairs" | "window" | "size" | "warmupMs" | "durationMs" | "session" | "sender">;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Saturates `placements.length` pairs for warmupMs, then measures durationMs; every message is checked in order. */
export async function measureLoad(label: string, placements: readonly Placement[], sources: readonly CpuSource[], options: LoadOptions): Promise<LoadMeasurement> {
  checkRawFrames(options.size);
  const relayOptions: RelayOptions = { ...options, relay: "vsocket" };
  const pairs: Pair[] = [];
  try {
    for (const [index, { sender, receiver }] of placements.entries()) pairs.push(await gmnetPair(sender, index, relayOptions, "ARBITRARY_DATA", receiver));
    startPumping(pairs, options.window);
    await sleep(options.warmupMs);

    const snapshot = async () => {
      // Everything is read at once: the children answer over IPC a little later, at the start and the end alike.
      const [at, client, delivered] = [performance.now(), process.cpuUsage(), pairs.reduce((sum, pair) => sum + pair.received, 0)];
      const cpu = await Promise.all(sources.map((source) => source.micros()));
      return { at, cpu, client: client.user + client.system, delivered };
    };
    const start = await snapshot();
    await sleep(options.durationMs);
    const end = await snapshot();
    stopPumping();

    const delivered = verifiedDeliveries(pairs, label, start.delivered, end.delivered);
    const seconds = (end.at - start.at) / 1000;
    const load = new Map<string, number>();
    const cpuPerMessageUs = new Map<string, number>();
    sources.forEach((source, i) => {
      const micros = end.cpu[i]! - start.cpu[i]!;
      load.set(source.name, micros / 1e6 / seconds);
      cpuPerMessageUs.set(source.name, micros / delivered);
    });
    return { delivered, seconds, messagesPerSecond: delivered / seconds, load, cpuPerMessageUs, clientLoad: (end.client - start.client) / 1e6 / seconds };
  } finally {
    stopPumping();
    for (const pair of pairs) pair.close();
  }
}

/** How long one ping may take before the measurement fails (a lost frame, not a slow one). */
const PING_TIMEOUT_MS = 3000;

/**
 * Sequential round trips over a virtual stream from a client on `placement.sender` to one on
 * `placement.receiver` that echoes each message: up to `pings` of them, fewer when they take
 * longer than `timeMs` in all. Returns the round-trip times in milliseconds.
 */
export async function measureRtt(placement: Placement, options: Pick<RelayOptions, "size" | "session">, pings: number, timeMs: number): Promise<number[]> {
  const a = new GmnetClient(placement.sender, options.session);
  const b = new GmnetClient(placement.receiver, options.session);
  try {
    await Promise.all([a.hello(), b.hello()]);
    if (placement.receiver !== placement.sender) await b.barrier();
    const connId = await connectVirtualSocket(a, b, 39998);
    for (const client of [a, b]) [client.dataChannel, client.dataType] = [Channel.VSOCKET, VSocketType.ARBITRARY_DATA];
    let echoSeq = 0;
    // ARBITRARY_DATA's payload: connId, seq, then the data, whose first 4 bytes are the ping's number.
    b.onData = (frame) => b.ws.send(rawFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, [connId, ++echoSeq], options.size, counterOf(frame.payload.subarray(8))));
    let waiting: ((counter: number) => void) | undefined;
    a.onData = (frame) => waiting?.(counterOf(frame.payload.subarray(8)));

    const samples: number[] = [];
    const started = performance.now();
    for (let ping = 1; ping <= pings && performance.now() - started < timeMs; ping++) {
      const sentAt = performance.now();
      const echoed = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`ping ${ping} over the virtual stream got no echo within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
        waiting = (counter) => {
          clearTimeout(timer);
          resolve(counter);
        };
      });
      a.ws.send(rawFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, [connId, ping], options.size, ping));
      const counter = await echoed;
      if (counter !== ping) throw new Error(`ping ${ping}: the echo carried ${counter}`);
      samples.push(performance.now() - sentAt);
    }
    a.check("pinging client");
    b.check("echoing client");
    return samples;
  } finally {
    a.close();
    b.close();
  }
}
