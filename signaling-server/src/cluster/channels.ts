/**
 * App channels shared by the nodes (PROTOCOL.md §15):
 *
 *   gmnet:channels:{appKey}            name → number   allocated atomically (Lua), same rules as one node
 *   gmnet:chnodes:{appKey}:{channel}   set of node ids  the nodes with members of the channel
 *
 * A frame on an app channel goes to every other live node in the channel's set, through its
 * stream; the receiving node hands it to its own members.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";

const channelsKey = (appKey: string): string => `gmnet:channels:${appKey}`;
const nodesKey = (appKey: string, channel: number): string => `gmnet:chnodes:${appKey}:${channel}`;
const NODE_PREFIX = "gmnet:node:";

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
/** The live nodes (liveness prefix ARGV[1]) in set KEYS[1]. */
const LIVE_MEMBERS = `local out = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. node) == 1 then table.insert(out, tonumber(node)) end
end
return out`;

export interface ChannelTable {
  /** The channel number of `name` for the app key, recording this node as a member; 0 when the app has `max` names already. */
  register(appKey: string, name: string, max: number, first: number): Promise<number>;
  /** Records that this node has members of the channel (again). */
  join(appKey: string, channel: number): void;
  /** This node has no member of the channel left. */
  leave(appKey: string, channel: number): void;
  /** The other live nodes with members of the channel. */
  nodes(appKey: string, channel: number): Promise<number[]>;
}

export function createChannelTable(redis: Redis, nodeId: () => number, logger: Logger, track: (write: Promise<unknown>) => void): ChannelTable {
  const write = (promise: Promise<unknown>, what: string): void =>
    track(promise.catch((error: unknown) => logger.warn({ err: error }, `cluster: ${what} failed`)));
  return {
    async register(appKey, name, max, first) {
      const n = await redis.eval(REGISTER, 1, channelsKey(appKey), name, max, first, `gmnet:chnodes:${appKey}:`, nodeId());
      return Number(n);
    },
    join(appKey, channel) {
      write(redis.sadd(nodesKey(appKey, channel), nodeId()), "joining a channel");
    },
    leave(appKey, channel) {
      write(redis.srem(nodesKey(appKey, channel), nodeId()), "leaving a channel");
    },
    async nodes(appKey, channel) {
      try {
        const live = (await redis.eval(LIVE_MEMBERS, 1, nodesKey(appKey, channel), NODE_PREFIX)) as number[];
        const self = nodeId();
        return live.filter((node) => node !== self);
      } catch (error) {
        logger.warn({ err: error }, "cluster: looking up a channel's nodes failed");
        return [];
      }
    },
  };
}
