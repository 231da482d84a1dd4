/**
 * Which node runs the master services (PROTOCOL.md §15, "Master services across nodes"): the
 * master home. `gmnet:masterhome` holds its node id with the liveness key's TTL; the home extends
 * it on every liveness round, and any node takes it over (one Lua script, so two nodes never both
 * win) once it is missing or its holder's liveness key has expired. Every node keeps the last id
 * it read, and hears when it changes.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { livenessKey } from "./routes.js";

export const MASTER_HOME_KEY = "gmnet:masterhome";

/**
 * The home's id after this round: ARGV[1] (this node) extends its own claim, a live holder keeps
 * it, and a missing key or a holder without liveness key (prefix ARGV[3]) is taken (PX ARGV[2]).
 */
const ELECT = `local home = redis.call('GET', KEYS[1])
if home == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return tonumber(home) end
if home and redis.call('EXISTS', ARGV[3] .. home) == 1 then return tonumber(home) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return tonumber(ARGV[1])`;
/** Deletes KEYS[1] only while it still holds ARGV[1]. */
const COMPARE_AND_DELETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export type MasterHomeListener = (home: number, previous: number | undefined) => void;

export interface MasterHome {
  /** The home's node id as last read; undefined before the first round. */
  readonly current: number | undefined;
  /** One election round (on start and on every liveness tick); tells the listeners when the home changed. Throws when Redis does. */
  elect(): Promise<void>;
  onChange(listener: MasterHomeListener): void;
  /** Gives the claim up when this node stops, so another node takes over on its next round. */
  release(): Promise<void>;
}

export function createMasterHome(redis: Redis, nodeId: () => number, ttlMs: number, logger: Logger): MasterHome {
  const listeners: MasterHomeListener[] = [];
  let current: number | undefined;
  const livenessPrefix = livenessKey(0).slice(0, -1);
  return {
    get current() {
      return current;
    },
    async elect() {
      const home = Number(await redis.eval(ELECT, 1, MASTER_HOME_KEY, nodeId(), ttlMs, livenessPrefix));
      if (home === current) return;
      const previous = current;
      current = home;
      logger.info({ home, previous }, "cluster: master home");
      for (const listener of listeners) listener(home, previous);
    },
    onChange(listener) {
      listeners.push(listener);
    },
    async release() {
      if (current !== nodeId()) return;
      try {
        await redis.eval(COMPARE_AND_DELETE, 1, MASTER_HOME_KEY, nodeId());
      } catch (error) {
        logger.warn({ err: error }, "cluster: giving the master home up failed (it expires by itself)");
      }
    },
  };
}
