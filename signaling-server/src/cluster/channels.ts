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
import type { Members } from "./member-cache.js";
import { createMemberships } from "./memberships.js";

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

export function createChannelTable(redis: Redis, nodeId: () => number, logger: Logger, track: (write: Promise<unknown>) => void, members: Members): ChannelTable {
  const memberships = createMemberships(redis, nodeId, logger, track, members, {
    setKey: nodesKey,
    memberKey: (appKey, channel) => `chan\n${appKey}\n${channel}`,
    joining: "joining a channel",
    leaving: "leaving a channel",
    nodes: "a channel's nodes",
    reannouncing: "announcing this node's app channels again",
  });
  /** The numbers this node was given, which reannounce() writes again (its memberships go with them). */
  const numbers = new Map<string, Map<string, number>>();
  return {
    async register(appKey, name, max, first) {
      const n = Number(await redis.eval(REGISTER, 1, channelsKey(appKey), name, max, first, `gmnet:chnodes:${appKey}:`, nodeId()));
      if (n > 0) {
        let names = numbers.get(appKey);
        if (names === undefined) numbers.set(appKey, (names = new Map()));
        names.set(name, n);
        // Before the member hears its number: whatever it then sends the others comes after the notice.
        await memberships.joined(appKey, n);
      }
      return n;
    },
    join: memberships.join,
    leave: memberships.leave,
    nodes: memberships.nodes,
    reannounce: () =>
      memberships.reannounce((pipeline) => {
        // HSETNX: a number given meanwhile (to a name Redis had forgotten) is another node's to keep.
        for (const [appKey, names] of numbers) for (const [name, n] of names) pipeline.hsetnx(channelsKey(appKey), name, n);
      }),
  };
}
