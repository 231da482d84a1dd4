/**
 * The outbound GameMaker bridge (docs/GAMEMAKER.md "Browser client → native GameMaker server",
 * PROTOCOL.md §8.4): an engine sends VSOCKET BRIDGE_CONNECT {reqId, host, port, localPort}; if
 * host:port is on the allow list (outbound-allow.ts) the server dials it over TCP and opens an
 * ordinary virtual stream between the engine and an OutboundConnection — a server-side Session
 * like BridgedConnection, never in the Directory — so streams.ts relays ARBITRARY_DATA and
 * SOCKET_CLOSED as for any stream, and resume keeps working on the engine's side. Bytes pass
 * unchanged both ways: the engine does GameMaker's handshake itself, as a client.
 *
 * This file takes the requests, checks them and counts what is open; one connection's own life
 * (dial, relay, end) is in outbound-connection.ts.
 */
import type { Socket } from "node:net";
import { BridgeConnect, Channel, FailReason, Priority, ProtocolError, RequestFailed, VSocketType, parseIpv4 } from "@gmnet/protocol";
import { Counter, Gauge } from "prom-client";
import type { ServerContext } from "../server-context.js";
import { parseVirtualNetwork } from "../services/virtual-network.js";
import type { VirtualSocketService } from "../services/virtual-sockets.js";
import type { Session, SessionLifecycle } from "../session/session.js";
import { AllowList, canonicalHost, formatAllowEntry, parseAllowEntry } from "./outbound-allow.js";
import { OutboundConnection, type OutboundEndReason, type OutboundHost, type OutboundMetrics } from "./outbound-connection.js";

/** After shutdown, sockets that do not close are cut after this long. */
const SHUTDOWN_GRACE_MS = 2500;

export interface OutboundBridge extends SessionLifecycle {
  /** Outbound connections dialing or open now. */
  readonly size: number;
  /** Ends every outbound connection (engines hear SHUTDOWN). */
  close(): Promise<void>;
}

export function createOutboundBridge(context: ServerContext, virtualSockets: VirtualSocketService): OutboundBridge {
  const { config, router, logger } = context;
  const allow = new AllowList(config.gmBridgeAllow.map(parseAllowEntry));
  const network = parseVirtualNetwork(config.virtualNetwork);
  const registers = [context.metrics.registry];
  const metrics: OutboundMetrics = {
    open: new Gauge({ name: "gmnet_gm_bridge_outbound_connections", help: "Outbound GameMaker bridge connections dialing or open", registers }),
    total: new Counter({ name: "gmnet_gm_bridge_outbound_connections_total", help: "Outbound GameMaker bridge connections established, per destination", labelNames: ["destination"], registers }),
    refused: new Counter({ name: "gmnet_gm_bridge_outbound_refused_total", help: "Outbound GameMaker bridge requests that did not become a connection, by reason", labelNames: ["reason"], registers }),
    bytesIn: new Counter({ name: "gmnet_gm_bridge_outbound_bytes_in_total", help: "Bytes from native GameMaker servers to engines, per destination", labelNames: ["destination"], registers }),
    bytesOut: new Counter({ name: "gmnet_gm_bridge_outbound_bytes_out_total", help: "Bytes from engines to native GameMaker servers, per destination", labelNames: ["destination"], registers }),
  };
  const all = new Set<OutboundConnection>();
  const byRequester = new Map<Session, Set<OutboundConnection>>();
  let closing = false;

  const refuse = (session: Session, reqId: number, reason: number, label: OutboundEndReason, host: string, port: number): void => {
    metrics.refused.inc({ reason: label });
    logger.info({ session: session.id, appKey: session.appKey, destination: `${host}:${port}`, reason: label }, "gm bridge outbound: request refused");
    session.send(Channel.VSOCKET, VSocketType.REQUEST_FAILED, Priority.NORMAL, RequestFailed.encode({ reqId, reason }));
  };

  const host: OutboundHost = {
    metrics,
    allow,
    ended(connection, cause) {
      if (!all.delete(connection)) return;
      const mine = byRequester.get(connection.requester);
      mine?.delete(connection);
      if (mine?.size === 0) byRequester.delete(connection.requester);
      metrics.open.dec();
      // A stream still open ends as if a client had left (SHUTDOWN or PEER_GONE to the engine).
      virtualSockets.onSessionClose?.(connection, cause);
    },
  };

  router.on(Channel.VSOCKET, VSocketType.BRIDGE_CONNECT, (session, payload) => {
    const request = BridgeConnect.decode(payload);
    const type = VSocketType.BRIDGE_CONNECT;
    if (request.port === 0 || request.localPort === 0) {
      return session.sendError(ProtocolError.INVALID_PORT, Channel.VSOCKET, type, request.reqId, "ports are 1–65535; 0 names no socket");
    }
    const mine = byRequester.get(session)?.size ?? 0;
    if (mine >= config.gmBridgeOutboundMaxPerClient) {
      metrics.refused.inc({ reason: "limit" });
      return session.sendError(ProtocolError.TOO_MANY_STREAMS, Channel.VSOCKET, type, request.reqId, `at most ${config.gmBridgeOutboundMaxPerClient} outbound bridge connections per client`);
    }
    if (all.size >= config.gmBridgeOutboundMaxConnections || closing) {
      metrics.refused.inc({ reason: "limit" });
      return session.sendError(ProtocolError.TOO_MANY_STREAMS, Channel.VSOCKET, type, request.reqId, "the server's outbound bridge is at its connection limit");
    }
    if (virtualSockets.streams.count(session) >= config.maxStreamsPerSession) {
      metrics.refused.inc({ reason: "limit" });
      return session.sendError(ProtocolError.TOO_MANY_STREAMS, Channel.VSOCKET, type, request.reqId, `at most ${config.maxStreamsPerSession} open streams per connection`);
    }
    const canonical = canonicalHost(request.host);
    if (canonical === undefined) return refuse(session, request.reqId, FailReason.NOT_ALLOWED, "not-allowed", request.host, request.port);
    // An address of the virtual network names an engine, never a real host (outbound-allow.ts rule 4).
    const ip = canonical.family === 4 ? parseIpv4(canonical.host) : undefined;
    if (ip !== undefined && ip >= network.first - 1 && ip <= network.last + 1) {
      return refuse(session, request.reqId, FailReason.OFFLINE, "offline", canonical.host, request.port);
    }
    const entry = allow.match(canonical, request.port);
    if (entry === undefined) return refuse(session, request.reqId, FailReason.NOT_ALLOWED, "not-allowed", formatAllowEntry({ ...canonical, port: request.port }), request.port);
    const connection = new OutboundConnection(context, host, session, entry, request.reqId, request.localPort, virtualSockets);
    all.add(connection);
    let set = byRequester.get(session);
    if (set === undefined) byRequester.set(session, (set = new Set()));
    set.add(connection);
    metrics.open.inc();
    connection.start();
  });

  /** The engine left or moved: its dials end (a stream already open ends through streams.ts). */
  const requesterGone = (session: Session): void => {
    for (const connection of [...(byRequester.get(session) ?? [])]) connection.requesterGone();
  };

  return {
    get size() {
      return all.size;
    },
    onSessionClose: requesterGone,
    onSessionMove: requesterGone,
    async close() {
      closing = true;
      const sockets = [...all].map((connection) => connection.socket).filter((socket): socket is Socket => socket !== undefined);
      for (const connection of [...all]) connection.finish("shutdown");
      if (sockets.length === 0) return;
      const grace = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, SHUTDOWN_GRACE_MS);
      grace.unref();
    },
  };
}
