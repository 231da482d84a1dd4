/**
 * Cluster benchmark (`npm run bench` runs it after the relay benchmark; gmnet issue 18):
 *
 *   node --import tsx signaling-server/bench/cluster.bench.ts [options]
 *
 * A private PostgreSQL and a private Redis (signaling-server/test/support; scripts/ensure-postgres.sh
 * and ensure-redis.sh install them) join three gmnet nodes (`database`, `redis`, node ids 1–3) into
 * one network (PROTOCOL.md §15); a fourth gmnet server without them is the single-node baseline.
 * Every server runs in a child process of its own (relay/server-child.ts), so its CPU time
 * excludes the clients, which run here; redis-server's is read from /proc. The relay benchmark's
 * clients and load generator are used as they are: resumable sessions, a virtual-socket connect,
 * then each sender keeps `--window` ARBITRARY_DATA messages in flight to its receiver.
 *
 * 1. Relay across nodes, in one run: both clients of every pair on the single node (the baseline),
 *    on cluster node 1 (same node), and senders on node 1 with receivers on node 2 (cross node, every
 *    message through node 2's Redis stream): delivered msg/s, server CPU µs per message (all nodes
 *    summed; Redis apart) and the round trip over a virtual stream (p50, p99) with nothing else running.
 *    Then the same two cluster cases with durable sessions (`durableSessions: true`, PROTOCOL.md §15
 *    "Resume on another node"), on a second cluster of two nodes (ids 11 and 12) with a private Redis
 *    and a database of its own, so its Redis CPU and command counts are its alone and its session
 *    logs never sit in the first cluster's Redis: every frame for a session is appended to the
 *    session's log by a Lua script (one per event-loop turn per node), the client is sent what the
 *    hint in its node's stream brings back (through Redis even when both ends share a node), and a
 *    sender's frames are acknowledged once their effects are written. Durable mode applies to
 *    resumable sessions only: with `--session plain` these rows are skipped, with a note.
 * 2. Throughput of 1, 2 and 3 nodes, the same load: all pairs on node 1; pair i's sender on node
 *    i mod n + 1 and its receiver on the next node (so every message crosses nodes and every node
 *    hosts senders and receivers); with the CPU load of every process, to show what limits.
 *
 * The servers stay up for the whole run (nodes without clients idle; their CPU is counted in their
 * cluster's sum; the durable cluster idles during the other cases). Options (the relay benchmark's,
 * with the same meaning):
 *
 *   --markdown   also print Markdown tables        --rounds N     rounds (default 3); medians over them
 *   --duration MS  measured time per case (default 2500), after --warmup MS (default 500)
 *   --pairs N    pairs (default 10)   --window N  in flight per pair (default 128)   --size BYTES (64)
 *   --session resumable|plain   --sender message|task
 *   --pings N    round trips per RTT measurement (default 1000), or fewer when they take longer
 *                than --latency-time MS (default 500) (as the network benchmark)
 *
 * `npm run bench -- <args>` passes the same arguments to every benchmark, so the other benchmarks'
 * options are accepted and ignored (the relay benchmark's --only, --relay and --server-cpu-prof
 * too: this one always relays ARBITRARY_DATA on virtual sockets, the path that crosses nodes through
 * the streams). Other jobs on the machine compete for its cores: the output shows how much CPU they
 * took meanwhile ("other processes", from /proc/stat).
 */
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { parseBenchArgs } from "../../scripts/bench-args.js";
import { type PrivatePostgres, startPrivatePostgres } from "../test/support/private-postgres.js";
import { type PrivateRedis, startPrivateRedis } from "../test/support/private-redis.js";
import { type CpuSource, type LoadMeasurement, type LoadOptions, type Placement, measureLoad, measureRtt } from "./cluster-measure.js";
import { findProcess, machineCpuMicros, processCpuMicros } from "./process-cpu.js";
import type { ServerKind, ServerOverrides } from "./relay/config.js";
import { ServerChild, serveChild } from "./relay/server-child.js";

interface Options extends LoadOptions {
  markdown: boolean;
  rounds: number;
  pings: number;
  latencyTimeMs: number;
}

