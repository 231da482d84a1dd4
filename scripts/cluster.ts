/**
 * `npm run cluster`: a local three-node gmnet network to try multi-node (PROTOCOL.md §15) on one
 * machine. A private Redis and PostgreSQL on free ports in temp folders (the test starters, so
 * nothing touches a system instance), three `npm start` servers as child processes (node ids 1–3,
 * each serving the built playground), and in front of them a round-robin TCP load balancer on PORT
 * (default 8080) and GMNET_HOST (default 127.0.0.1): a browser at the entry URL lands on any node,
 * and its WebSocket upgrade passes through as plain TCP. Arguments go to every node
 * (`npm run cluster -- --tick-rate 30`); GMNET_LOG_LEVEL defaults to warn here.
 *
 * Ctrl-C drains the nodes, stops Redis and PostgreSQL and removes their folders; a second Ctrl-C
 * exits at once. The nodes are child processes so one can be killed to watch the others carry on
 * (the balancer skips a node that refuses connections).
 */
import { fileURLToPath } from "node:url";
import { type NodeProcess, createBalancer, hasExited, spawnNode } from "../signaling-server/test/support/node-processes.js";
import { type PrivatePostgres, startPrivatePostgres } from "../signaling-server/test/support/private-postgres.js";
import { type PrivateRedis, startPrivateRedis } from "../signaling-server/test/support/private-redis.js";
import { onStopSignals } from "../signaling-server/src/stop-signals.js";

const NODE_IDS = [1, 2, 3] as const;
/** How long a node may take to drain when told to stop. */
const DRAIN_TIMEOUT_MS = 15_000;

const startScript = fileURLToPath(new URL("./start.mjs", import.meta.url));
const entryHost = process.env.GMNET_HOST ?? "127.0.0.1";
const entryPort = Number(process.env.PORT ?? 8080);

let redis: PrivateRedis | undefined;
let postgres: PrivatePostgres | undefined;
const nodes: NodeProcess[] = [];
let databaseUrl = "";

async function startNode(id: number): Promise<NodeProcess> {
  const node = await spawnNode({
    id,
    redisUrl: redis!.url,
    databaseUrl,
    args: [startScript, ...process.argv.slice(2)],
    // Its own process group: a terminal's Ctrl-C reaches this script, not the node, so the node gets
    // one SIGTERM from stop() (a second signal would make it exit without draining). Redis, started
    // in ours, does get the Ctrl-C and shuts down at once; the draining nodes only lose the chance to
    // remove their routes, which go with it.
    detached: true,
    // Each line prefixed with the node's id, so three nodes' output stays readable.
    output: (line, stream) => (stream === "stdout" ? process.stdout : process.stderr).write(`node ${id} | ${line}\n`),
  });
  nodes.push(node);
  return node;
}

/** Set once every node answered /healthz: until then the entry holds no nodes to hand connections to. */
let serving = false;
const entry = createBalancer(() => (serving ? nodes : []));

let stopping = false;
/** Drains the nodes (SIGTERM: DRAIN to clients, then exit), then stops the services; a second signal exits at once. */
async function stop(exitCode: number): Promise<never> {
  entry.close();
  await Promise.all(
    nodes.map(async (node) => {
      if (hasExited(node)) return;
      node.child.kill("SIGTERM");
      const timer = setTimeout(() => node.child.kill("SIGKILL"), DRAIN_TIMEOUT_MS);
      await node.exited;
      clearTimeout(timer);
    }),
  );
  for (const service of [redis, postgres]) {
    await service?.stop().catch((error: unknown) => console.error(`gmnet cluster: while stopping: ${error instanceof Error ? error.message : String(error)}`));
  }
  if (exitCode === 0) console.log("gmnet cluster: stopped; Redis and PostgreSQL removed");
  process.exit(exitCode);
}

onStopSignals({
  drain() {
    stopping = true;
    console.log("gmnet cluster: draining the nodes, then stopping Redis and PostgreSQL (Ctrl-C again to exit at once)");
    void stop(0);
  },
  exitNow() {
    // The services' exit hooks kill Redis and PostgreSQL and remove their folders.
    for (const node of nodes) node.child.kill("SIGKILL");
    process.exit(1);
  },
});
process.once("exit", () => {
  for (const node of nodes) if (!hasExited(node)) node.child.kill("SIGKILL");
});

let step = `the load balancer on ${entryHost}:${process.env.PORT ?? 8080}`;
try {
  // First, so a port in use fails before anything else is started.
  if (!Number.isInteger(entryPort) || entryPort < 1 || entryPort > 65535) throw new Error("PORT must be a port number (1–65535)");
  await new Promise<void>((resolve, reject) => {
    entry.once("error", reject);
    entry.listen(entryPort, entryHost, () => resolve());
  });
  entry.on("error", (error) => console.error(`gmnet cluster: load balancer: ${error.message}`));
  step = "Redis and PostgreSQL";
  [redis, postgres] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
  databaseUrl = await postgres.createDatabase("gmnet");
  step = "the nodes";
  await Promise.all(NODE_IDS.map(startNode));
  nodes.sort((a, b) => a.id - b.id);
  serving = true;
} catch (error) {
  // Ctrl-C while starting: that signal's stop() is under way and exits the process.
  if (stopping) await new Promise(() => undefined);
  console.error(`gmnet cluster: cannot start ${step}: ${error instanceof Error ? error.message : String(error)}`);
  stopping = true;
  await stop(1);
}

for (const node of nodes) {
  void node.exited.then((code) => {
    if (!stopping) console.log(`gmnet cluster: node ${node.id} exited (${code}); the load balancer skips it`);
  });
}
const entryUrl = `http://${entryHost.includes(":") ? `[${entryHost}]` : entryHost}:${entryPort}`;
console.log(`gmnet cluster: three nodes behind one entry; open ${entryUrl} (WebSocket ${entryUrl.replace(/^http/, "ws")}/ws)`);
for (const node of nodes) console.log(`  node ${node.id}: ${node.url}  (pid ${node.child.pid}; kill -TERM drains it, kill -KILL ends it at once)`);
console.log(`  Redis:      ${redis!.url}`);
console.log(`  PostgreSQL: ${databaseUrl}`);
console.log("Ctrl-C drains the nodes and removes Redis and PostgreSQL with their data.");
