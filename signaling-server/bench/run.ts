/**
 * Relay benchmark entry (`npm run bench` runs it after the buffer benchmark):
 *
 *   node --import tsx signaling-server/bench/run.ts [options]
 *
 *   --markdown        also print a Markdown table
 *   --rounds N        rounds of every configuration (default 3); figures are medians over them
 *   --duration MS     measured time per configuration (default 2500), after --warmup MS (default 500)
 *   --pairs N         sender/receiver pairs (default 8)
 *   --window N        messages in flight per pair (default 1024; with batching at 60 Hz a pair
 *                     delivers at most window × 60 msg/s, so 256 would cap it at 15,360)
 *   --size BYTES      application bytes per message (default 64)
 *   --only bare,off,on  configurations to run (default all three)
 *   --relay auto|vsocket|app-channel  gmnet relay path (default auto: ARBITRARY_DATA on a virtual
 *                     socket if the server implements them, else an app channel, and says so)
 *
 * `npm run bench -- <args>` passes the same arguments to both benchmarks, so this one also
 * accepts the buffer benchmark's --filter, --in-process, --time and --warmup-time, and ignores
 * them; --markdown and --rounds apply to both.
 *
 * Every configuration runs its server in a fresh child process (this script with --serve):
 * "server CPU" is that process's user+system time, the clients' work is in this process.
 */
import { fileURLToPath } from "node:url";
import { CONFIGS, type Measurement, type RelayOptions, type ServerKind, measure, serveChild } from "./relay.bench.js";

interface Options extends RelayOptions {
  markdown: boolean;
  rounds: number;
  only: string[];
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { markdown: false, rounds: 3, only: CONFIGS.map((c) => c.id), pairs: 8, window: 1024, size: 64, warmupMs: 500, durationMs: 2500, relay: "auto" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const text = (): string => {
      const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new Error(`${flag} needs a value`);
      return value;
    };
    const count = (min: number): number => {
      const raw = text();
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min) throw new Error(`${flag} needs an integer ≥ ${min}, not ${raw}`);
      return value;
    };
    if (flag === "--markdown") options.markdown = true;
    else if (flag === "--rounds") options.rounds = count(1);
    else if (flag === "--duration") options.durationMs = count(100);
    else if (flag === "--warmup") options.warmupMs = count(0);
    else if (flag === "--pairs") options.pairs = count(1);
    else if (flag === "--window") options.window = count(1);
    else if (flag === "--size") options.size = count(4);
    else if (flag === "--relay") {
      const relay = text();
      if (relay !== "auto" && relay !== "vsocket" && relay !== "app-channel") throw new Error(`--relay takes auto, vsocket or app-channel, not ${relay}`);
      options.relay = relay;
    } else if (flag === "--only") {
      options.only = text().split(",").filter(Boolean);
      const unknown = options.only.filter((id) => !CONFIGS.some((c) => c.id === id));
      if (unknown.length > 0 || options.only.length === 0) throw new Error(`--only takes ${CONFIGS.map((c) => c.id).join(",")}, not ${unknown.join(",")}`);
    } else if (flag === "--filter" || flag === "--time" || flag === "--warmup-time") text(); // the buffer benchmark's
    else if (flag === "--in-process") continue; // the buffer benchmark's
    else if (flag === "--help" || flag === "-h") {
      console.log("usage: node --import tsx signaling-server/bench/run.ts [--markdown] [--rounds 3] [--duration 2500] [--warmup 500] [--pairs 8] [--window 1024] [--size 64] [--only bare,off,on] [--relay auto|vsocket|app-channel]");
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (try --help)`);
  }
  return options;
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
    const tickAt = argv.indexOf("--tick-rate");
    return serveChild(argv[serveAt + 1] as ServerKind, tickAt >= 0 ? Number(argv[tickAt + 1]) : 0);
  }

  const options = parseOptions(argv);
  const script = fileURLToPath(import.meta.url);
  const configs = CONFIGS.filter((c) => options.only.includes(c.id));
  const started = performance.now();
  console.log(
    `\ngmnet relay benchmark: ${options.pairs} pairs, ${options.size}-byte messages, ${options.window} in flight per pair, ` +
      `${options.warmupMs} ms warm-up + ${options.durationMs} ms per configuration, ${options.rounds} round(s); ` +
      `server in a child process, clients in this one, loopback; Node ${process.version}`,
  );

  // rounds[r][config id]; odd rounds run the configurations in reverse order.
  const rounds: Array<Map<string, Measurement>> = [];
  for (let round = 0; round < options.rounds; round++) {
    const results = new Map<string, Measurement>();
    const order = round % 2 === 0 ? configs : [...configs].reverse();
    for (const config of order) {
      const result = await measure(config, options, script);
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
      `CPU load = CPU time / wall time (100 % = one core); "vs bare" = gmnet / bare ws in the same round (median over rounds). ` +
      `With batching on, at most window × tickRate = ${integer(options.window * 60)} msg/s per pair can be delivered. (${seconds} s)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
