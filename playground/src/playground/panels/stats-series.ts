/**
 * The numbers behind the stats plots, with no DOM: snapshots of network_get_stats(-1) taken about
 * once a second become a sliding window (default 60 s) of RTT, bytes per second sent and received,
 * and datagrams per second by path (peer to peer or through the relay, sent + received).
 *
 * Rates come from the difference between two snapshots divided by the real time between them, so
 * a late or missed sample does not distort them. A counter that goes backwards (the engine was
 * replaced or its counters reset) gives no rate for that sample rather than a negative one.
 * RTT -1 (unknown) becomes null: a gap in the plot, not a dip to -1.
 */

/** The counters the series reads: a subset of the engine's NetworkStats. */
export interface StatsCounters {
  readonly bytes_sent: number;
  readonly bytes_received: number;
  readonly p2p_packets_sent: number;
  readonly relay_packets_sent: number;
  readonly p2p_packets_received: number;
  readonly relay_packets_received: number;
  /** ms, -1 while unknown. */
  readonly rtt: number;
}

/** Rates between two snapshots, per second. */
export interface StatsRates {
  readonly bytesSentPerSecond: number;
  readonly bytesReceivedPerSecond: number;
  /** p2p_packets_sent + p2p_packets_received, per second. */
  readonly p2pPacketsPerSecond: number;
  /** relay_packets_sent + relay_packets_received, per second. */
  readonly relayPacketsPerSecond: number;
}

/** One point of the series; the rates are null for the first sample and after a counter reset. */
export interface StatsPoint {
  /** When the snapshot was taken, in ms (the clock passed to push). */
  readonly time: number;
  /** ms, or null while unknown. */
  readonly rtt: number | null;
  readonly bytesSentPerSecond: number | null;
  readonly bytesReceivedPerSecond: number | null;
  readonly p2pPacketsPerSecond: number | null;
  readonly relayPacketsPerSecond: number | null;
}

/** The window as columns, the shape uPlot's data takes (x first); times in seconds. */
export interface StatsColumns {
  readonly time: number[];
  readonly rtt: (number | null)[];
  readonly bytesSentPerSecond: (number | null)[];
  readonly bytesReceivedPerSecond: (number | null)[];
  readonly p2pPacketsPerSecond: (number | null)[];
  readonly relayPacketsPerSecond: (number | null)[];
}

/** RTT in ms, or null for the engine's -1 (unknown) and anything that is not a finite, non-negative number. */
export function rttValue(rtt: number): number | null {
  return Number.isFinite(rtt) && rtt >= 0 ? rtt : null;
}

/**
 * Per-second rates from `previous` to `next`, `elapsedMs` apart; undefined when they cannot be
 * told (no time passed, or a counter went backwards).
 */
export function computeRates(previous: StatsCounters, next: StatsCounters, elapsedMs: number): StatsRates | undefined {
  if (!(elapsedMs > 0)) return undefined;
  const deltas = [
    next.bytes_sent - previous.bytes_sent,
    next.bytes_received - previous.bytes_received,
    next.p2p_packets_sent + next.p2p_packets_received - (previous.p2p_packets_sent + previous.p2p_packets_received),
    next.relay_packets_sent + next.relay_packets_received - (previous.relay_packets_sent + previous.relay_packets_received),
  ];
  if (deltas.some((delta) => !Number.isFinite(delta) || delta < 0)) return undefined;
  const perSecond = deltas.map((delta) => (delta * 1000) / elapsedMs) as [number, number, number, number];
  return {
    bytesSentPerSecond: perSecond[0],
    bytesReceivedPerSecond: perSecond[1],
    p2pPacketsPerSecond: perSecond[2],
    relayPacketsPerSecond: perSecond[3],
  };
}

export class StatsSeries {
  private readonly points: StatsPoint[] = [];
  private previous: { time: number; counters: StatsCounters } | undefined;

  /** `windowMs`: how far back the series reaches (points older than the newest minus this are dropped). */
  constructor(readonly windowMs = 60_000) {}

  /** Adds a snapshot taken at `time` (ms); returns the point it made. A time earlier than the last one starts the rates afresh. */
  push(time: number, counters: StatsCounters): StatsPoint {
    const previous = this.previous;
    if (previous !== undefined && time < previous.time) this.points.length = 0;
    const rates = previous === undefined || time < previous.time ? undefined : computeRates(previous.counters, counters, time - previous.time);
    const point: StatsPoint = {
      time,
      rtt: rttValue(counters.rtt),
      bytesSentPerSecond: rates?.bytesSentPerSecond ?? null,
      bytesReceivedPerSecond: rates?.bytesReceivedPerSecond ?? null,
      p2pPacketsPerSecond: rates?.p2pPacketsPerSecond ?? null,
      relayPacketsPerSecond: rates?.relayPacketsPerSecond ?? null,
    };
    this.previous = { time, counters: { ...counters } };
    this.points.push(point);
    const oldest = time - this.windowMs;
    let drop = 0;
    while (drop < this.points.length && this.points[drop]!.time < oldest) drop++;
    if (drop > 0) this.points.splice(0, drop);
    return point;
  }

  /** The points in the window, oldest first. */
  get samples(): readonly StatsPoint[] {
    return this.points;
  }

  /** The newest point, if any. */
  get latest(): StatsPoint | undefined {
    return this.points[this.points.length - 1];
  }

  /** The window as columns, times in seconds (uPlot's time axis unit). */
  columns(): StatsColumns {
    return {
      time: this.points.map((point) => point.time / 1000),
      rtt: this.points.map((point) => point.rtt),
      bytesSentPerSecond: this.points.map((point) => point.bytesSentPerSecond),
      bytesReceivedPerSecond: this.points.map((point) => point.bytesReceivedPerSecond),
      p2pPacketsPerSecond: this.points.map((point) => point.p2pPacketsPerSecond),
      relayPacketsPerSecond: this.points.map((point) => point.relayPacketsPerSecond),
    };
  }

  clear(): void {
    this.points.length = 0;
    this.previous = undefined;
  }
}
