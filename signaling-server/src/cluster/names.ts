/**
 * Host names shared by the nodes (PROTOCOL.md §15):
 *
 *   gmnet:names:{appKey}  name → "{nodeId}/{sessionId}/{ip}"   HSETNX-style claims
 *
 * A claim is taken only while nobody else holds the name; a holder counts while its node's
 * liveness key exists and its session still owns the address's route (so a name left by a dead
 * node or a session that is gone is free). A holder removes its claim with a compare-and-delete
 * (Lua) when its session closes, moves or claims another name.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";

const namesKey = (appKey: string): string => `gmnet:names:${appKey}`;
const routePrefix = (appKey: string): string => `gmnet:route:${appKey}:`;
const NODE_PREFIX = "gmnet:node:";

/** Whether the holder `v` is alive: its node's liveness key exists and its session owns the address's route. */
const ALIVE = `local function alive(v)
  local node, session, ip = string.match(v, '^(%d+)/(.+)/(%d+)$')
  if node and redis.call('EXISTS', ARGV[3] .. node) == 1 and redis.call('GET', ARGV[2] .. ip) == node .. '/' .. session then return tonumber(ip) end
  return false
end
`;
/** Sets name ARGV[1] to ARGV[4] unless another live holder has it (a value not starting with ARGV[5]); 1 or 0. */
const CLAIM = `${ALIVE}local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and string.sub(v, 1, string.len(ARGV[5])) ~= ARGV[5] and alive(v) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return 1`;
/** The address of name ARGV[1]'s live holder, else false (nil). */
const RESOLVE = `${ALIVE}local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
return alive(v)`;
/** Deletes name ARGV[1] only while it holds ARGV[2]. */
const RELEASE = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`;

export interface NameTable {
  /** Claims `name` (lower-cased) for this node's session `sessionId` at `ip`; false if another live session holds it (or Redis cannot say). */
  claim(appKey: string, name: string, sessionId: string, ip: number): Promise<boolean>;
  /** Compare-and-delete of the claim, if this session still holds it. */
  release(appKey: string, name: string, sessionId: string, ip: number): void;
  /** The address of the live session holding `name` (lower-cased), on any node. */
  resolve(appKey: string, name: string): Promise<number | undefined>;
  /** Writes this node's claims again (Redis came back, maybe without its data). */
  reannounce(): Promise<void>;
}

export function createNameTable(redis: Redis, nodeId: () => number, logger: Logger, track: (write: Promise<unknown>) => void): NameTable {
  const owner = (sessionId: string): string => `${nodeId()}/${sessionId}/`;
  /** This node's claims as written, by app key and name: what reannounce() writes again. */
  const held = new Map<string, { appKey: string; name: string; sessionId: string; ip: number }>();
  const heldKey = (appKey: string, name: string): string => `${appKey}\n${name}`;
  const write = (appKey: string, name: string, sessionId: string, ip: number): Promise<unknown> => {
    const mine = owner(sessionId);
    return redis.eval(CLAIM, 1, namesKey(appKey), name, routePrefix(appKey), NODE_PREFIX, `${mine}${ip >>> 0}`, mine);
  };
  return {
    async claim(appKey, name, sessionId, ip) {
      try {
        const claimed = (await write(appKey, name, sessionId, ip)) === 1;
        if (claimed) held.set(heldKey(appKey, name), { appKey, name, sessionId, ip });
        return claimed;
      } catch (error) {
        logger.warn({ err: error }, "cluster: claiming a host name failed");
        return false;
      }
    },
    async reannounce() {
      await Promise.all(
        [...held.values()].map(async ({ appKey, name, sessionId, ip }) => {
          try {
            // Refused only if another live session claimed the name while Redis had forgotten this one.
            if ((await write(appKey, name, sessionId, ip)) !== 1) logger.warn({ appKey, name }, "cluster: a host name was claimed elsewhere while Redis had lost this node's claim");
          } catch (error) {
            logger.warn({ err: error }, "cluster: claiming a host name again failed");
          }
        }),
      );
    },
    release(appKey, name, sessionId, ip) {
      const key = heldKey(appKey, name);
      if (held.get(key)?.sessionId === sessionId) held.delete(key);
      const write = redis.eval(RELEASE, 1, namesKey(appKey), name, `${owner(sessionId)}${ip >>> 0}`).catch((error: unknown) => {
        logger.warn({ err: error }, "cluster: releasing a host name failed");
      });
      track(write);
    },
    async resolve(appKey, name) {
      try {
        const ip = await redis.eval(RESOLVE, 1, namesKey(appKey), name, routePrefix(appKey), NODE_PREFIX);
        return typeof ip === "number" ? ip : undefined;
      } catch (error) {
        logger.warn({ err: error }, "cluster: resolving a host name failed");
        return undefined;
      }
    },
  };
}
