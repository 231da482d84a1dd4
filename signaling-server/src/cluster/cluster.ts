/**
 * Multi-node through Redis (PROTOCOL.md §15), created by the composition root only when --redis
 * is set. It owns the two Redis connections, the route table (routes.ts), the node's stream
 * (redis-bus.ts) and the timer that keeps the node's liveness and routes fresh; as a session
 * lifecycle it writes a session's address route when it opens or resumes and removes it when it
 * closes. The virtual-socket service reaches other nodes through the ClusterLink it exposes.
 *
 * One live session per address across nodes, as on one node: a session that opens (HELLO, or a
 * RESUME that opens a new session) on an address whose route named a session on another live
 * node takes the route over and tells that node, which closes it with 4003 REPLACED. A move
 * (login, logout) only writes the route: there the master decides which session leaves.
 */
import { CloseCode } from "@gmnet/protocol";
import { Redis } from "ioredis";
import type { ServerConfig } from "../config.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { type ClusterHealth, createClusterMetrics } from "./cluster-metrics.js";
import type { Session, SessionLifecycle } from "../session/session.js";
import type { BusMessage, BusMessageOf, BusType } from "./messages.js";
import { type IdRange, MAX_NODE_ID, idRangeOf, nodeOfId } from "./node-ids.js";
import { type McpTable, createMcpTable } from "./mcp-table.js";
import { type Members, createMemberCache } from "./member-cache.js";
import { type SessionLog, createSessionLog } from "./session-log.js";

/** A node's advertised base URL (--advertise-url), with its liveness key's TTL. */
const nodeUrlKey = (nodeId: number): string => `gmnet:nodeurl:${nodeId}`;
import { type ChannelTable, createChannelTable } from "./channels.js";
import { createNameTable } from "./names.js";
import { createRedisBus } from "./redis-bus.js";
import { type UdpPortTable, createUdpPortTable } from "./udp-ports.js";
import { createRouteTable } from "./routes.js";
import { type MasterHomeListener, createMasterHome } from "./master-home.js";

/** A route outlives a missed refresh or two (at least this long); a dead node's routes count as offline anyway. */
const MIN_ROUTE_TTL_MS = 60_000;

/** What the virtual-socket service uses to reach sessions on other nodes. */
export interface ClusterLink {
  /** This node's id (fixed once the cluster started, before the server listens). */
  readonly nodeId: number;
  /** The ids this node allocates (its id in the high bits). */
  idRange(): IdRange;
  nodeOfId(id: number): number;
  /** The live node, other than this one, whose session holds (appKey, ip); undefined: offline. */
  locate(appKey: string, ip: number): Promise<number | undefined>;
  send(node: number, message: BusMessage, data?: Uint8Array): void;
  on<T extends BusType>(type: T, handler: (from: number, message: BusMessageOf<T>, data: Uint8Array | undefined) => void): void;
  /** Claims a host name (lower-cased) for this node's session; false if a live session elsewhere holds it. */
  claimName(appKey: string, name: string, sessionId: string, ip: number): Promise<boolean>;
  /** Gives the session's claim up (compare-and-delete). */
  releaseName(appKey: string, name: string, sessionId: string, ip: number): void;
  /** The address of the live session holding a host name (lower-cased), on any node. */
  resolveName(appKey: string, name: string): Promise<number | undefined>;
  /** App channels shared by the nodes (numbers, and which nodes have members). */
  readonly channels: ChannelTable;
  /** Which nodes have sessions bound to a UDP port (BROADCAST). */
  readonly udpPorts: UdpPortTable;
  /** Calls `gone` for each node `inUse` names whose liveness key has expired (checked on every refresh). */
  watchNodes(inUse: () => Iterable<number>, gone: (node: number) => void): void;
  /** The node that runs the master services (master-home.ts); undefined until the first election round. */
  readonly masterHome: number | undefined;
  /** Hears the master home change (the first election included), after the round that saw it. */
  onMasterHomeChange(listener: MasterHomeListener): void;
  /** MCP tools, LLM-session channels and MCP watchers shared by the nodes. */
  readonly mcp: McpTable;
  /** Every node whose liveness key exists, this one included. */
  liveNodes(): Promise<number[]>;
  /** The base URL a live node advertised (its --advertise-url); undefined for a node that is gone. */
  nodeUrl(node: number): Promise<string | undefined>;
  /** Durable sessions (--durable-sessions): resumable sessions kept in Redis (session-log.ts). */
  readonly sessionLog: SessionLog | undefined;
}

