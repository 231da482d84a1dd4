/**
 * Relay benchmark entry (`npm run bench` runs it after the buffer benchmark):
 *
 *   node --import tsx signaling-server/bench/run.ts [options]
 *
 *   --markdown        also print a Markdown table
 *   --rounds N        rounds of every configuration (default 3); figures are medians over them
 *   --duration MS     measured time per configuration (default 2500), after --warmup MS (default 500)
 *   --pairs N         sender/receiver pairs (default 10)
 *   --window N        messages in flight per pair (default 128: with 10 pairs, the saturation test
 *                     of issue 12. Under "tickRate 60" a pair delivers at most window × 60 msg/s;
 *                     the default config flushes at the end of every event-loop turn and has no
 *                     such cap)
 *   --size BYTES      application bytes per message (default 64)
 *   --only bare,default,unbatched,tick60  configurations to run (default all four):
 *                     bare       a `ws` server that forwards each message of a pair's A to its B
 *                     default    gmnet with its defaults (end-of-turn batching, rateLimitBytes on)
 *                     unbatched  gmnet with batching: false (every frame its own WebSocket message)
 *                     tick60     gmnet with tickRate 60 (a batch per priority every 16.7 ms)
 *   --relay auto|vsocket|app-channel  gmnet relay path (default auto: ARBITRARY_DATA on a virtual
 *                     socket if the server implements them, else an app channel, and says so)
 *   --session resumable|plain  gmnet sessions (default resumable, as the engine opens them:
 *                     HELLO + RESUME, and ACKs of the server's sequenced frames; plain: HELLO alone)
 *   --sender message|task  how gmnet senders write (default task: what one task sends as one
 *                     WebSocket message, as the engine does; message: every message its own
 *                     WebSocket message, as the bare clients must, so the server reads as many
 *                     messages as the bare forwarder does)
 *   --server-cpu-prof DIR  write a V8 CPU profile of every server's measured time to
 *                     DIR/<configuration>-<round>.cpuprofile (open in Chrome DevTools); the
 *                     profiler costs some CPU, so figures from such a run are not comparable
 *
 * `npm run bench -- <args>` passes the same arguments to every benchmark, so this one also
 * accepts the buffer benchmark's --filter, --in-process, --time and --warmup-time and the network
 * benchmark's --configs, --pings, --latency-time and --sizes, and ignores them; --markdown and
 * --rounds apply to all.
 *
 * Every configuration runs its server in a fresh child process (this script with --serve):
 * "server CPU" is that process's user+system time, the clients' work is in this process.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseBenchArgs } from "../../scripts/bench-args.js";
import { measure } from "./relay.bench.js";
import { CONFIGS, type Measurement, type RelayOptions, type ServerKind, type ServerOverrides } from "./relay/config.js";
import { serveChild } from "./relay/server-child.js";

interface Options extends RelayOptions {
  markdown: boolean;
  rounds: number;
  only: string[];
  /** Directory for the servers' CPU profiles (--server-cpu-prof). */
  profileDir: string | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  const ids = CONFIGS.map((c) => c.id);
  const args = parseBenchArgs(
    argv,
    "usage: node --import tsx signaling-server/bench/run.ts [--markdown] [--rounds 3] [--duration 2500] [--warmup 500] [--pairs 10] [--window 128] [--size 64] " +
      `[--only ${ids.join(",")}] [--relay auto|vsocket|app-channel] [--session resumable|plain] [--sender message|task] [--server-cpu-prof DIR]`,
  );
  const only = args.text("only")?.split(",").filter(Boolean) ?? ids;
  const unknown = only.filter((id) => !ids.includes(id));
  if (unknown.length > 0 || only.length === 0) throw new Error(`--only takes ${ids.join(",")}, not ${unknown.join(",")}`);
  return {
    markdown: args.markdown,
    rounds: args.count("rounds", 1, 3),
    only,
    pairs: args.count("pairs", 1, 10),
    window: args.count("window", 1, 128),
    size: args.count("size", 4, 64),
    warmupMs: args.count("warmup", 0, 500),
    durationMs: args.count("duration", 100, 2500),
    relay: args.choice("relay", ["auto", "vsocket", "app-channel"] as const, "auto"),
    session: args.choice("session", ["resumable", "plain"] as const, "resumable"),
    sender: args.choice("sender", ["message", "task"] as const, "task"),
    profileDir: args.text("server-cpu-prof"),
  };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

interface Row {
  label: string;
  path: string;
  messagesPerSecond: number;
  /** Median of per-round gmnet/bare ratios (undefined without a bare run). */
  throughputRatio: number | undefined;
  cpuPerMessageUs: number;
  cpuRatio: number | undefined;
  serverLoad: number;
  clientLoad: number;
  perWsMessage: number;
}

const HEADER = ["configuration", "relay path", "msg/s delivered", "vs bare", "server CPU µs/msg", "vs bare", "server CPU", "client CPU", "msgs per WS msg at B"] as const;

const integer = (value: number): string => Math.round(value).toLocaleString("en-US");
const ratio = (value: number | undefined): string => (value === undefined ? "—" : `${value.toFixed(2)}×`);
const percent = (value: number): string => `${Math.round(value * 100)} %`;

