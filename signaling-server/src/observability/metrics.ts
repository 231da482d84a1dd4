/** Prometheus metrics, in a registry per server instance so several servers can run in one process (tests). */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

/** What the hot path needs of a counter. */
export interface FastCounter {
  inc(amount?: number): void;
}

export function createMetrics(options: { defaultMetrics: boolean }) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers: [registry] });
  /**
   * A counter bumped for every frame or message: a plain number there, handed to prom-client only
   * when /metrics is read (its own inc() costs more than the frame it counts).
   */
  const fastCounter = (name: string, help: string): FastCounter => {
    let value = 0;
    let reported = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.inc(value - reported);
        reported = value;
      },
    });
    return {
      inc(amount = 1) {
        value += amount;
      },
    };
  };
  return {
    registry,
    connections: new Gauge({ name: "gmnet_connections", help: "Open WebSocket connections (authenticated or not)", registers: [registry] }),
    framesReceived: fastCounter("gmnet_frames_received_total", "Frames received from clients"),
    framesSent: fastCounter("gmnet_frames_sent_total", "Frames sent to clients"),
    bytesReceived: fastCounter("gmnet_bytes_received_total", "WebSocket payload bytes received"),
    bytesSent: fastCounter("gmnet_bytes_sent_total", "WebSocket payload bytes sent"),
    messagesSent: fastCounter("gmnet_messages_sent_total", "WebSocket messages sent (each a batch of frames)"),
    drops: counter("gmnet_dropped_frames_total", "Frames dropped instead of sent, by reason", ["reason"]),
    disconnects: counter("gmnet_disconnects_total", "Connections ended, by cause", ["cause"]),
    protocolErrors: counter("gmnet_protocol_errors_total", "ERROR frames sent, by protocol error code", ["code"]),
    throttled: counter("gmnet_throttled_total", "Times reading from a client paused because it sent more than rateLimitBytes"),
    sessionsDetached: new Gauge({ name: "gmnet_sessions_detached", help: "Sessions whose connection dropped, waiting for a RESUME", registers: [registry] }),
    sessionsEnded: counter("gmnet_sessions_ended_total", "Sessions ended, by cause", ["cause"]),
    resumes: counter("gmnet_resumes_total", "RESUME attempts, by result (resumed, refused)", ["result"]),
    streamsNotRecovered: counter("gmnet_streams_not_recovered_total", "Streams ended because a detached end passed replayBytesPerStream"),
    gmBridgeConnections: new Gauge({ name: "gmnet_gm_bridge_connections", help: "Open connections on each GameMaker bridge", labelNames: ["bridge"], registers: [registry] }),
    gmBridgeConnectionsTotal: counter("gmnet_gm_bridge_connections_total", "Connections accepted by each GameMaker bridge", ["bridge"]),
    gmBridgeRefused: counter("gmnet_gm_bridge_refused_total", "GameMaker bridge connections closed before the target accepted, by reason", ["bridge", "reason"]),
    gmBridgeBytesIn: counter("gmnet_gm_bridge_bytes_in_total", "Bytes from native GameMaker clients to their tabs, per bridge", ["bridge"]),
    gmBridgeBytesOut: counter("gmnet_gm_bridge_bytes_out_total", "Bytes from tabs to native GameMaker clients, per bridge", ["bridge"]),
    mcpCalls: counter("gmnet_mcp_calls_total", "MCP tool calls, by outcome (answered, tool-error, invalid-arguments, unknown-tool, timeout, engine-gone, cancelled, busy)", ["outcome"]),
    mcpRequestsRefused: counter("gmnet_mcp_requests_refused_total", "Requests to /mcp refused before the MCP layer, by reason (token, origin, session, limit, cluster, error)", ["reason"]),
    storageFailures: counter("gmnet_storage_failures_total", "Storage (database) calls that failed outside a master request, by what needed them (hello, hello-token, token-sweep)", ["op"]),
    masterRequests: counter("gmnet_master_requests_total", "Master requests answered, by transport, operation and status", ["via", "op", "status"]),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
