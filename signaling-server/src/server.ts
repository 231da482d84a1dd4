/**
 * The composition root: builds every part of the server from one config and wires them through
 * one ServerContext. `createServer({ port: 0 })` is what tests and embedders call; the CLI
 * (cli.ts) adds flags, env and signals around it.
 */
import { readFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { hostname } from "node:os";
import type { Duplex } from "node:stream";
import { Channel, CloseCode, ControlType, Drain, PROTOCOL_VERSION, Priority, encodeFrame } from "@gmnet/protocol";
import { Gauge } from "prom-client";
import { WebSocketServer } from "ws";
import { type GmBridgeInfo, createGmBridges } from "./bridge/gm-bridge.js";
import { createCluster } from "./cluster/cluster.js";
import { createOutboundBridge } from "./bridge/outbound.js";
import { type ServerConfig, defaultConfig, parseMcpToken, validateConfig } from "./config.js";
import { MCP_PATH, createMcpEndpoint } from "./mcp/mcp-endpoint.js";
import { createMcpTools } from "./mcp/mcp-tools.js";
import { type McpListeners, createClusterShare, createClusterToolDirectory, createLocalToolDirectory } from "./mcp/tool-directory.js";
import { type Logger, createLogger } from "./observability/logger.js";
import { type Metrics, createMetrics } from "./observability/metrics.js";
import { Router } from "./router.js";
import type { ServerClock, ServerContext } from "./server-context.js";
import { createMasterService } from "./master/master-service.js";
import { createControlService } from "./services/control.js";
import { Directory } from "./services/directory.js";
import { createSignalingService } from "./services/signaling.js";
import { parseVirtualNetwork } from "./services/virtual-network.js";
import { createVirtualSocketService } from "./services/virtual-sockets.js";
import { clientAddress } from "./session/client-address.js";
import type { ClientSession } from "./session/client-session.js";
import { Connection } from "./session/connection.js";
import { FlushScheduler } from "./session/flush-scheduler.js";
import type { SessionLifecycle } from "./session/session.js";
import { createStaticFiles } from "./static-files.js";
import { openStorage, storageWhenOpen } from "./storage/open-storage.js";

export interface ServerOptions extends Partial<ServerConfig> {
  clock?: ServerClock;
  random?: () => number;
  logger?: Logger;
}

export interface GmnetServer {
  /** Resolves once the storage is open (its migrations applied) and the server listens; rejects if either fails. */
  readonly ready: Promise<void>;
  address(): { host: string; port: number; url: string; wsUrl: string };
  /** The GameMaker bridges (--gm-bridge) with their real ports and virtual IPs, once ready. */
  gmBridges(): GmBridgeInfo[];
  /** Stops accepting, tells clients to reconnect (DRAIN), closes them, then stops. */
  close(): Promise<void>;
  readonly config: ServerConfig;
}

const systemClock: ServerClock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export function createServer(options: ServerOptions = {}): GmnetServer {
  const { clock = systemClock, random = Math.random, logger: givenLogger, ...overrides } = options;
  const config = validateConfig({ ...defaultConfig, ...overrides });
  const baseLogger = givenLogger ?? createLogger(config.logLevel);
  // A clustered node's every line names it: a child of its own (a given logger may be shared by
  // several servers in one process), whose binding is set once a random node id is known.
  const logger = config.redis === undefined ? baseLogger : baseLogger.child(config.nodeId === undefined ? {} : { node: config.nodeId });
  const metrics = createMetrics({ defaultMetrics: true });
  // PostgreSQL when --database is set, else SQLite at --db; nothing listens before it is open.
  const opening = openStorage({
    db: config.db,
    database: config.database,
    network: parseVirtualNetwork(config.virtualNetwork),
    random,
    onError: (error) => logger.warn({ err: error }, "storage: an idle database connection failed"),
  });
  const storage = storageWhenOpen(opening, config.database === undefined ? "sqlite" : "postgres");
  const services: SessionLifecycle[] = [];
  const connections = new Set<Connection>();
  const sessions = new Map<string, ClientSession>();
  const flushes = new FlushScheduler(config, clock);
  const startedAt = clock.now();
  const rememberReplayPeak = registerReplayGauges(metrics, sessions);

  const context: ServerContext = {
    config,
    clock,
    random,
    logger,
    metrics,
    router: new Router(),
    directory: new Directory(),
    storage,
    flushes,
    sessions,
    sessionOpened: (session) => {
      logger.debug({ session: session.id, appKey: session.appKey, ip: session.virtualIp }, "session open");
      sessions.set(session.id, session);
      const pending: Array<Promise<void>> = [];
      for (const service of services) {
        const opening = service.onSessionOpen?.(session);
        if (opening !== undefined) pending.push(opening);
      }
      return pending.length === 0 ? undefined : Promise.all(pending).then(() => undefined);
    },
    sessionClosed: (session, cause) => {
      logger.debug({ session: session.id, cause }, "session closed");
      sessions.delete(session.id);
      rememberReplayPeak(session);
      for (const service of services) service.onSessionClose?.(session, cause);
    },
    sessionMoving: (session) => {
      logger.debug({ session: session.id, ip: session.virtualIp }, "session moving to another address");
      for (const service of services) service.onSessionMove?.(session);
    },
    sessionResumed: (session) => {
      logger.debug({ session: session.id }, "session resumed");
      for (const service of services) service.onSessionResume?.(session);
    },
    sessionMovedIn: (session, taken) => {
      logger.debug({ session: session.id, from: taken.previousNode }, "durable session taken over from another node");
      sessions.set(session.id, session);
      for (const service of services) service.onSessionMovedIn?.(session, taken);
    },
    get sessionLog() {
      return cluster?.sessionLog;
    },
  };
  // Only with --redis: without it, nothing of the cluster exists and every lookup stays local.
  const cluster = config.redis === undefined ? undefined : createCluster({ config, logger, random, metrics });
  // With a cluster the master services run on the elected master home; the other nodes forward to it.
  const master = createMasterService(context, cluster);
  const virtualSockets = createVirtualSocketService(context, cluster);
  // The outbound bridge (BRIDGE_CONNECT) hears engines leave or move, to end their dials.
  const outbound = createOutboundBridge(context, virtualSockets);
  const mcpAppKeys = new Set(config.mcpTokens.map((entry) => parseMcpToken(entry).appKey));
  // With --redis the tools of every node's engines: names claimed in Redis, calls through the bus.
  const mcpListeners: McpListeners = new Map();
  const mcpTools = createMcpTools(context, mcpAppKeys, cluster === undefined ? undefined : createClusterShare(cluster, context, mcpListeners));
  const toolDirectory = cluster === undefined ? createLocalToolDirectory(mcpTools) : createClusterToolDirectory(context, mcpTools, cluster, mcpListeners);
  services.push(createControlService(context, cluster), virtualSockets, createSignalingService(context, cluster), master, outbound, mcpTools);
  if (cluster !== undefined) services.push(cluster);
  const mcp = createMcpEndpoint(context, toolDirectory, { rooms: (appKey) => master.rooms(appKey) }, cluster);
  // Read once: the main listener and the GameMaker bridges serve the same certificate.
  const tls = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
  // Bridged connections only ever use virtual sockets, so only that service hears them leave.
  const bridges = createGmBridges(context, virtualSockets, tls);

  const http = tls
    ? createHttpsServer(tls, (req, res) => handleHttp(req, res))
    : createHttpServer((req, res) => handleHttp(req, res));
  /**
   * HTTP requests in progress per connection. When the listener closes, Node's
   * closeIdleConnections misses a connection that opened but has not sent a whole request (an MCP
   * client that gave up mid-request, a prefetching browser), which would hold the shutdown for
   * the grace period.
   */
  const requestsOn = new Map<Socket, number>();
  http.on("connection", (socket: Socket) => {
    requestsOn.set(socket, 0);
    socket.once("close", () => requestsOn.delete(socket));
  });
  const closeIdleSockets = (): void => {
    for (const [socket, requests] of requestsOn) if (requests === 0 && !upgraded.has(socket)) socket.destroy();
  };
  const upgraded = new WeakSet<Socket | Duplex>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxMessageSize, perMessageDeflate: false });
  const staticFiles = config.staticDir === undefined ? undefined : createStaticFiles(config.staticDir, logger);
  let draining = false;

  function notFound(res: ServerResponse): void {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found\n");
  }

  function handleHttp(req: IncomingMessage, res: ServerResponse): void {
    requestsOn.set(req.socket, (requestsOn.get(req.socket) ?? 0) + 1);
    res.once("close", () => {
      requestsOn.set(req.socket, (requestsOn.get(req.socket) ?? 1) - 1);
      // close() ends only the keep-alive connections idle at that moment; one whose response was
      // still being written then (a static file, /metrics, an /api call) goes as soon as it is done.
      if (draining) setImmediate(() => http.closeIdleConnections());
    });
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      res.writeHead(draining ? 503 : 200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          status: draining ? "draining" : "ok",
          protocolVersion: PROTOCOL_VERSION,
          uptimeSeconds: Math.round((clock.now() - startedAt) / 1000),
          connections: connections.size,
          sessions: context.directory.size,
          // Still 200 "ok" while Redis is down: the node goes on serving its own clients.
          ...(cluster === undefined ? {} : { cluster: cluster.health() }),
        }),
      );
    } else if (path === "/metrics") {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    } else if (master.handleHttp(req, res)) {
      // /api/…: the master's REST API answered.
    } else if (mcp.handleHttp(req, res)) {
      // /mcp: the MCP endpoint answered (when an app key has a token).
    } else if (staticFiles !== undefined && path !== "/ws") {
      // Last, so the server's own paths always win over a file of the same name; /ws is the
      // WebSocket's (a plain GET there is a 404, as without static files).
      staticFiles(req, res, () => notFound(res));
    } else {
      notFound(res);
    }
  }

  http.on("upgrade", (req, socket, head) => {
    upgraded.add(socket);
    // The raw socket needs its own error listener until ws takes it over.
    socket.on("error", () => socket.destroy());
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/ws" || draining) {
      socket.end(draining ? "HTTP/1.1 503 Service Unavailable\r\n\r\n" : "HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Every WebSocket gets its error listener first: a malformed frame must never crash the process.
      ws.on("error", (error) => logger.debug({ err: error.message }, "websocket error"));
      if (draining) {
        // The upgrade finished after close() began: this client missed the DRAIN round.
        ws.send(encodeFrame(Channel.CONTROL, ControlType.DRAIN, Priority.CRITICAL, Drain.encode({ retryAfterMs: config.drainRetryAfterMs })));
        ws.close(CloseCode.SERVER_SHUTDOWN, "server shutting down");
        return;
      }
      const origin = req.headers.origin;
      if (config.allowedOrigins.length > 0 && origin !== undefined && !config.allowedOrigins.includes(origin)) {
        metrics.disconnects.inc({ cause: "origin-not-allowed" });
        ws.close(CloseCode.ORIGIN_NOT_ALLOWED, "origin not allowed");
        return;
      }
      const connection = new Connection(ws, context, clientAddress(req, config.trustProxy));
      connections.add(connection);
      ws.on("close", () => {
        connections.delete(connection);
      });
    });
  });

  const listening = opening.then(async (opened) => {
    logger.info({ storage: opened.kind, schemaVersion: await opened.schemaVersion() }, "storage open");
    // The node id must be known (and its stream read) before the first session gets an id.
    await cluster?.start();
    if (cluster !== undefined && config.nodeId === undefined) logger.setBindings({ node: cluster.nodeId });
    await listen();
    await cluster?.advertise(config.advertiseUrl ?? advertisedUrl());
  });
  const listen = (): Promise<void> => new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.port, config.host, () => {
      http.off("error", reject);
      // After listening, a server error (e.g. EMFILE on accept) is logged, never an uncaught exception.
      http.on("error", (error) => logger.error({ err: error }, "http server error"));
      logger.info({ url: address().url }, "gmnet server listening");
      if (mcpAppKeys.size > 0) logger.info({ url: `${address().url}${MCP_PATH}`, appKeys: [...mcpAppKeys] }, "MCP endpoint open");
      resolve();
    });
  });
  // The bridges look up their service identities first, so they too wait for the storage.
  const ready = Promise.all([listening, bridges.ready]).then(() => undefined);

  function address() {
    const info = http.address() as AddressInfo | null;
    const port = info?.port ?? config.port;
    const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
    const secure = Boolean(config.tlsCert);
    return { host, port, url: `${secure ? "https" : "http"}://${host}:${port}`, wsUrl: `${secure ? "wss" : "ws"}://${host}:${port}/ws` };
  }

  /** What the other nodes reach this one at by default: the listener, with the machine's name for a wildcard host. */
  function advertisedUrl(): string {
    const { url } = address();
    return config.host === "0.0.0.0" || config.host === "::" ? url.replace("//127.0.0.1:", `//${hostname()}:`) : url;
  }

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      draining = true;
      await ready.catch(() => undefined);
      const bridgesClosed = bridges.close();
      const mcpClosed = mcp.close();
      const outboundClosed = outbound.close();
      for (const connection of connections) connection.drain(config.drainRetryAfterMs);
      // Detached sessions have no connection to drain; their streams' peers hear SHUTDOWN.
      // A durable one stays in Redis for its client to resume on another node.
      for (const session of [...sessions.values()]) if (!session.handOver()) session.close(CloseCode.SERVER_SHUTDOWN, "server shutting down");
      flushes.stop();
      await new Promise<void>((resolve) => {
        // The listener stays open while WebSocket clients finish the close handshake, so health
        // probes keep getting 503 "draining" instead of "connection refused"; it closes once every
        // client is gone, or when the grace period ends.
        let listening = true;
        const stopListening = (): void => {
          if (!listening) return;
          listening = false;
          closeIdleSockets();
          http.close(() => {
            clearTimeout(grace);
            resolve();
          });
        };
        // Connections that ignore the close handshake are cut after the grace period, and so are
        // HTTP requests still running then.
        const grace = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
          stopListening();
          http.closeAllConnections();
        }, 2500);
        grace.unref();
        // ws removes a client from wss.clients before listeners added later hear its "close".
        const whenAllGone = (): void => {
          if (wss.clients.size === 0) stopListening();
        };
        for (const ws of wss.clients) ws.once("close", whenAllGone);
        whenAllGone();
      });
      wss.close();
      await bridgesClosed;
      await outboundClosed;
      await mcpClosed;
      master.close();
      // After the sessions closed: their SOCKET_CLOSED to other nodes and route removals go out first.
      await cluster?.close();
      await storage.close();
      logger.info("gmnet server stopped");
    })();
    return closing;
  }

  return { ready, address, gmBridges: () => bridges.list(), close, config };
}

/** What the server holds for replay (PROTOCOL.md §14), computed when /metrics is read rather than on every frame. */
function registerReplayGauges(metrics: Metrics, sessions: ReadonlyMap<string, ClientSession>): (ended: ClientSession) => void {
  let peakOfEnded = 0;
  new Gauge({
    name: "gmnet_replay_bytes",
    help: "Bytes held for replay by all sessions (sent and unacknowledged, plus queued while detached)",
    registers: [metrics.registry],
    collect() {
      let total = 0;
      for (const session of sessions.values()) total += session.replayBytes;
      this.set(total);
    },
  });
  new Gauge({
    name: "gmnet_replay_peak_session_bytes",
    help: "The most bytes any one session has held for replay at once since the server started",
    registers: [metrics.registry],
    collect() {
      let peak = peakOfEnded;
      for (const session of sessions.values()) peak = Math.max(peak, session.peakReplayBytes);
      this.set(peak);
    },
  });
  return (ended) => {
    peakOfEnded = Math.max(peakOfEnded, ended.peakReplayBytes);
  };
}
