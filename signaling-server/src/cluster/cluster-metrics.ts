/**
 * The cluster's figures (PROTOCOL.md §15, "Observability"): `gmnet_cluster_*` in the server's
 * /metrics registry, and the same state for /healthz's `cluster` object. Registered only with
 * --redis, so a single node's /metrics is unchanged.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Metrics } from "../observability/metrics.js";
import type { BusType } from "./messages.js";

/** What /healthz shows of the cluster (the node still serves its own clients while Redis is down). */
export interface ClusterHealth {
  nodeId: number;
  redis: "up" | "down";
  /** The last PING round trip (ms), measured on every liveness round; undefined before the first. */
  redisRttMs: number | undefined;
  /** Addresses whose route this node owns. */
  routes: number;
  /** Milliseconds between an entry's append to this node's stream and its reading (the last one read). */
  inboundLagMs: number | undefined;
  /** Bus messages not yet acknowledged by Redis (buffered while it is unreachable, plus in flight). */
  outboundBytesWaiting: number;
}

export interface ClusterMetrics {
  /** An entry read from this node's stream, appended `lagMs` ago. */
  readLag(lagMs: number): void;
  sent(type: BusType): void;
  received(type: BusType): void;
  /** A bus write Redis refused or that failed (the message did not reach the other node). */
  writeFailed(type: BusType): void;
  /** A stream closed because the outbound buffer was full (or its write failed). */
  streamRefused(): void;
  roundTrip(ms: number): void;
  /** A durable-session script answered `ms` after it was issued (session-log.ts). */
  durableWritten(ms: number): void;
  /** What a durable-session write answered about one session: fenced, lost, gone or full. */
  durableRefused(reason: string): void;
}

export interface ClusterState {
  nodeId(): number;
  redisUp(): boolean;
  routes(): number;
  outboundBytesWaiting(): number;
  /** Durable sessions this node holds, and the bytes of their writes Redis has not answered (0 without --durable-sessions). */
  durableSessions(): number;
  durablePendingBytes(): number;
}

export function createClusterMetrics(metrics: Metrics, state: ClusterState): { metrics: ClusterMetrics; health(): ClusterHealth } {
  const registers = [metrics.registry];
  let lastRttMs: number | undefined;
  let lastLagMs: number | undefined;
  new Gauge({
    name: "gmnet_cluster_routes",
    help: "Virtual addresses whose route this node owns (its sessions)",
    registers,
    collect() {
      this.set(state.routes());
    },
  });
  new Gauge({
    name: "gmnet_cluster_redis_up",
    help: "1 while this node's Redis connection for writes is ready, else 0",
    registers,
    collect() {
      this.set(state.redisUp() ? 1 : 0);
    },
  });
  new Gauge({
    name: "gmnet_cluster_outbound_bytes_waiting",
    help: "Bytes of bus messages to other nodes not yet acknowledged by Redis (bounded by --redis-outbound-max-bytes)",
    registers,
    collect() {
      this.set(state.outboundBytesWaiting());
    },
  });
  new Gauge({
    name: "gmnet_cluster_durable_sessions",
    help: "Durable sessions (--durable-sessions) this node holds",
    registers,
    collect() {
      this.set(state.durableSessions());
    },
  });
  new Gauge({
    name: "gmnet_cluster_durable_pending_bytes",
    help: "Bytes of durable-session frames written to Redis and not yet answered (bounded by --redis-outbound-max-bytes)",
    registers,
    collect() {
      this.set(state.durablePendingBytes());
    },
  });
  const durableWrites = new Histogram({
    name: "gmnet_cluster_durable_write_seconds",
    help: "Durable-session scripts (one per event-loop turn with writes) from issue to answer: what a client's ACK and a logged frame wait for",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers,
  });
  const durableRefusals = new Counter({
    name: "gmnet_cluster_durable_refusals_total",
    help: "What durable-session writes answered about a session: fenced (another node took it over), lost (its record is gone), gone (an append to an ended session), full (past a byte bound)",
    labelNames: ["reason"],
    registers,
  });
  const rttGauge = new Gauge({ name: "gmnet_cluster_redis_rtt_seconds", help: "The last Redis PING round trip, measured on every liveness round", registers });
  const rtt = new Histogram({
    name: "gmnet_cluster_redis_rtt_histogram_seconds",
    help: "Redis PING round trips, one per liveness round",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });
  const lag = new Histogram({
    name: "gmnet_cluster_stream_lag_seconds",
    help: "Time from an entry's append to this node's stream (its id's milliseconds, Redis' clock) until this node read it",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const sent = byType("gmnet_cluster_bus_sent_total", "Bus messages this node wrote to other nodes' streams (acknowledged by Redis), by type", registers);
  const received = byType("gmnet_cluster_bus_received_total", "Bus messages read from this node's stream, by type", registers);
  const failed = new Counter({
    name: "gmnet_cluster_bus_write_failures_total",
    help: "Bus messages that could not be written: refused past --redis-outbound-max-bytes, or failed in Redis; by type",
    labelNames: ["type"],
    registers,
  });
  const refused = new Counter({
    name: "gmnet_cluster_streams_refused_total",
    help: "Virtual-socket streams closed (PEER_GONE) because their data could not be carried to the other node",
    registers,
  });
  return {
    metrics: {
      readLag(ms) {
        lastLagMs = ms;
        // A Redis clock a little ahead of this node's reads as a negative lag: counted as none.
        lag.observe(Math.max(0, ms) / 1000);
      },
      sent,
      received,
      writeFailed: (type) => failed.inc({ type }),
      streamRefused: () => refused.inc(),
      durableWritten: (ms) => durableWrites.observe(ms / 1000),
      durableRefused: (reason) => durableRefusals.inc({ reason }),
      roundTrip(ms) {
        lastRttMs = ms;
        rttGauge.set(ms / 1000);
        rtt.observe(ms / 1000);
      },
    },
    health: () => ({
      nodeId: state.nodeId(),
      redis: state.redisUp() ? "up" : "down",
      redisRttMs: lastRttMs === undefined ? undefined : Math.round(lastRttMs * 1000) / 1000,
      routes: state.routes(),
      inboundLagMs: lastLagMs,
      outboundBytesWaiting: state.outboundBytesWaiting(),
    }),
  };
}

/**
 * A counter by message type bumped once per bus message: plain numbers there, handed to
 * prom-client only when /metrics is read (as metrics.ts' fastCounter, whose inc() costs more than a frame).
 */
function byType(name: string, help: string, registers: Registry[]): (type: BusType) => void {
  const counts = new Map<BusType, number>();
  const reported = new Map<BusType, number>();
  new Counter({
    name,
    help,
    labelNames: ["type"],
    registers,
    collect() {
      for (const [type, value] of counts) {
        this.inc({ type }, value - (reported.get(type) ?? 0));
        reported.set(type, value);
      }
    },
  });
  return (type) => counts.set(type, (counts.get(type) ?? 0) + 1);
}
