/**
 * App channels shared by the nodes (PROTOCOL.md §15):
 *
 *   gmnet:channels:{appKey}            name → number   allocated atomically (Lua), same rules as one node
 *   gmnet:chnodes:{appKey}:{channel}   set of node ids  the nodes with members of the channel
 *
 * A frame on an app channel goes to every other live node in the channel's set, through its
 * stream; the receiving node hands it to its own members. The set is read once and then kept in
 * memory (member-cache.ts): a node that joins or leaves tells the others.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { liveMembers } from "./live-members.js";
import type { Members } from "./member-cache.js";

const channelsKey = (appKey: string): string => `gmnet:channels:${appKey}`;
const nodesKey = (appKey: string, channel: number): string => `gmnet:chnodes:${appKey}:${channel}`;

/** The number of name ARGV[1] (the next one, ARGV[3] + count, when new; 0 past ARGV[2] names); adds node ARGV[5] to its set (prefix ARGV[4]). */
const REGISTER = `local n = redis.call('HGET', KEYS[1], ARGV[1])
if not n then
  local size = redis.call('HLEN', KEYS[1])
  if size >= tonumber(ARGV[2]) then return 0 end
  n = tonumber(ARGV[3]) + size
  redis.call('HSET', KEYS[1], ARGV[1], n)
end
redis.call('SADD', ARGV[4] .. n, ARGV[5])
return tonumber(n)`;

export interface ChannelTable {
  /** The channel number of `name` for the app key, recording this node as a member; 0 when the app has `max` names already. */
  register(appKey: string, name: string, max: number, first: number): Promise<number>;
  /** Records that this node has members of the channel (again). */
  join(appKey: string, channel: number): void;
  /** This node has no member of the channel left. */
  leave(appKey: string, channel: number): void;
  /** The other live nodes with members of the channel. */
  nodes(appKey: string, channel: number): Promise<number[]>;
  /** Writes the numbers this node knows and its memberships again (Redis came back, maybe without its data). */
  reannounce(): Promise<void>;
}

/** The member cache's key of an app channel. */
const memberKey = (appKey: string, channel: number): string => `chan\n${appKey}\n${channel}`;

export function createChannelTable(redis: Redis, nodeId: () => number, logger: Logger, track: (write: Promise<unknown>) => void, members: Members): ChannelTable {
  const write = (promise: Promise<unknown>, what: string): void =>
    track(promise.catch((error: unknown) => logger.warn({ err: error }, `cluster: ${what} failed`)));
  /** What reannounce() writes again: the numbers this node was given, and the channels it has members of. */
  const numbers = new Map<string, Map<string, number>>();
  const joined = new Map<string, { appKey: string; channel: number }>();
  const joinedKey = (appKey: string, channel: number): string => `${appKey}\n${channel}`;
  return {
    async register(appKey, name, max, first) {
      const n = Number(await redis.eval(REGISTER, 1, channelsKey(appKey), name, max, first, `gmnet:chnodes:${appKey}:`, nodeId()));
      if (n > 0) {
        let names = numbers.get(appKey);
        if (names === undefined) numbers.set(appKey, (names = new Map()));
        names.set(name, n);
        joined.set(joinedKey(appKey, n), { appKey, channel: n });
        // Before the member hears its number: whatever it then sends the others comes after the notice.
        await members.announce(memberKey(appKey, n), true);
      }
      return n;
    },
    join(appKey, channel) {
      joined.set(joinedKey(appKey, channel), { appKey, channel });
      write(redis.sadd(nodesKey(appKey, channel), nodeId()), "joining a channel");
      void members.announce(memberKey(appKey, channel), true);
    },
    leave(appKey, channel) {
      joined.delete(joinedKey(appKey, channel));
      write(redis.srem(nodesKey(appKey, channel), nodeId()), "leaving a channel");
      void members.announce(memberKey(appKey, channel), false);
    },
    async reannounce() {
      const pipeline = redis.pipeline();
      // HSETNX: a number given meanwhile (to a name Redis had forgotten) is another node's to keep.
      for (const [appKey, names] of numbers) for (const [name, n] of names) pipeline.hsetnx(channelsKey(appKey), name, n);
      for (const { appKey, channel } of joined.values()) pipeline.sadd(nodesKey(appKey, channel), nodeId());
      try {
        await pipeline.exec();
      } catch (error) {
        logger.warn({ err: error }, "cluster: announcing this node's app channels again failed");
      }
    },
    nodes: (appKey, channel) => members.cache.nodes(memberKey(appKey, channel), () => liveMembers(redis, nodesKey(appKey, channel), nodeId(), logger, "a channel's nodes")),
  };
}
