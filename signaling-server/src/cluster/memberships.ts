/**
 * This node's memberships in the Redis sets of node ids kept per app key and number: the nodes
 * with members of an app channel (channels.ts), the nodes with sessions bound to a UDP port
 * (udp-ports.ts). Joining adds this node to a set and leaving removes it, each telling the other
 * nodes (member-cache.ts); what it joined is kept, so that reannounce() can add it again when
 * Redis comes back, maybe without its data.
 */
import type { ChainableCommander, Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { liveMembers } from "./live-members.js";
import type { Members } from "./member-cache.js";

/** What one kind of set is called in Redis, in the member cache and in the logs. */
export interface MembershipKind {
  /** The Redis set of node ids of (appKey, n). */
  setKey(appKey: string, n: number): string;
  /** The member cache's key of (appKey, n). */
  memberKey(appKey: string, n: number): string;
  /** How the logs name a failed join, leave and reannounce, and the nodes of a set (when their lookup fails). */
  readonly joining: string;
  readonly leaving: string;
  readonly reannouncing: string;
  readonly nodes: string;
}

export interface Memberships {
  /** Records that this node is in the set, which the caller wrote to Redis itself; resolves once the other nodes were told. */
  joined(appKey: string, n: number): Promise<void>;
  /** Adds this node to the set. */
  join(appKey: string, n: number): void;
  /** Removes this node from the set. */
  leave(appKey: string, n: number): void;
  /** The other live nodes in the set. */
  nodes(appKey: string, n: number): Promise<number[]>;
  /** Adds this node again to every set it is in, after what `first` puts in the same round trip. */
  reannounce(first?: (pipeline: ChainableCommander) => void): Promise<void>;
}

export function createMemberships(redis: Redis, nodeId: () => number, logger: Logger, track: (write: Promise<unknown>) => void, members: Members, kind: MembershipKind): Memberships {
  const write = (promise: Promise<unknown>, what: string): void =>
    track(promise.catch((error: unknown) => logger.warn({ err: error }, `cluster: ${what} failed`)));
  const held = new Map<string, { appKey: string; n: number }>();
  return {
    joined(appKey, n) {
      held.set(kind.setKey(appKey, n), { appKey, n });
      return members.announce(kind.memberKey(appKey, n), true);
    },
    join(appKey, n) {
      held.set(kind.setKey(appKey, n), { appKey, n });
      write(redis.sadd(kind.setKey(appKey, n), nodeId()), kind.joining);
      void members.announce(kind.memberKey(appKey, n), true);
    },
    leave(appKey, n) {
      held.delete(kind.setKey(appKey, n));
      write(redis.srem(kind.setKey(appKey, n), nodeId()), kind.leaving);
      void members.announce(kind.memberKey(appKey, n), false);
    },
    nodes: (appKey, n) => members.cache.nodes(kind.memberKey(appKey, n), () => liveMembers(redis, kind.setKey(appKey, n), nodeId(), logger, kind.nodes)),
    async reannounce(first) {
      const pipeline = redis.pipeline();
      first?.(pipeline);
      for (const { appKey, n } of held.values()) pipeline.sadd(kind.setKey(appKey, n), nodeId());
      try {
        await pipeline.exec();
      } catch (error) {
        logger.warn({ err: error }, `cluster: ${kind.reannouncing} failed`);
      }
    },
  };
}