export interface Cluster extends ClusterLink, SessionLifecycle {
  /** Connects, claims the node id, empties and starts reading the node's stream. */
  start(): Promise<void>;
  /** Publishes this node's base URL for the others (written again on every liveness round); once the server listens. */
  advertise(url: string): Promise<void>;
  /** Waits for writes in flight (the SOCKET_CLOSED of the sessions just closed), then disconnects. */
  close(): Promise<void>;
  /** /healthz's `cluster` object. */
  health(): ClusterHealth;
}

export interface ClusterOptions {
  readonly config: Pick<ServerConfig, "redis" | "nodeId" | "nodeTtlMs" | "redisStreamMaxLen" | "redisOutboundMaxBytes" | "durableSessions" | "resumeWindowMs" | "replayBytesPerSession">;
  readonly logger: Logger;
  readonly random: () => number;
  /** The server's registry: the cluster adds gmnet_cluster_* (cluster-metrics.ts). */
  readonly metrics: Metrics;
}

export function createCluster({ config, logger, random, metrics }: ClusterOptions): Cluster {
  const url = config.redis!;
  /** The node's liveness key lives this long unless refreshed (every third of it). */
  const NODE_TTL_MS = config.nodeTtlMs;
  const ROUTE_TTL_MS = Math.max(MIN_ROUTE_TTL_MS, 4 * NODE_TTL_MS);
  const connect = (name: string, resend = true): Redis => {
    const redis = new Redis(url, { lazyConnect: true, connectionName: name, autoResendUnfulfilledCommands: resend });
    // Without a listener an unreachable Redis would crash the process; ioredis reconnects by itself.
    redis.on("error", (error: Error) => logger.warn({ err: error.message }, `cluster: redis (${name})`));
    return redis;
  };
  const writer = connect("gmnet-writer");
  // The XREAD a dropped connection left is not sent again: the bus first checks whether Redis
  // restarted with a new stream (redis-bus.ts), then reads again.
  const reader = connect("gmnet-reader", false);
  const routes = createRouteTable({ redis: writer, nodeId: config.nodeId, random, logger, nodeTtlMs: NODE_TTL_MS, routeTtlMs: ROUTE_TTL_MS });
  /** Writes made for the services (name releases), awaited by close(). */
  const writes = new Set<Promise<unknown>>();
  const track = (write: Promise<unknown>): void => {
    writes.add(write);
    void write.finally(() => writes.delete(write));
  };
  const names = createNameTable(writer, () => routes.nodeId, logger, track);
  const memberCache = createMemberCache();
  const members: Members = {
    cache: memberCache,
    async announce(key, joined) {
      try {
        for (const node of await liveNodes()) if (node !== routes.nodeId) bus?.send(node, { t: "member", key, joined });
      } catch (error) {
        logger.warn({ err: error }, "cluster: telling the nodes of a channel or UDP membership failed (they see it within a few seconds)");
      }
    },
  };
  const channels = createChannelTable(writer, () => routes.nodeId, logger, track, members);
  const masterHome = createMasterHome(writer, () => routes.nodeId, NODE_TTL_MS, logger);
  const udpPorts = createUdpPortTable(writer, () => routes.nodeId, logger, track, members);
  const mcp = createMcpTable(writer, () => routes.nodeId, logger, track, (nodes) => routes.liveNodes(nodes));
  // A record outlives its node by the resume window: a client whose node died has that long to come back.
  const sessionLog = config.durableSessions
    ? createSessionLog({
        redis: writer,
        nodeId: () => routes.nodeId,
        logger,
        streamMaxLen: config.redisStreamMaxLen,
        recordTtlMs: config.resumeWindowMs + NODE_TTL_MS,
        maxLogBytes: config.replayBytesPerSession,
        beforeWrite: () => bus?.releaseGathered(),
        maxPendingBytes: config.redisOutboundMaxBytes,
        // Called once writes happen, after the metrics below exist.
        observe: { written: (ms) => observed.metrics.durableWritten(ms), refused: (reason) => observed.metrics.durableRefused(reason) },
      })
    : undefined;
  let bus: ReturnType<typeof createRedisBus> | undefined;
  const pendingHandlers: Array<(target: ReturnType<typeof createRedisBus>) => void> = [];
  const watchers: Array<{ inUse: () => Iterable<number>; gone: (node: number) => void }> = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  const watchNodes = (inUse: () => Iterable<number>, gone: (node: number) => void): void => {
    watchers.push({ inUse, gone });
  };
  // A node that died says nothing: it leaves every membership when its liveness key expires.
  watchNodes(() => memberCache.known(), (node) => memberCache.forget(node));
  /** Set while the writer connection is lost; the round after it comes back re-announces this node. */
  let lost = false;
  /**
   * Until then no node is declared gone: after Redis was unreachable (or restarted and lost its
   * keys) every live node re-announces its liveness within one TTL.
   */
  let graceUntil = 0;
  const observed = createClusterMetrics(metrics, {
    nodeId: () => routes.nodeId,
    redisUp: () => writer.status === "ready",
    routes: () => routes.ownedCount,
    outboundBytesWaiting: () => bus?.bytesWaiting ?? 0,
    durableSessions: () => sessionLog?.sessions ?? 0,
    durablePendingBytes: () => sessionLog?.pendingBytes ?? 0,
  });
  /** This node's sessions by id, for the REPLACED notices of other nodes. */
  const local = new Map<string, Session>();

  /** One PING: the Redis round trip /healthz and /metrics show. */
  const measureRoundTrip = async (): Promise<void> => {
    const pinged = performance.now();
    await writer.ping();
    observed.metrics.roundTrip(performance.now() - pinged);
  };

  /**
   * Sessions whose route another node's session took over in the last round. The `replaced` notice
   * closes them at once; this is for a notice lost with a Redis outage. A session still listed on
   * the next round is closed with REPLACED; one round of grace lets a login's move back (the
   * master home moves the old login away from the account's address) finish first.
   */
  let takenLastRound = new Set<string>();
  const closeTakenOver = (taken: readonly string[]): void => {
    const now = new Set<string>();
    for (const sessionId of taken) {
      if (!takenLastRound.has(sessionId)) {
        now.add(sessionId);
        continue;
      }
      logger.warn({ session: sessionId }, "cluster: a session's address was taken over by another node; closing it (REPLACED)");
      local.get(sessionId)?.close(CloseCode.REPLACED, "this identity connected elsewhere");
    }
    takenLastRound = now;
  };

  /** Every node whose liveness key exists, this one included. */
  async function liveNodes(): Promise<number[]> {
    const all = Array.from({ length: MAX_NODE_ID }, (_, i) => i + 1);
    return [...(await routes.liveNodes(all))].sort((a, b) => a - b);
  }

  /** This node's advertised base URL, kept with the liveness key's TTL. */
  let advertised: string | undefined;
  const writeUrl = async (): Promise<void> => {
    if (advertised !== undefined) await writer.set(nodeUrlKey(routes.nodeId), advertised, "PX", NODE_TTL_MS);
  };

  /** One liveness round: the node's key and routes refreshed, the master home elected, gone nodes found. */
  const round = async (): Promise<void> => {
    try {
      await measureRoundTrip();
      closeTakenOver(await routes.refresh());
      await writeUrl();
      await masterHome.elect();
      await sessionLog?.refresh();
      for (const watcher of Date.now() < graceUntil ? [] : watchers) {
        const nodes = [...new Set(watcher.inUse())];
        if (nodes.length === 0) continue;
        const live = await routes.liveNodes(nodes);
        for (const node of nodes) if (!live.has(node)) watcher.gone(node);
      }
    } catch (error) {
      logger.warn({ err: error }, "cluster: the liveness round failed");
    }
  };
  /** The round under way, if any: a tick during it joins it rather than starting another. */
  let ticking: Promise<void> | undefined;
  const tick = (): Promise<void> => {
    // Unreachable: nothing to refresh; the round run when the writer is ready again does it.
    if (writer.status !== "ready") return Promise.resolve();
    return (ticking ??= round().finally(() => (ticking = undefined)));
  };

  return {
    get nodeId() {
      return routes.nodeId;
    },
    idRange: () => idRangeOf(routes.nodeId),
    nodeOfId,
    async locate(appKey, ip) {
      // Unreachable Redis: OFFLINE at once rather than after ioredis' retries.
      if (writer.status !== "ready") return undefined;
      const node = await routes.locate(appKey, ip);
      // A route to this node with no local session is stale: offline, as a single node would say.
      return node === routes.nodeId ? undefined : node;
    },
    send(node, message, data) {
      bus?.send(node, message, data);
    },
    on(type, handler) {
      if (bus !== undefined) bus.on(type, handler);
      else pendingHandlers.push((target) => target.on(type, handler));
    },
    channels,
    udpPorts,
    // While Redis is unreachable it cannot say, at once: a claim is refused, a name resolves to nothing.
    claimName: (appKey, name, sessionId, ip) => (writer.status === "ready" ? names.claim(appKey, name, sessionId, ip) : Promise.resolve(false)),
    releaseName: (appKey, name, sessionId, ip) => names.release(appKey, name, sessionId, ip),
    resolveName: (appKey, name) => (writer.status === "ready" ? names.resolve(appKey, name) : Promise.resolve(undefined)),
    get masterHome() {
      return masterHome.current;
    },
    onMasterHomeChange(listener) {
      masterHome.onChange(listener);
    },
    mcp,
    async advertise(url) {
      advertised = url;
      await writeUrl();
    },
    async nodeUrl(node) {
      if (writer.status !== "ready") return undefined;
      return (await writer.get(nodeUrlKey(node))) ?? undefined;
    },
    liveNodes,
    watchNodes,
    sessionLog,
    async start() {
      await writer.connect();
      await reader.connect();
      await measureRoundTrip();
      await routes.start();
      bus = createRedisBus({
        nodeId: routes.nodeId,
        writer,
        reader,
        maxLen: config.redisStreamMaxLen,
        maxOutboundBytes: config.redisOutboundMaxBytes,
        logger,
        metrics: observed.metrics,
        dropped: (reason) => metrics.drops.inc({ reason }),
        hinted: sessionLog === undefined ? undefined : (sid, first, frames) => sessionLog.hinted(sid, first, frames),
      });
      bus.on("member", (from, { key, joined }) => memberCache.heard(key, from, joined));
      bus.on("replaced", (_from, { appKey, ip, sessionId }) => {
        const session = local.get(sessionId);
        // Only the session the route named, and only while it still holds that address (it may have moved).
        if (session !== undefined && session.appKey === appKey && session.virtualIp === ip) session.close(CloseCode.REPLACED, "this identity connected elsewhere");
      });
      // Another node took a durable session of this node over (its client resumed there).
      bus.on("moved", (_from, { sessionId }) => local.get(sessionId)?.movedAway?.());
      for (const register of pendingHandlers.splice(0)) register(bus);
      await bus.start();
      sessionLog?.start();
      // Before the server listens: every request knows where the master services run.
      await masterHome.elect();
      timer = setInterval(() => void tick(), NODE_TTL_MS / 3);
      timer.unref();
      writer.on("close", () => {
        lost = true;
      });
      writer.on("ready", () => {
        // After the bus wrote what it held (its own "ready" listener ran first).
        sessionLog?.writerReady();
        if (!lost) return;
        lost = false;
        graceUntil = Date.now() + NODE_TTL_MS;
        logger.info("cluster: redis reachable again; announcing this node's liveness, routes, names, app channels and UDP bindings");
        // At once rather than on the next round: a Redis that restarted has none of them.
        // A round begun before the drop may still be finishing: a fresh one follows it, so the
        // routes are back before the names that point at them.
        void (async () => {
          await ticking;
          await tick();
          await Promise.all([names.reannounce(), channels.reannounce(), udpPorts.reannounce(), mcp.reannounce()]);
        })();
      });
      logger.info({ nodeId: routes.nodeId }, "cluster: node joined through redis");
    },
    health: () => observed.health(),
    async close() {
      clearInterval(timer);
      await sessionLog?.settled();
      await bus?.close();
      await Promise.all([...writes]);
      await masterHome.release();
      if (advertised !== undefined) await writer.del(nodeUrlKey(routes.nodeId)).catch((error: unknown) => logger.warn({ err: error }, "cluster: removing the advertised URL failed (it expires by itself)"));
      await routes.close();
      // Every write was answered (the bus and the route table waited for theirs).
      writer.disconnect();
      reader.disconnect();
    },
    onSessionOpen(session) {
      local.set(session.id, session);
      // Read now: the master may move the session (the Hello's token) before the write is answered.
      const { appKey, virtualIp: ip } = session;
      const written = routes.own(appKey, ip, session.id).then((previous) => {
        if (previous !== undefined) bus?.send(previous.node, { t: "replaced", appKey, ip, sessionId: previous.sessionId });
      });
      // While Redis is unreachable a new session does not wait for it: the liveness round that
      // runs when Redis is back writes the route (owned routes are refreshed, written if missing).
      return writer.status === "ready" ? written : undefined;
    },
    onSessionResume(session) {
      void routes.own(session.appKey, session.virtualIp, session.id);
    },
    onSessionMovedIn(session, { previousNode }) {
      local.set(session.id, session);
      // Before the route changes hands: the node that had the session lets its copy go quietly.
      if (previousNode !== routes.nodeId) bus?.send(previousNode, { t: "moved", sessionId: session.id });
    },
    onSessionClose(session) {
      local.delete(session.id);
      routes.release(session.appKey, session.virtualIp, session.id);
    },
    onSessionMove(session) {
      routes.release(session.appKey, session.virtualIp, session.id);
      // Called before the address changes (Session.moveTo): the new one is known after this turn.
      queueMicrotask(() => {
        if (!session.closed) void routes.own(session.appKey, session.virtualIp, session.id);
      });
    },
  };
}
