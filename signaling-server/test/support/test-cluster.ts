/**
 * The setup every multi-node test file shares (PROTOCOL.md §15): a private PostgreSQL with one
 * database for the file, a private Redis, and server nodes in this process on both. useCluster()
 * registers the vitest hooks; clients it connects or tracks close after each test, and every node
 * it started closes after the file, before Redis and PostgreSQL stop.
 */
import { afterAll, afterEach, beforeAll } from "vitest";
import type { GmnetServer, ServerOptions } from "../../src/index.js";
import { FAST_HASHES, startServer } from "./harness.js";
import { type PrivatePostgres, startPrivatePostgres } from "./private-postgres.js";
import { type PrivateRedis, startPrivateRedis } from "./private-redis.js";
import { type ClientOptions, ProtocolClient } from "./protocol-client.js";
import { type Client, barrier } from "./virtual-sockets.js";

export interface ClusterSetup {
  /** Name of the file's own database in the private PostgreSQL. */
  database: string;
  /** Node ids started together before the tests, in `nodes` in this order; none by default. */
  nodes?: readonly number[];
  /** Server options of every node, under those given to startNode(). */
  options?: ServerOptions;
  /** App key of clientOn()'s clients unless its options name another. */
  appKey?: string;
}

export interface TestCluster {
  /** The nodes of `setup.nodes`, filled before the tests run. */
  readonly nodes: GmnetServer[];
  readonly postgres: PrivatePostgres;
  readonly redis: PrivateRedis;
  /** postgres:// URL of the file's database. */
  readonly database: string;
  /** Starts one more node (no id: the node claims one itself); closed after the file if the test did not. */
  startNode: (nodeId?: number, options?: ServerOptions) => Promise<GmnetServer>;
  /** Remembers `client` to close after the test; returns it. */
  track: <T extends Closable>(client: T) => T;
  /** Closes the tracked clients now, for a test that must before closing its nodes (after each test anyway). */
  closeClients: () => void;
  /**
   * A welcomed client on `server`. The barrier round trip returns only after the session's route
   * is written (a new session's frames wait for every service's onSessionOpen), so other nodes can find it.
   */
  clientOn: (server: GmnetServer, options?: ClientOptions) => Promise<Client>;
}

interface Closable {
  close(): void;
}

export function useCluster(setup: ClusterSetup): TestCluster {
  let postgres: PrivatePostgres | undefined;
  let redis: PrivateRedis | undefined;
  let database: string | undefined;
  const nodes: GmnetServer[] = [];
  const started: GmnetServer[] = [];
  const clients: Closable[] = [];
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the cluster's ${what} is not started yet (used before beforeAll?)`);
    return value;
  };

  const cluster: TestCluster = {
    nodes,
    get postgres() {
      return ready(postgres, "PostgreSQL");
    },
    get redis() {
      return ready(redis, "Redis");
    },
    get database() {
      return ready(database, "database");
    },
    async startNode(nodeId, options = {}) {
      const id = nodeId === undefined ? {} : { nodeId };
      const node = await startServer({ ...FAST_HASHES, database: cluster.database, db: "/nonexistent/never-opened.sqlite", redis: cluster.redis.url, ...setup.options, ...id, ...options });
      started.push(node);
      return node;
    },
    track(client) {
      clients.push(client);
      return client;
    },
    closeClients() {
      for (const client of clients.splice(0)) client.close();
    },
    async clientOn(server, options = {}) {
      const client = cluster.track(await ProtocolClient.connect(server.address().wsUrl, { appKey: setup.appKey, ...options }));
      await barrier(client);
      return client;
    },
  };

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    database = await postgres.createDatabase(setup.database);
    nodes.push(...(await Promise.all((setup.nodes ?? []).map((id) => cluster.startNode(id)))));
  }, 120_000);

  afterEach(() => cluster.closeClients());

  afterAll(async () => {
    cluster.closeClients();
    // close() is idempotent: nodes a test closed itself are passed over.
    await Promise.all(started.map((node) => node.close()));
    await redis?.stop();
    await postgres?.stop();
  }, 60_000);

  return cluster;
}