function parseOptions(argv: readonly string[]): Options {
  const args = parseBenchArgs(
    argv,
    "usage: node --import tsx signaling-server/bench/cluster.bench.ts [--markdown] [--rounds 3] [--duration 2500] [--warmup 500] [--pairs 10] [--window 128] [--size 64] " +
      "[--session resumable|plain] [--sender message|task] [--pings 1000] [--latency-time 500]",
  );
  return {
    markdown: args.markdown,
    rounds: args.count("rounds", 1, 3),
    durationMs: args.count("duration", 100, 2500),
    warmupMs: args.count("warmup", 0, 500),
    pairs: args.count("pairs", 1, 10),
    window: args.count("window", 1, 128),
    size: args.count("size", 4, 64),
    pings: args.count("pings", 1, 1000),
    latencyTimeMs: args.count("latency-time", 1, 500),
    session: args.choice("session", ["resumable", "plain"] as const, "resumable"),
    sender: args.choice("sender", ["message", "task"] as const, "task"),
  };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The nearest-rank percentile of `samples`. */
const percentile = (samples: readonly number[], p: number): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};

const NODES = [1, 2, 3] as const;
/** The cluster with durable sessions: ids apart from the first cluster's, so its rows name nodes no other row does. */
const DURABLE_NODES = [11, 12] as const;
const nodeName = (id: number): string => `node ${id}`;
const SINGLE = "single node";
const REDIS = "redis-server";
const DURABLE_REDIS = "redis-server (durable)";
/** Every process on the machine (/proc/stat), ours included. */
const MACHINE = "machine";

/** One measured case: where the pairs go, which servers' CPU counts as "nodes", whether the RTT is measured. */
interface Case {
  readonly id: string;
  readonly label: string;
  readonly placements: (servers: Servers) => Placement[];
  /** Names of the CpuSources summed as the servers' CPU. */
  readonly nodes: readonly string[];
  /** Name of the CpuSource of the cluster's Redis (undefined: the single node, no Redis). */
  readonly redis: string | undefined;
  readonly rtt: boolean;
}

interface Servers {
  single: string;
  node: (id: number) => string;
}

/** The cases; the durable ones only with `durable` (resumable sessions). */
function casesFor(pairs: number, durable: boolean): Case[] {
  const same = (url: (servers: Servers) => string) => (servers: Servers) => Array.from({ length: pairs }, () => ({ sender: url(servers), receiver: url(servers) }));
  const cross = (from: number, to: number) => (servers: Servers) => Array.from({ length: pairs }, () => ({ sender: servers.node(from), receiver: servers.node(to) }));
  /** Pair i: sender on node i mod n + 1, receiver on the next node (mod n). */
  const spread = (n: number) => (servers: Servers) => Array.from({ length: pairs }, (_, i) => ({ sender: servers.node((i % n) + 1), receiver: servers.node(((i + 1) % n) + 1) }));
  const cluster = NODES.map(nodeName);
  const durableCluster = DURABLE_NODES.map(nodeName);
  const [first, second] = DURABLE_NODES;
  return [
    { id: "single", label: "single node, no cluster (baseline)", placements: same((s) => s.single), nodes: [SINGLE], redis: undefined, rtt: true },
    { id: "same", label: "cluster, same node (both ends on node 1)", placements: same((s) => s.node(1)), nodes: cluster, redis: REDIS, rtt: true },
    { id: "cross", label: "cluster, cross node (node 1 → node 2)", placements: cross(1, 2), nodes: cluster, redis: REDIS, rtt: true },
    ...(durable
      ? [
          { id: "durable-same", label: `cluster + durable sessions, same node (both ends on node ${first})`, placements: same((s) => s.node(first)), nodes: durableCluster, redis: DURABLE_REDIS, rtt: true },
          { id: "durable-cross", label: `cluster + durable sessions, cross node (node ${first} → node ${second})`, placements: cross(first, second), nodes: durableCluster, redis: DURABLE_REDIS, rtt: true },
        ]
      : []),
    { id: "spread2", label: "2 nodes", placements: spread(2), nodes: cluster, redis: REDIS, rtt: false },
    { id: "spread3", label: "3 nodes", placements: spread(3), nodes: cluster, redis: REDIS, rtt: false },
  ];
}

