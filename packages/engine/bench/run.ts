/**
 * `npm run bench`: gmnet's buffer_write/buffer_read against a hand-written DataView/TextEncoder
 * baseline measured in the same run, printed as ratios (absolute times vary between machines,
 * the ratio much less). For numbers the DataView loop is the physical limit, not a target: it keeps
 * its position in a local, while a GameMaker-style call must look up the buffer id and dispatch on
 * the data type, so the fair peer for gmnet's figures is GameMaker's own runner.
 *
 *   npm run bench                    plain-text table
 *   npm run bench -- --markdown      also a Markdown table for the README
 *   npm run bench -- --rounds 7      rounds of measurement (default 5); figures are medians over them
 *   npm run bench -- --in-process    all rounds in this process instead of one fresh process each
 *   npm run bench -- --time 1000     per-task time budget in ms per round (default 500; tinybench
 *                                    warmup 100 ms on top, after a shared warm-up of every case)
 *   npm run bench -- --filter u8,f64 only the cases whose name contains one of these
 *
 * Every iteration writes and then reads VALUES_PER_ITERATION values; "ops/s" counts iterations.
 */
import { execFileSync } from "node:child_process";
import { Bench } from "tinybench";
import { parseBenchArgs } from "../../../scripts/bench-args.js";
import { type BenchCase, VALUES_PER_ITERATION, createCases } from "./buffer.bench.js";

interface Options {
  markdown: boolean;
  /** Only cases whose name contains one of these (comma-separated on the command line). */
  filter: string[];
  rounds: number;
  /** Run every round in this process rather than in a fresh one. */
  inProcess: boolean;
  /** Set in the child processes: measure this one round and print it as JSON. */
  childRound: number | undefined;
  time: number;
  warmupTime: number;
}

/** One case's throughput in one round, in iterations per second. */
interface Measurement {
  name: string;
  gmnet: number;
  baseline: number;
}

/** One case's figures: medians over the rounds, and the spread of the per-round ratio. */
interface Row {
  name: string;
  /** Median over the rounds of the median throughput, in iterations per second. */
  gmnet: number;
  baseline: number;
  /** Median over the rounds of gmnet/baseline, each round's pair measured back to back. */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
}

function parseOptions(argv: readonly string[]): Options {
  const args = parseBenchArgs(argv, "usage: npm run bench -- [--markdown] [--filter u8,f64,...] [--rounds 5] [--in-process] [--time ms] [--warmup-time ms]");
  const childRound = args.text("child-round");
  return {
    markdown: args.markdown,
    filter: args.list("filter", []),
    rounds: args.count("rounds", 1, 5),
    inProcess: args.flag("in-process"),
    childRound: childRound === undefined ? undefined : Number(childRound),
    time: args.positive("time", 500),
    warmupTime: args.positive("warmup-time", 100),
  };
}

/**
 * Runs every function of every case a few hundred times, interleaved, before anything is timed.
 * A game writes several data types through the same buffer_write, so the engine's shared code
 * (api.ts, GmBuffer.write/read, value-codec) is measured in that mixed steady state; without this,
 * whichever case ran first would be measured against code specialised for its type alone and
 * the figures would depend on case order.
 */
function prewarm(cases: readonly BenchCase[]): void {
  for (let round = 0; round < 200; round++) {
    for (const c of cases) {
      c.gmnet();
      c.baseline();
    }
  }
}

/** Median throughput (iterations/s) of a finished task. */
function medianHz(bench: Bench, name: string): number {
  const task = bench.getTask(name);
  const result = task?.result;
  if (result === undefined || (result.state !== "completed" && result.state !== "aborted-with-statistics")) {
    const error = result?.state === "errored" ? result.error : undefined;
    throw new Error(`benchmark task ${name} did not complete${error ? `: ${error.message}` : ""}`, { cause: error });
  }
  return result.throughput.p50;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * One round: every case's gmnet and baseline tasks back to back (so a slowdown of the machine
 * hits both alike), gmnet first in even rounds and baseline first in odd ones.
 */
function runRound(cases: readonly BenchCase[], options: Options, round: number): Measurement[] {
  const gc = (globalThis as { gc?: () => void }).gc;
  const bench = new Bench({
    name: `gmnet buffer benchmark, round ${round + 1}`,
    time: options.time,
    warmup: true,
    warmupTime: options.warmupTime,
    // One sample is one iteration of a few µs, so the cost of the timer call itself matters.
    subtractTimerOverhead: true,
    // Start every task from a clean heap when node runs with --expose-gc.
    setup: gc === undefined ? undefined : () => gc(),
  });
  for (const c of cases) {
    const pair: [string, () => number][] = [
      [`gmnet ${c.name}`, c.gmnet],
      [`baseline ${c.name}`, c.baseline],
    ];
    if (round % 2 === 1) pair.reverse();
    for (const [name, fn] of pair) bench.add(name, fn);
  }
  bench.runSync();
  return cases.map((c) => ({ name: c.name, gmnet: medianHz(bench, `gmnet ${c.name}`), baseline: medianHz(bench, `baseline ${c.name}`) }));
}

