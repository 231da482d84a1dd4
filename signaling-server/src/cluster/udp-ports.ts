/**
 * Which nodes have sessions bound to a UDP port of an app key, for BROADCAST across nodes
 * (PROTOCOL.md §15):
 *
 *   gmnet:udpnodes:{appKey}:{port}   set of node ids
 *
 * A node adds itself when its first session binds the port and removes itself when its last one
 * unbinds; a BROADCAST goes to every other live node in the set, through its stream (the bindings
 * themselves stay node-local). The set is read once and then kept in memory (member-cache.ts): a
 * node that binds or unbinds tells the others.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { liveMembers } from "./live-members.js";
import type { Members } from "./member-cache.js";

const portKey = (appKey: string, port: number): string => `gmnet:udpnodes:${appKey}:${port}`;


export interface UdpPortTable {
  /** This node has a session bound to the port now. */
  bind(appKey: string, port: number): void;
  /** This node has no session bound to the port left. */
  unbind(appKey: string, port: number): void;
  /** The other live nodes with sessions bound to the port. */
  nodes(appKey: string, port: number): Promise<number[]>;
  /** Writes this node's bound ports again (Redis came back, maybe without its data). */
  reannounce(): Promise<void>;
}

/** The member cache's key of a UDP port. */
const memberKey = (appKey: string, port: number): string => `udp\n${appKey}\n${port}`;

export function createUdpPortTable(redis: Redis, nodeId: () => number, logger: Logger, track: (write: Promise<unknown>) => void, members: Members): UdpPortTable {
  const write = (promise: Promise<unknown>, what: string): void =>
    track(promise.catch((error: unknown) => logger.warn({ err: error }, `cluster: ${what} failed`)));
  /** The ports this node has sessions bound to: what reannounce() writes again. */
  const bound = new Map<string, { appKey: string; port: number }>();
  return {
    bind(appKey, port) {
      bound.set(portKey(appKey, port), { appKey, port });
      write(redis.sadd(portKey(appKey, port), nodeId()), "recording a UDP binding");
      void members.announce(memberKey(appKey, port), true);
    },
    unbind(appKey, port) {
      bound.delete(portKey(appKey, port));
      write(redis.srem(portKey(appKey, port), nodeId()), "removing a UDP binding");
      void members.announce(memberKey(appKey, port), false);
    },
    async reannounce() {
      const pipeline = redis.pipeline();
      for (const { appKey, port } of bound.values()) pipeline.sadd(portKey(appKey, port), nodeId());
      try {
        await pipeline.exec();
      } catch (error) {
        logger.warn({ err: error }, "cluster: announcing this node's UDP bindings again failed");
      }
    },
    nodes: (appKey, port) => members.cache.nodes(memberKey(appKey, port), () => liveMembers(redis, portKey(appKey, port), nodeId(), logger, "a UDP port's nodes")),
  };
}
