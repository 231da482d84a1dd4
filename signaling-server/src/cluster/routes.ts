/**
 * The route table (PROTOCOL.md §15): which node owns a virtual IP, and which nodes are alive.
 *
 *   gmnet:route:{appKey}:{ip}  "{nodeId}/{sessionId}"   written when a session opens or resumes,
 *                                                       expires unless its node refreshes it
 *   gmnet:node:{nodeId}        a random token            the node's liveness, short TTL
 *
 * One key per address with its own expiry (Redis < 7.4 has no per-field HEXPIRE). A route is
 * removed with a compare-and-delete (Lua), so a node never removes a newer owner's entry, and a
 * route to a node whose liveness key expired counts as offline.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { MAX_NODE_ID } from "./node-ids.js";

const routeKey = (appKey: string, ip: number): string => `gmnet:route:${appKey}:${ip >>> 0}`;
export const livenessKey = (nodeId: number): string => `gmnet:node:${nodeId}`;

/** Deletes KEYS[1] only while it still holds ARGV[1]. */
const COMPARE_AND_DELETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** Extends KEYS[1] while it holds ARGV[1]; writes it again if it expired meanwhile (a Redis outage); leaves a newer owner's entry alone. */
const REFRESH = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
/**
 * Writes KEYS[1] = ARGV[1] (expiry ARGV[2] ms) and returns the value it replaced if that names a
 * node whose liveness key (ARGV[3] .. node) exists, else false (nil): the live session this write
 * took the address from, in the same round trip (SET … GET needs Redis ≥ 6.2).
 */
const TAKE_OVER = `local old = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'GET')
if not old then return false end
local node = string.match(old, '^(%d+)/')
if node and redis.call('EXISTS', ARGV[3] .. node) == 1 then return old end
return false`;
/** The owning node of KEYS[1] if its liveness key (ARGV[1] .. node) exists, else false (nil). */
const LOCATE = `local v = redis.call('GET', KEYS[1])
if not v then return false end
local node = string.match(v, '^(%d+)/')
if node and redis.call('EXISTS', ARGV[1] .. node) == 1 then return tonumber(node) end
return false`;

/** A session that held an address on some node. */
export interface RouteOwner {
  readonly node: number;
  readonly sessionId: string;
}

export interface RouteTable {
  /** This node's id, fixed once start() resolved. */
  readonly nodeId: number;
  /** How many addresses this node holds a route for. */
  readonly ownedCount: number;
  /** Claims the node id (a random free one when none was configured) and its liveness key. */
  start(): Promise<void>;
  /**
   * Records that this node's session `sessionId` holds (appKey, ip); resolves once written (never
   * rejects), with the session on another live node whose route it replaced, if any.
   */
  own(appKey: string, ip: number, sessionId: string): Promise<RouteOwner | undefined>;
  /** Compare-and-delete of the route, if this session still owns it. */
  release(appKey: string, ip: number, sessionId: string): void;
  /** The live node owning (appKey, ip); undefined when nobody does or its node is gone. */
  locate(appKey: string, ip: number): Promise<number | undefined>;
  /** Which of `nodes` have their liveness key. */
  liveNodes(nodes: readonly number[]): Promise<Set<number>>;
  /** Refreshes the liveness key and every owned route's expiry. */
  /**
   * Refreshes the liveness key and every owned route's expiry. Resolves with the session ids whose
   * route another node's session took over (its value is no longer this node's).
   */
  refresh(): Promise<string[]>;
  /** Waits for writes in flight, then deletes the liveness key (this node's routes go with its sessions). */
  close(): Promise<void>;
}

export interface RouteTableOptions {
  readonly redis: Redis;
  /** undefined: a random id that no live node holds. */
  readonly nodeId: number | undefined;
  readonly random: () => number;
  readonly logger: Logger;
  /** Liveness key TTL (ms); refresh() must run well within it. */
  readonly nodeTtlMs: number;
  /** Route TTL (ms). */
  readonly routeTtlMs: number;
}