function formatHz(hz: number): string {
  return Math.round(hz).toLocaleString("en-US");
}

/** Two decimals, or three below 0.1 where two would hide a 20 % difference. */
function formatRatio(ratio: number, decimals = ratio < 0.1 ? 3 : 2): string {
  return `${ratio.toFixed(decimals)}×`;
}

const HEADER = ["case", "gmnet ops/s", "baseline ops/s", "ratio", "ratio min–max"] as const;

function cells(row: Row): string[] {
  return [
    row.name,
    formatHz(row.gmnet),
    formatHz(row.baseline),
    formatRatio(row.ratio),
    `${row.ratioMin.toFixed(row.ratioMin < 0.1 ? 3 : 2)}–${formatRatio(row.ratioMax, row.ratioMin < 0.1 ? 3 : 2)}`,
  ];
}

function plainTable(rows: readonly Row[]): string {
  const body = rows.map(cells);
  const widths = HEADER.map((title, column) => Math.max(title.length, ...body.map((line) => line[column]!.length)));
  const format = (line: readonly string[]) =>
    line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [format(HEADER), widths.map((width) => "-".repeat(width)).join("  "), ...body.map(format)].join("\n");
}

function markdownTable(rows: readonly Row[]): string {
  const line = (cellsOfLine: readonly string[]) => `| ${cellsOfLine.join(" | ")} |`;
  return [line(HEADER), "| --- | ---: | ---: | ---: | ---: |", ...rows.map((row) => line(cells(row)))].join("\n");
}

let prepared: BenchCase[] | undefined;

/** The cases, checked and warmed once per process; then the ones --filter selects. */
function prepare(options: Options): BenchCase[] {
  if (prepared === undefined) {
    const all = createCases(VALUES_PER_ITERATION);
    for (const c of all) c.verify();
    // Warm with every case, even filtered-out ones, so a subset measures the same engine state.
    prewarm(all);
    prepared = select(all, options);
  }
  return prepared;
}

/**
 * One round in a fresh Node process (same flags, same options). The JIT's choices (what gets
 * inlined where) depend on timing and differ from process to process (gmnet by up to ~15 % here), so
 * rounds in separate processes sample that too instead of repeating one process's luck.
 */
function roundInChildProcess(round: number): Measurement[] {
  const script = process.argv[1]!;
  const output = execFileSync(process.execPath, [...process.execArgv, script, ...process.argv.slice(2), "--child-round", String(round)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(output) as Measurement[];
}

function main(): void {
  const options = parseOptions(process.argv.slice(2));
  if (options.childRound !== undefined) {
    process.stdout.write(JSON.stringify(runRound(prepare(options), options, options.childRound)));
    return;
  }
  // With child processes the parent measures nothing; it only needs the cases' names.
  const cases = options.inProcess ? prepare(options) : select(createCases(VALUES_PER_ITERATION), options);

  const started = performance.now();
  const hasGc = typeof (globalThis as { gc?: unknown }).gc === "function";
  console.log(
    `gmnet buffer benchmark: ${cases.length} cases, ${VALUES_PER_ITERATION} writes + ${VALUES_PER_ITERATION} reads per op; ` +
      `${options.rounds} rounds (${options.inProcess ? "in this process" : "one process each"}) of ${options.time} ms per task ` +
      `(+${options.warmupTime} ms warmup); Node ${process.version}` +
      (hasGc ? "" : "; no --expose-gc"),
  );
  const rounds: Measurement[][] = [];
  for (let round = 0; round < options.rounds; round++) {
    rounds.push(options.inProcess ? runRound(prepare(options), options, round) : roundInChildProcess(round));
    process.stdout.write(`  round ${round + 1}/${options.rounds} done\n`);
  }

  const rows: Row[] = cases.map((c) => {
    const pairs = rounds.map((round) => {
      const found = round.find((m) => m.name === c.name);
      if (found === undefined) throw new Error(`round result lacks case ${c.name}`);
      return found;
    });
    const ratios = pairs.map((pair) => pair.gmnet / pair.baseline);
    return {
      name: c.name,
      gmnet: median(pairs.map((pair) => pair.gmnet)),
      baseline: median(pairs.map((pair) => pair.baseline)),
      ratio: median(ratios),
      ratioMin: Math.min(...ratios),
      ratioMax: Math.max(...ratios),
    };
  });

  console.log("");
  console.log(plainTable(rows));
  if (options.markdown) {
    console.log("");
    console.log(markdownTable(rows));
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `\nops/s = iterations (${VALUES_PER_ITERATION} writes + ${VALUES_PER_ITERATION} reads) per second, median over ${options.rounds} rounds; ` +
      `ratio = median of the per-round gmnet/baseline ratios; ` +
      `for numbers the hand-written DataView loop is the physical limit, not a target (${seconds} s)`,
  );
}

/** The cases --filter selects (all without it). */
function select(all: BenchCase[], options: Options): BenchCase[] {
  const selected = options.filter.length === 0 ? all : all.filter((c) => options.filter.some((part) => c.name.includes(part)));
  if (selected.length === 0) throw new Error(`--filter ${options.filter.join(",")} matches no case`);
  return selected;
}

main();
