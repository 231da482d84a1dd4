/**
 * The network benchmark's figures (network.bench.ts): medians and ratios against the bare echo over
 * the rounds, formatted as plain-text and Markdown tables.
 */
import type { Measurement } from "./measure.js";
import { CONFIGS, type Config, type ConfigId, type Options } from "./options.js";

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Nearest-rank percentile (0.5 is the median of an odd count). */
export function percentile(values: readonly number[], p: number): number {
  if (p === 0.5) return median(values);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export interface Row {
  config: Config;
  rttMedian: number;
  rttP99: number;
  /** Medians of the per-round gmnet/bare ratios. */
  rttMedianRatio: number;
  rttP99Ratio: number;
  pings: number;
  pingsLost: number;
  throughput: Array<{ size: number; messagesPerSecond: number; ratio: number; lossShare: number }>;
  offPath: number;
}

export function summarize(config: Config, rounds: ReadonlyArray<Map<ConfigId, Measurement>>, sizes: readonly number[]): Row {
  const mine = rounds.map((round) => round.get(config.id)!);
  const bare = rounds.map((round) => round.get("bare")!);
  const ratios = (pick: (m: Measurement) => number): number => median(mine.map((m, i) => pick(m) / pick(bare[i]!)));
  const rate = (size: number) => (m: Measurement) => m.throughput.get(size)!.messagesPerSecond;
  return {
    config,
    rttMedian: median(mine.map((m) => m.rttMedian)),
    rttP99: median(mine.map((m) => m.rttP99)),
    rttMedianRatio: ratios((m) => m.rttMedian),
    rttP99Ratio: ratios((m) => m.rttP99),
    pings: mine.reduce((sum, m) => sum + m.pings, 0),
    pingsLost: mine.reduce((sum, m) => sum + m.pingsLost, 0),
    throughput: sizes.map((size) => {
      const sent = mine.reduce((sum, m) => sum + m.throughput.get(size)!.sent, 0);
      const lost = mine.reduce((sum, m) => sum + m.throughput.get(size)!.lost, 0);
      return { size, messagesPerSecond: median(mine.map(rate(size))), ratio: ratios(rate(size)), lossShare: sent === 0 ? 0 : lost / sent };
    }),
    offPath: mine.reduce((sum, m) => sum + m.offPath, 0),
  };
}

export const integer = (value: number): string => Math.round(value).toLocaleString("en-US");
export const ms = (value: number): string => `${value < 1 ? value.toFixed(3) : value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
export const ratio = (value: number): string => `${value < 0.1 ? value.toFixed(3) : value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)}×`;
export const megabytes = (value: number): string => (value / 1e6).toFixed(value < 1e7 ? 2 : 1);
export const sizeName = (size: number): string => (size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`);
export const percent = (share: number): string => (share === 0 ? "0 %" : share < 0.001 ? "<0.1 %" : `${(share * 100).toFixed(1)} %`);

export function latencyTable(rows: readonly Row[]): { header: string[]; body: string[][]; align: string } {
  return {
    header: ["configuration", "path", "RTT median", "vs bare", "RTT p99", "vs bare", "pings (lost)"],
    body: rows.map((row) => [
      row.config.label,
      row.config.path,
      ms(row.rttMedian),
      ratio(row.rttMedianRatio),
      ms(row.rttP99),
      ratio(row.rttP99Ratio),
      `${integer(row.pings)} (${integer(row.pingsLost)})`,
    ]),
    align: "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  };
}

export function throughputTable(rows: readonly Row[], sizes: readonly number[]): { header: string[]; body: string[][]; align: string } {
  return {
    header: ["configuration", ...sizes.flatMap((size) => [`${sizeName(size)} msg/s`, "MB/s", "vs bare"]), "lost"],
    body: rows.map((row) => [
      row.config.label,
      ...row.throughput.flatMap((t) => [integer(t.messagesPerSecond), megabytes(t.messagesPerSecond * t.size), ratio(t.ratio)]),
      row.throughput.map((t) => percent(t.lossShare)).join(" / "),
    ]),
    align: `| --- | ${sizes.map(() => "---: | ---: | ---:").join(" | ")} | ---: |`,
  };
}

export function plain(table: { header: string[]; body: string[][] }): string {
  const widths = table.header.map((title, column) => Math.max(title.length, ...table.body.map((line) => line[column]!.length)));
  const format = (line: readonly string[]) => line.map((cell, column) => (column < 1 || (column === 1 && !/\d/.test(cell)) ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [format(table.header), widths.map((width) => "-".repeat(width)).join("  "), ...table.body.map(format)].join("\n");
}

export function markdown(table: { header: string[]; body: string[][]; align: string }): string {
  const line = (values: readonly string[]) => `| ${values.join(" | ")} |`;
  // Function and package names as code in the README.
  const code = (cells: readonly string[]) => cells.map((cell) => cell.replace(/\b(network_\w+|ws)\b/g, "`$1`"));
  return [line(table.header), table.align, ...table.body.map((cells) => line(code(cells)))].join("\n");
}

/** The configurations that keep fewer messages in flight than --window, for the footer. */
export function capped(options: Options): string {
  const fewer = CONFIGS.filter((config) => options.configs.includes(config.id) && config.maxWindow !== undefined && config.maxWindow < options.window);
  return fewer.map((config) => ` (${config.id}: ${config.maxWindow}, its server's limit)`).join("");
}
