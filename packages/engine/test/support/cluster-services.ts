/**
 * The services behind a test network in cluster mode (GMNET_TEST_NODES > 1, PROTOCOL.md §15):
 * each network gets a private Redis of its own (routes, streams, names and channels of one network
 * never meet another's) and a fresh database in one private PostgreSQL per test process. That
 * PostgreSQL starts when a test file of the cluster project starts (cluster-setup.ts), else with
 * the first cluster network, and stops when the file ends (cluster-setup.ts), else at process exit.
 * Measured on a busy 2-CPU machine: initdb and start 3.8 s, a database 0.15–0.2 s, a Redis 40–100 ms.
 */
import { type PrivatePostgres, startPrivatePostgres } from "../../../../signaling-server/test/support/private-postgres.js";
import { type PrivateRedis, startPrivateRedis } from "../../../../signaling-server/test/support/private-redis.js";

/** How many nodes a test network has: GMNET_TEST_NODES (the cluster vitest project sets 3), else 1. */
export function testNodeCount(): number {
  const raw = process.env.GMNET_TEST_NODES;
  if (raw === undefined || raw === "") return 1;
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > 255) throw new Error(`GMNET_TEST_NODES=${raw}: a whole number of nodes, 1–255`);
  return count;
}

export interface ClusterServices {
  /** postgres:// URL of this network's own database. */
  readonly database: string;
  readonly redis: PrivateRedis;
  stop(): Promise<void>;
}

let postgres: Promise<PrivatePostgres> | undefined;
let databases = 0;

/**
 * Starts this process' private PostgreSQL now, if it is not running yet. The cluster project's
 * setup file does this before the test file's hooks, so no test or hook (10 s limit) pays for
 * initdb, which takes seconds on a busy machine.
 */
export function startSharedPostgres(): Promise<PrivatePostgres> {
  postgres ??= startPrivatePostgres();
  return postgres;
}

/** A private Redis and a fresh database for one test network (PostgreSQL started if needed). */
export async function startClusterServices(): Promise<ClusterServices> {
  const shared = startSharedPostgres();
  databases += 1;
  const [redis, database] = await Promise.allSettled([startPrivateRedis(), shared.then((pg) => pg.createDatabase(`gmnet_test_net_${databases}`))]);
  if (redis.status === "rejected" || database.status === "rejected") {
    if (redis.status === "fulfilled") await redis.value.stop();
    throw redis.status === "rejected" ? redis.reason : (database as PromiseRejectedResult).reason;
  }
  return { database: database.value, redis: redis.value, stop: () => redis.value.stop() };
}

/** The close() of every cluster network still open: a test may close only its first node (lifecycle.test.ts). */
const open = new Set<() => Promise<void>>();

/** Remembers `close` until it runs, so closeClusterServices() can close what a test left open. */
export function tracked(close: () => Promise<void>): () => Promise<void> {
  const once = async (): Promise<void> => {
    open.delete(once);
    await close();
  };
  open.add(once);
  return once;
}

/**
 * At the end of a test file: closes the networks still open (their other nodes and Redis), then
 * stops this process' private PostgreSQL, if one was started.
 */
export async function closeClusterServices(): Promise<void> {
  await Promise.all([...open].map((close) => close()));
  const started = postgres;
  postgres = undefined;
  if (started !== undefined) await (await started).stop();
}
