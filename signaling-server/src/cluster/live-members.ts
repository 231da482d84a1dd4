/**
 * The live nodes in a Redis set of node ids (an app channel's or a UDP port's members, channels.ts
 * and udp-ports.ts): those whose liveness key exists, this node left out. One Lua script, so a
 * node that died is never named.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { livenessKey } from "./routes.js";

const NODE_PREFIX = livenessKey(0).slice(0, -1);

/** The live nodes (liveness prefix ARGV[1]) in set KEYS[1]. */
const LIVE_MEMBERS = `local out = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. node) == 1 then table.insert(out, tonumber(node)) end
end
return out`;

/** The other live nodes in set `key`; rejects (logged as `what`) when Redis cannot say. */
export async function liveMembers(redis: Redis, key: string, self: number, logger: Logger, what: string): Promise<number[]> {
  try {
    const live = (await redis.eval(LIVE_MEMBERS, 1, key, NODE_PREFIX)) as number[];
    return live.filter((node) => node !== self);
  } catch (error) {
    logger.warn({ err: error }, `cluster: looking up ${what} failed`);
    throw error;
  }
}