function cells(row: Row): string[] {
  return [
    row.label,
    row.path,
    integer(row.messagesPerSecond),
    ratio(row.throughputRatio),
    row.cpuPerMessageUs.toFixed(2),
    ratio(row.cpuRatio),
    percent(row.serverLoad),
    percent(row.clientLoad),
    row.perWsMessage.toFixed(1),
  ];
}

function plainTable(rows: readonly Row[]): string {
  const body = rows.map(cells);
  const widths = HEADER.map((title, column) => Math.max(title.length, ...body.map((line) => line[column]!.length)));
  const format = (line: readonly string[]) => line.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [format(HEADER), widths.map((width) => "-".repeat(width)).join("  "), ...body.map(format)].join("\n");
}

function markdownTable(rows: readonly Row[]): string {
  const line = (values: readonly string[]) => `| ${values.join(" | ")} |`;
  return [line(HEADER), "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", ...rows.map((row) => line(cells(row)))].join("\n");
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const serveAt = argv.indexOf("--serve");
  if (serveAt >= 0) {
    const overridesAt = argv.indexOf("--overrides");
    const profileAt = argv.indexOf("--profile");
    return serveChild(
      argv[serveAt + 1] as ServerKind,
      overridesAt >= 0 ? (JSON.parse(argv[overridesAt + 1]!) as ServerOverrides) : {},
      profileAt >= 0 ? argv[profileAt + 1] : undefined,
    );
  }

  const options = parseOptions(argv);
  const script = fileURLToPath(import.meta.url);
  const configs = CONFIGS.filter((c) => options.only.includes(c.id));
  const started = performance.now();
  if (options.profileDir !== undefined) mkdirSync(options.profileDir, { recursive: true });
  console.log(
    `\ngmnet relay benchmark: ${options.pairs} pairs, ${options.size}-byte messages, ${options.window} in flight per pair, ` +
      `${options.warmupMs} ms warm-up + ${options.durationMs} ms per configuration, ${options.rounds} round(s); ${options.session} gmnet sessions, ` +
      `gmnet senders write ${options.sender === "message" ? "one WebSocket message per message" : "one WebSocket message per task"}; ` +
      `server in a child process, clients in this one, loopback; Node ${process.version}`,
  );

  // rounds[r][config id]; odd rounds run the configurations in reverse order.
  const rounds: Array<Map<string, Measurement>> = [];
  for (let round = 0; round < options.rounds; round++) {
    const results = new Map<string, Measurement>();
    const order = round % 2 === 0 ? configs : [...configs].reverse();
    for (const config of order) {
      const profile = options.profileDir === undefined ? undefined : join(options.profileDir, `${config.id}-${round + 1}.cpuprofile`);
      const result = await measure(config, options, script, profile);
      results.set(config.id, result);
      console.log(`  round ${round + 1}/${options.rounds}: ${config.label}: ${integer(result.messagesPerSecond)} msg/s`);
    }
    rounds.push(results);
  }

  const rows: Row[] = configs.map((config) => {
    const all = rounds.map((round) => round.get(config.id)!);
    const versusBare = (pick: (m: Measurement) => number): number | undefined => {
      if (!rounds.every((round) => round.has("bare"))) return undefined;
      return median(rounds.map((round) => pick(round.get(config.id)!) / pick(round.get("bare")!)));
    };
    return {
      label: config.label,
      path: all[0]!.path,
      messagesPerSecond: median(all.map((m) => m.messagesPerSecond)),
      throughputRatio: versusBare((m) => m.messagesPerSecond),
      cpuPerMessageUs: median(all.map((m) => m.serverCpuPerMessageUs)),
      cpuRatio: versusBare((m) => m.serverCpuPerMessageUs),
      serverLoad: median(all.map((m) => m.serverCpuLoad)),
      clientLoad: median(all.map((m) => m.clientCpuLoad)),
      perWsMessage: median(all.map((m) => m.messagesPerWsMessage)),
    };
  });

  console.log("");
  console.log(plainTable(rows));
  const fallback = rounds[0] && [...rounds[0].values()].find((m) => m.fallbackReason !== undefined);
  if (fallback) console.log(`\nNOTE: gmnet relayed over an app channel, not ARBITRARY_DATA: ${fallback.fallbackReason}`);
  if (options.markdown) {
    console.log("");
    console.log(markdownTable(rows));
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `\nmsg/s = messages received by the ${options.pairs} receivers per second (checked in order, none lost); ` +
      `server CPU µs/msg = server process user+system CPU time / messages delivered; ` +
      `CPU load = CPU time / wall time (100 % = one core); "vs bare" = gmnet / bare ws in the same round (median over rounds); ` +
      `msgs per WS msg at B = relayed messages per WebSocket message the receivers got (the server's batching). ` +
      `gmnet runs with its default config except where the configuration says otherwise (rateLimitBytes stays on). ` +
      `With tickRate 60, at most window × 60 = ${integer(options.window * 60)} msg/s per pair can be delivered. (${seconds} s)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