export function createRouteTable(options: RouteTableOptions): RouteTable {
  const { redis, random, logger, nodeTtlMs, routeTtlMs } = options;
  const token = randomBytes(12).toString("hex");
  let nodeId = options.nodeId ?? 0;
  /** route key → value, for the routes this node wrote. */
  const owned = new Map<string, string>();
  const writes = new Set<Promise<unknown>>();

  const track = <T>(promise: Promise<T>, what: string): Promise<T | undefined> => {
    const settled = promise.then(
      (value) => value,
      (error: unknown) => {
        logger.warn({ err: error }, `cluster: ${what} failed`);
        return undefined;
      },
    );
    writes.add(settled);
    void settled.finally(() => writes.delete(settled));
    return settled;
  };

  return {
    get nodeId() {
      return nodeId;
    },
    get ownedCount() {
      return owned.size;
    },
    async start() {
      if (options.nodeId !== undefined) {
        // A configured id is the operator's to keep unique; a restarted node takes its id back at once.
        await redis.set(livenessKey(nodeId), token, "PX", nodeTtlMs);
        return;
      }
      for (let attempt = 0; attempt < 64; attempt++) {
        const candidate = 1 + Math.floor(random() * MAX_NODE_ID);
        if ((await redis.set(livenessKey(candidate), token, "PX", nodeTtlMs, "NX")) === "OK") {
          nodeId = candidate;
          return;
        }
      }
      throw new Error(`cluster: no free node id found among 1–${MAX_NODE_ID}; set --node-id`);
    },
    async own(appKey, ip, sessionId) {
      const key = routeKey(appKey, ip);
      const value = `${nodeId}/${sessionId}`;
      owned.set(key, value);
      const previous = await track(redis.eval(TAKE_OVER, 1, key, value, routeTtlMs, "gmnet:node:"), "writing a route");
      if (typeof previous !== "string") return undefined;
      const slash = previous.indexOf("/");
      const owner = { node: Number(previous.slice(0, slash)), sessionId: previous.slice(slash + 1) };
      // This node's own session (replaced locally already, or this one resuming) is no other node's to close.
      return owner.node === nodeId ? undefined : owner;
    },
    release(appKey, ip, sessionId) {
      const key = routeKey(appKey, ip);
      const value = `${nodeId}/${sessionId}`;
      if (owned.get(key) === value) owned.delete(key);
      void track(redis.eval(COMPARE_AND_DELETE, 1, key, value), "removing a route");
    },
    async locate(appKey, ip) {
      try {
        const node = await redis.eval(LOCATE, 1, routeKey(appKey, ip), "gmnet:node:");
        return typeof node === "number" ? node : undefined;
      } catch (error) {
        // Unreachable Redis: the address cannot be reached now, which is what OFFLINE says.
        logger.warn({ err: error }, "cluster: looking up a route failed");
        return undefined;
      }
    },
    async liveNodes(nodes) {
      const live = new Set<number>();
      if (nodes.length === 0) return live;
      const pipeline = redis.pipeline();
      for (const node of nodes) pipeline.exists(livenessKey(node));
      const results = (await pipeline.exec()) ?? [];
      nodes.forEach((node, i) => {
        const [error, exists] = results[i] ?? [null, 0];
        // When Redis cannot say, the node is not declared gone.
        if (error !== null || exists === 1) live.add(node);
      });
      return live;
    },
    async refresh() {
      const pipeline = redis.pipeline();
      pipeline.set(livenessKey(nodeId), token, "PX", nodeTtlMs);
      const refreshed = [...owned];
      for (const [key, value] of refreshed) pipeline.eval(REFRESH, 1, key, value, routeTtlMs);
      const results = (await track(pipeline.exec(), "refreshing the node's liveness and routes")) ?? [];
      const taken: string[] = [];
      refreshed.forEach(([key, value], i) => {
        const [error, result] = results[i + 1] ?? [null, 1];
        // 0: the key holds another owner's value (and the session may since have let it go here).
        if (error === null && result === 0 && owned.get(key) === value) taken.push(value.slice(value.indexOf("/") + 1));
      });
      return taken;
    },
    async close() {
      await Promise.all([...writes]);
      await track(redis.eval(COMPARE_AND_DELETE, 1, livenessKey(nodeId), token), "removing the node's liveness key");
    },
  };
}
