/**
 * Multi-node through Redis (PROTOCOL.md §15), created by the composition root only when --redis
 * is set. It owns the two Redis connections, the route table (routes.ts), the node's stream
 * (redis-bus.ts) and the timer that keeps the node's liveness and routes fresh; as a session
 * lifecycle it writes a session's address route when it opens or resumes and removes it when it
 * closes. The virtual-socket service reaches other nodes through the ClusterLink it exposes.
 */
import { Redis } from "ioredis";
import type { ServerConfig } from "../config.js";
import type { Logger } from "../observability/logger.js";
import type { SessionLifecycle } from "../session/session.js";
import type { BusMessage, BusMessageOf, BusType } from "./messages.js";
import { type IdRange, idRangeOf, nodeOfId } from "./node-ids.js";
import { type ChannelTable, createChannelTable } from "./channels.js";
import { createNameTable } from "./names.js";
import { createRedisBus } from "./redis-bus.js";
import { type UdpPortTable, createUdpPortTable } from "./udp-ports.js";
import { createRouteTable } from "./routes.js";

/** A node's liveness key lives this long unless refreshed (every third of it). */
const NODE_TTL_MS = 15_000;
/** A route outlives a missed refresh or two; a dead node's routes count as offline anyway. */
const ROUTE_TTL_MS = 60_000;

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
}

export interface Cluster extends ClusterLink, SessionLifecycle {
  /** Connects, claims the node id, empties and starts reading the node's stream. */
  start(): Promise<void>;
  /** Waits for writes in flight (the SOCKET_CLOSED of the sessions just closed), then disconnects. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly config: Pick<ServerConfig, "redis" | "nodeId" | "redisStreamMaxLen">;
  readonly logger: Logger;
  readonly random: () => number;
}

export function createCluster({ config, logger, random }: ClusterOptions): Cluster {
  const url = config.redis!;
  const connect = (name: string): Redis => {
    const redis = new Redis(url, { lazyConnect: true, connectionName: name });
    // Without a listener an unreachable Redis would crash the process; ioredis reconnects by itself.
    redis.on("error", (error: Error) => logger.warn({ err: error.message }, `cluster: redis (${name})`));
    return redis;
  };
  const writer = connect("gmnet-writer");
  const reader = connect("gmnet-reader");
  const routes = createRouteTable({ redis: writer, nodeId: config.nodeId, random, logger, nodeTtlMs: NODE_TTL_MS, routeTtlMs: ROUTE_TTL_MS });
  /** Writes made for the services (name releases), awaited by close(). */
  const writes = new Set<Promise<unknown>>();
  const track = (write: Promise<unknown>): void => {
    writes.add(write);
    void write.finally(() => writes.delete(write));
  };
  const names = createNameTable(writer, () => routes.nodeId, logger, track);
  const channels = createChannelTable(writer, () => routes.nodeId, logger, track);
  const udpPorts = createUdpPortTable(writer, () => routes.nodeId, logger, track);
  let bus: ReturnType<typeof createRedisBus> | undefined;
  const pendingHandlers: Array<(target: ReturnType<typeof createRedisBus>) => void> = [];
  const watchers: Array<{ inUse: () => Iterable<number>; gone: (node: number) => void }> = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  let ticking = false;

  const tick = async (): Promise<void> => {
    if (ticking) return;
    ticking = true;
    try {
      await routes.refresh();
      for (const watcher of watchers) {
        const nodes = [...new Set(watcher.inUse())];
        if (nodes.length === 0) continue;
        const live = await routes.liveNodes(nodes);
        for (const node of nodes) if (!live.has(node)) watcher.gone(node);
      }
    } catch (error) {
      logger.warn({ err: error }, "cluster: the liveness round failed");
    } finally {
      ticking = false;
    }
  };

  return {
    get nodeId() {
      return routes.nodeId;
    },
    idRange: () => idRangeOf(routes.nodeId),
    nodeOfId,
    async locate(appKey, ip) {
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
    claimName: (appKey, name, sessionId, ip) => names.claim(appKey, name, sessionId, ip),
    releaseName: (appKey, name, sessionId, ip) => names.release(appKey, name, sessionId, ip),
    resolveName: (appKey, name) => names.resolve(appKey, name),
    watchNodes(inUse, gone) {
      watchers.push({ inUse, gone });
    },
    async start() {
      await writer.connect();
      await reader.connect();
      await routes.start();
      bus = createRedisBus({ nodeId: routes.nodeId, writer, reader, maxLen: config.redisStreamMaxLen, logger });
      for (const register of pendingHandlers.splice(0)) register(bus);
      await bus.start();
      timer = setInterval(() => void tick(), NODE_TTL_MS / 3);
      timer.unref();
      logger.info({ nodeId: routes.nodeId }, "cluster: node joined through redis");
    },
    async close() {
      clearInterval(timer);
      await bus?.close();
      await Promise.all([...writes]);
      await routes.close();
      // Every write was answered (the bus and the route table waited for theirs).
      writer.disconnect();
      reader.disconnect();
    },
    onSessionOpen(session) {
      return routes.own(session.appKey, session.virtualIp, session.id);
    },
    onSessionResume(session) {
      void routes.own(session.appKey, session.virtualIp, session.id);
    },
    onSessionClose(session) {
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