interface Result {
  readonly load: LoadMeasurement;
  /** Per-round RTT p50 and p99 (ms), when measured. */
  readonly rtt: { p50: number; p99: number; count: number } | undefined;
  /** XADD and XREAD calls Redis served per second during the load (set-up and warm-up included; XADDs in scripts too). */
  readonly xaddPerSecond: number;
  readonly xreadPerSecond: number;
  /** Script calls (EVALSHA, EVAL) per second: the durable sessions' writes, one per event-loop turn per node. */
  readonly scriptsPerSecond: number;
}

/** Calls per command so far, from INFO commandstats (`cmdstat_xadd:calls=…`). */
async function redisCalls(redis: PrivateRedis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const [, command, count] of String(await redis.call("INFO", "commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(command!, Number(count));
  return calls;
}

// ------------------------------------------------------------------ tables

const integer = (value: number): string => Math.round(value).toLocaleString("en-US");
const ratio = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? "—" : `${value.toFixed(2)}×`);
const percent = (value: number): string => (Number.isFinite(value) ? `${Math.round(value * 100)} %` : "—");
const micros = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : "—");
const ms = (value: number | undefined): string => (value === undefined ? "—" : `${value.toFixed(3)} ms`);

function plainTable(header: readonly string[], body: readonly string[][], leftColumns: number): string {
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((line) => line[column]!.length)));
  const format = (line: readonly string[]) => line.map((cell, column) => (column < leftColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [format(header), widths.map((width) => "-".repeat(width)).join("  "), ...body.map(format)].join("\n");
}

function markdownTable(header: readonly string[], body: readonly string[][], leftColumns: number): string {
  const line = (values: readonly string[]) => `| ${values.join(" | ")} |`;
  return [line(header), line(header.map((_, column) => (column < leftColumns ? "---" : "---:"))), ...body.map(line)].join("\n");
}

// ------------------------------------------------------------------ run

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const serveAt = argv.indexOf("--serve");
  if (serveAt >= 0) {
    const overridesAt = argv.indexOf("--overrides");
    return serveChild(argv[serveAt + 1] as ServerKind, overridesAt >= 0 ? (JSON.parse(argv[overridesAt + 1]!) as ServerOverrides) : {});
  }
  const options = parseOptions(argv);
  const script = fileURLToPath(import.meta.url);
  const started = performance.now();
  const cores = availableParallelism();

  // Durable sessions are resumable sessions kept in Redis: with plain sessions there is nothing to keep.
  const durable = options.session === "resumable";
  let postgres: PrivatePostgres | undefined;
  const redises = new Map<string, PrivateRedis>();
  const children: ServerChild[] = [];
  try {
    let redis: PrivateRedis;
    [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    redises.set(REDIS, redis);
    const database = await postgres.createDatabase("gmnet_cluster_bench");
    const nodeOverrides: ServerOverrides[] = NODES.map((nodeId) => ({ database, redis: redis.url, nodeId }));
    if (durable) {
      const durableRedis = await startPrivateRedis();
      redises.set(DURABLE_REDIS, durableRedis);
      const durableDatabase = await postgres.createDatabase("gmnet_cluster_bench_durable");
      nodeOverrides.push(...DURABLE_NODES.map((nodeId) => ({ database: durableDatabase, redis: durableRedis.url, nodeId, durableSessions: true })));
    }
    const redisVersion = /redis_version:(\S+)/.exec(String(await redis.call("INFO", "server")))?.[1] ?? "?";
    const start = (overrides: ServerOverrides) => ServerChild.start(script, "gmnet", overrides, undefined).then((child) => (children.push(child), child));
    const nodes = await Promise.all(nodeOverrides.map((overrides) => start(overrides)));
    const single = await start({});
    const nodeIds = nodeOverrides.map((overrides) => overrides.nodeId!);
    const nodeUrls = new Map(nodeIds.map((id, i) => [id, nodes[i]!.url]));
    const servers: Servers = { single: single.url, node: (id) => nodeUrls.get(id)! };
    const redisPids = new Map([...redises].map(([name, instance]) => [name, findProcess("redis-server", instance.port)]));
    const sources: CpuSource[] = [
      { name: SINGLE, micros: () => single.cpuMicros() },
      ...nodes.map((node, i) => ({ name: nodeName(nodeIds[i]!), micros: () => node.cpuMicros() })),
      ...[...redisPids].map(([name, pid]) => ({ name, micros: () => Promise.resolve(pid === undefined ? Number.NaN : processCpuMicros(pid)) })),
      { name: MACHINE, micros: () => Promise.resolve(machineCpuMicros()) },
    ];

    console.log(
      `\ngmnet cluster benchmark: ${options.pairs} pairs, ${options.size}-byte messages, ${options.window} in flight per pair, ` +
        `${options.warmupMs} ms warm-up + ${options.durationMs} ms per case, ${options.rounds} round(s); ${options.session} sessions, ` +
        `senders write ${options.sender === "message" ? "one WebSocket message per message" : "one WebSocket message per task"}; ` +
        `3 cluster nodes (a private PostgreSQL, a private Redis ${redisVersion}), ` +
        (durable ? `2 cluster nodes with durable sessions (a second private Redis and database of their own) ` : "") +
        `and a single node, each in a child process; ` +
        `clients in this one; loopback; ${cores} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), Node ${process.version}` +
        ([...redisPids.values()].includes(undefined) ? "; redis-server's CPU cannot be read here (no /proc)" : ""),
    );
    if (!durable) console.log("The durable-session rows are skipped: durable sessions (--durable-sessions) keep resumable sessions, so with --session plain they would measure the in-memory cluster again.");

    const cases = casesFor(options.pairs, durable);
    const rounds: Array<Map<string, Result>> = [];
    for (let round = 0; round < options.rounds; round++) {
      const results = new Map<string, Result>();
      // Odd rounds run the cases in reverse order, so a warmer JIT or a fuller Redis does not favour one case.
      for (const c of round % 2 === 0 ? cases : [...cases].reverse()) {
        const placements = c.placements(servers);
        let rtt: Result["rtt"];
        if (c.rtt) {
          const samples = await measureRtt(placements[0]!, options, options.pings, options.latencyTimeMs);
          rtt = { p50: percentile(samples, 50), p99: percentile(samples, 99), count: samples.length };
        }
        // The single node uses no Redis: the first cluster's counts then show that nothing went there.
        const caseRedis = redises.get(c.redis ?? REDIS)!;
        const [callsBefore, loadStarted] = [await redisCalls(caseRedis), performance.now()];
        const load = await measureLoad(c.label, placements, sources, options);
        const [callsAfter, loadSeconds] = [await redisCalls(caseRedis), (performance.now() - loadStarted) / 1000];
        const rate = (...commands: string[]) => commands.reduce((sum, command) => sum + (callsAfter.get(command) ?? 0) - (callsBefore.get(command) ?? 0), 0) / loadSeconds;
        results.set(c.id, { load, rtt, xaddPerSecond: rate("xadd"), xreadPerSecond: rate("xread"), scriptsPerSecond: rate("evalsha", "eval") });
        console.log(`  round ${round + 1}/${options.rounds}: ${c.label}: ${integer(load.messagesPerSecond)} msg/s${rtt ? `, RTT p50 ${ms(rtt.p50)}` : ""}`);
      }
      rounds.push(results);
    }

    const all = (c: Case) => rounds.map((round) => round.get(c.id)!);
    const nodesCpu = (c: Case, r: Result) => c.nodes.reduce((sum, name) => sum + r.load.cpuPerMessageUs.get(name)!, 0);
    const nodesLoad = (c: Case, r: Result) => c.nodes.reduce((sum, name) => sum + r.load.load.get(name)!, 0);
    /** Median over rounds of this case's figure ÷ the base case's in the same round. */
    const versus = (c: Case, base: Case, pick: (c: Case, r: Result) => number | undefined): number =>
      median(rounds.map((round) => (pick(c, round.get(c.id)!) ?? Number.NaN) / (pick(base, round.get(base.id)!) ?? Number.NaN)));
    const med = (c: Case, pick: (r: Result) => number) => median(all(c).map(pick));
    /** The per-process loads of a case (median over rounds): the servers it counts, its cluster's redis-server, this process. */
    const loads = (c: Case) => [
      ...c.nodes.map((name) => ({ name, load: med(c, (r) => r.load.load.get(name)!) })),
      ...(c.redis === undefined ? [] : [{ name: c.redis, load: med(c, (r) => r.load.load.get(c.redis!)!) }]),
      { name: "clients", load: med(c, (r) => r.load.clientLoad) },
    ];
    const busiest = (c: Case) => {
      const sorted = loads(c).filter((p) => Number.isFinite(p.load)).sort((a, b) => b.load - a.load);
      return sorted[0] === undefined ? "—" : `${sorted[0].name} ${percent(sorted[0].load)}`;
    };
    const total = (c: Case) => `${percent(loads(c).reduce((sum, p) => sum + (Number.isFinite(p.load) ? p.load : 0), 0))} of ${cores * 100} %`;
    /** What other processes used meanwhile: the machine's CPU minus all of ours (idle servers included). */
    const others = (r: Result) => r.load.load.get(MACHINE)! - r.load.clientLoad - sources.reduce((sum, source) => (source.name === MACHINE ? sum : sum + (r.load.load.get(source.name) || 0)), 0);
    const othersLoad = (c: Case) => Math.max(0, med(c, others));
    const byId = (id: string) => cases.find((c) => c.id === id)!;
    const [base, same] = [byId("single"), byId("same")];

    const relayHeader = ["case", "msg/s delivered", "vs single", "nodes CPU µs/msg", "vs single", "Redis CPU µs/msg", "RTT p50", "vs single", "RTT p99", "vs single", "busiest process", "all processes", "other processes"];
    const relayCases = cases.filter((c) => c.rtt);
    const relayBody = relayCases.map((c) => [
      c.label,
      integer(med(c, (r) => r.load.messagesPerSecond)),
      ratio(versus(c, base, (_, r) => r.load.messagesPerSecond)),
      micros(med(c, (r) => nodesCpu(c, r))),
      ratio(versus(c, base, nodesCpu)),
      c.redis === undefined ? "—" : micros(med(c, (r) => r.load.cpuPerMessageUs.get(c.redis!)!)),
      ms(med(c, (r) => r.rtt!.p50)),
      ratio(versus(c, base, (_, r) => r.rtt?.p50)),
      ms(med(c, (r) => r.rtt!.p99)),
      ratio(versus(c, base, (_, r) => r.rtt?.p99)),
      busiest(c),
      total(c),
      percent(othersLoad(c)),
    ]);
    const scaleCases: Array<[string, Case]> = [
      ["1", same],
      ["2", byId("spread2")],
      ["3", byId("spread3")],
    ];
    const scaleHeader = ["nodes", "msg/s delivered", "vs 1 node", "nodes CPU µs/msg", "Redis CPU µs/msg", "CPU of node 1 / 2 / 3", "nodes CPU", "Redis CPU", "client CPU", "all processes", "other processes"];
    const scaleBody = scaleCases.map(([n, c]) => [
      n,
      integer(med(c, (r) => r.load.messagesPerSecond)),
      ratio(versus(c, same, (_, r) => r.load.messagesPerSecond)),
      micros(med(c, (r) => nodesCpu(c, r))),
      micros(med(c, (r) => r.load.cpuPerMessageUs.get(REDIS)!)),
      NODES.map((id) => percent(med(c, (r) => r.load.load.get(nodeName(id))!)).replace(" %", "")).join(" / ") + " %",
      percent(med(c, (r) => nodesLoad(c, r))),
      percent(med(c, (r) => r.load.load.get(REDIS)!)),
      percent(med(c, (r) => r.load.clientLoad)),
      total(c),
      percent(othersLoad(c)),
    ]);

    console.log("");
    console.log(plainTable(relayHeader, relayBody, 1));
    console.log("");
    console.log(plainTable(scaleHeader, scaleBody, 0));
    if (options.markdown) {
      console.log("");
      console.log(markdownTable(relayHeader, relayBody, 1));
      console.log("");
      console.log(markdownTable(scaleHeader, scaleBody, 0));
    }
    // What limits each case: how busy the machine's cores were, and by whom.
    console.log("");
    for (const c of [...relayCases, ...scaleCases.slice(1).map(([, c]) => c)]) {
      const machine = med(c, (r) => r.load.load.get(MACHINE)!);
      const [xadds, xreads, scripts] = [med(c, (r) => r.xaddPerSecond), med(c, (r) => r.xreadPerSecond), med(c, (r) => r.scriptsPerSecond)];
      const messages = med(c, (r) => r.load.messagesPerSecond);
      const redisWork =
        c.redis === DURABLE_REDIS
          ? // INFO commandstats counts the commands a script runs: its XADDs (a log entry per frame, a hint per session) are among the XADDs.
            `; Redis ran ${integer(scripts)} scripts/s (${integer(messages / scripts)} messages delivered per script) and served ${integer(xadds)} XADD/s (log entries and hints, in the scripts) and ${integer(xreads)} XREAD/s`
          : xadds >= 1 && xreads >= 1
            ? `; Redis served ${integer(xadds)} XADD/s and ${integer(xreads)} XREAD/s (${(xadds / xreads).toFixed(1)} stream entries per XREAD)`
            : "";
      console.log(
        `${c.label}: the ${cores} cores were ${percent(machine)} of ${cores * 100} % busy (ours ${total(c).split(" of ")[0]}, other processes ${percent(othersLoad(c))}); ` +
          `busiest process: ${busiest(c)} (100 % = one core: the limit of one Node event loop or of redis-server's main thread)` +
          redisWork,
      );
    }
    const worstOthers = Math.max(...cases.map(othersLoad));
    if (worstOthers >= 0.1) {
      console.log(`NOTE: other processes on this machine used up to ${percent(worstOthers)} (100 % = one core) during a case; they competed for the same ${cores} cores, so these figures are not those of an otherwise idle machine.`);
    }
    const pings = median(rounds.map((round) => round.get("cross")!.rtt!.count));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `\nmsg/s = messages received by the ${options.pairs} receivers per second (checked in order, none lost); ` +
        `nodes CPU µs/msg = user+system CPU time of the gmnet server processes (the single node, or all 3 cluster nodes summed, idle ones included) / messages delivered; ` +
        `Redis CPU µs/msg = redis-server's CPU time (/proc) / messages delivered; "vs single" = the case / the single node in the same round (median over rounds); ` +
        (durable
          ? `"durable sessions" = a second cluster of 2 nodes (ids ${DURABLE_NODES.join(" and ")}, both summed) with --durable-sessions and a Redis and database of its own: ` +
            `every frame sent to a session goes into its log in Redis by a script (one per event-loop turn per node) and reaches the client through the hint in its node's stream, same node or not, ` +
            `and a sender's frames are acknowledged once written; the Redis column is that Redis; `
          : "") +
        `RTT = one client pings another over a virtual stream (ARBITRARY_DATA, echoed on the same connId), one at a time with nothing else running ` +
        `(${integer(pings)} round trips per round in the cross-node case), p50 and p99 medians over rounds; ` +
        `"N nodes" = pair i's sender on node i mod N + 1, its receiver on the next node (1 node: the same-node case); ` +
        `CPU load = CPU time / wall time (100 % = one core); "all processes" = ours: the servers counted, redis-server and this client process, of ${cores} cores × 100 %; ` +
        `"other processes" = the machine's CPU time (/proc/stat) minus all of ours. ` +
        `PostgreSQL is only used when clients connect (identities), not while messages flow, and is not measured. ` +
        `Every process here shares this machine's ${cores} cores: once "all processes" nears ${cores * 100} %, adding nodes moves CPU around instead of adding any. (${seconds} s)`,
    );
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await Promise.all([...redises.values()].map((instance) => instance.stop()));
    await postgres?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
