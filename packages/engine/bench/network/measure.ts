/**
 * The measurements of one configuration (network.bench.ts): sequential round trips for the RTT,
 * then echo throughput with a window of messages in flight, for every payload size.
 */
import { type EchoPath, now } from "./echo-path.js";
import { percentile } from "./figures.js";
import { type Config, LOSS_TIMEOUT_MS, type Options } from "./options.js";
import { type Environment, setup } from "./setups.js";

/** Message numbers are unique over the whole run, so a late echo is never taken for another. */
export let nextSeq = 1;

export interface Latency {
  /** Round-trip times in ms. */
  samples: number[];
  lost: number;
}

/** Sequential ping-pongs: one message out, wait for its echo, the next. */
export async function measureLatency(path: EchoPath, options: Options): Promise<Latency> {
  const size = 64;
  const samples: number[] = [];
  let lost = 0;
  const until = now() + options.latencyTimeMs;
  for (let i = 0; i < options.pings && (i === 0 || now() < until); i++) {
    const seq = nextSeq++;
    let echoed = false;
    const sentAt = now();
    path.send(seq, size);
    for (;;) {
      const left = sentAt + LOSS_TIMEOUT_MS - now();
      if (left <= 0) break;
      await path.receive(left, (echo) => {
        if (echo === seq) echoed = true;
      });
      if (echoed) break;
    }
    if (echoed) samples.push(now() - sentAt);
    else lost++;
  }
  return { samples, lost };
}

export interface Throughput {
  /** Echoes received per second during the measured time. */
  messagesPerSecond: number;
  /** Messages sent in the phase (warm-up included) and how many of them never came back. */
  sent: number;
  lost: number;
}

/**
 * `window` messages in flight: every echo sends the next message. A message not echoed within
 * LOSS_TIMEOUT_MS counts as lost and frees its slot. Rate = echoes after the first arrival past
 * the warm-up, up to the first arrival past the duration, over the time between those arrivals.
 */
export async function measureThroughput(path: EchoPath, size: number, options: Options): Promise<Throughput> {
  const outstanding = new Map<number, number>(); // seq → send time, in send order
  let sending = true;
  let sent = 0;
  let lost = 0;
  let delivered = 0;
  const sendOne = (): void => {
    const seq = nextSeq++;
    outstanding.set(seq, now());
    sent++;
    path.send(seq, size);
  };
  const onEcho = (seq: number): void => {
    if (!outstanding.delete(seq)) return; // a late echo of an earlier measurement
    delivered++;
    if (sending) sendOne();
  };
  const expire = (time: number): void => {
    for (const [seq, sentAt] of outstanding) {
      if (time - sentAt < LOSS_TIMEOUT_MS) break;
      outstanding.delete(seq);
      lost++;
      if (sending) sendOne();
    }
  };

  const started = now();
  for (let i = 0; i < options.window; i++) sendOne();
  let t0 = -1;
  let t1 = -1;
  let counted = 0;
  while (t1 < 0) {
    await path.receive(100, onEcho);
    const time = now();
    if (t0 < 0) {
      if (time - started >= options.warmupMs) {
        t0 = time;
        delivered = 0;
      }
    } else if (time - t0 >= options.durationMs) {
      t1 = time;
      counted = delivered;
      sending = false;
    }
    expire(time);
  }
  // Let what is still in flight come back (or time out) before the next measurement.
  while (outstanding.size > 0 && now() - t1 < LOSS_TIMEOUT_MS + 100) {
    await path.receive(50, onEcho);
    expire(now());
  }
  lost += outstanding.size;
  return { messagesPerSecond: counted / ((t1 - t0) / 1000), sent, lost };
}

export interface Measurement {
  rttMedian: number;
  rttP99: number;
  pings: number;
  pingsLost: number;
  /** By payload size. */
  throughput: Map<number, Throughput>;
  offPath: number;
}

export async function measure(env: Environment, config: Config, options: Options): Promise<Measurement> {
  const { path, close } = await setup(env, config);
  try {
    path.offPath = 0;
    const latency = await measureLatency(path, options);
    const throughput = new Map<number, Throughput>();
    const window = Math.min(options.window, config.maxWindow ?? options.window);
    for (const size of options.sizes) throughput.set(size, await measureThroughput(path, size, { ...options, window }));
    if (latency.samples.length === 0) throw new Error(`${config.label}: every ping was lost`);
    return {
      rttMedian: percentile(latency.samples, 0.5),
      rttP99: percentile(latency.samples, 0.99),
      pings: latency.samples.length + latency.lost,
      pingsLost: latency.lost,
      throughput,
      offPath: path.offPath,
    };
  } finally {
    await close();
  }
}
