/**
 * The benchmarks' flags (buffer, relay, cluster and network), read with node:util.parseArgs.
 * `npm run bench -- <args>` passes the same arguments to every benchmark (scripts/bench.sh), so
 * each one accepts every benchmark's flags and uses its own; an unknown flag is still an error.
 */
import { parseArgs } from "node:util";

/** Every benchmark's flags that take a value: this one's, the buffer and network benchmarks'. */
const VALUE_FLAGS = [
  "rounds", "duration", "warmup", "pairs", "window", "size", "session", "sender", "relay", "only", "server-cpu-prof",
  "pings", "latency-time", "filter", "time", "warmup-time", "configs", "sizes", "child-round",
] as const;
const BOOLEAN_FLAGS = ["markdown", "in-process"] as const;

type ValueFlag = (typeof VALUE_FLAGS)[number];
type BooleanFlag = (typeof BOOLEAN_FLAGS)[number];

export interface BenchArgs {
  readonly markdown: boolean;
  flag(flag: BooleanFlag): boolean;
  /** An integer flag of at least `min`; `fallback` when absent. */
  count(flag: ValueFlag, min: number, fallback: number): number;
  /** One of `choices`; `fallback` when absent. */
  choice<T extends string>(flag: ValueFlag, choices: readonly T[], fallback: T): T;
  /** A positive number (fractions allowed); `fallback` when absent. */
  positive(flag: ValueFlag, fallback: number): number;
  /** A comma-separated list; `fallback` when absent. */
  list(flag: ValueFlag, fallback: string[]): string[];
  text(flag: ValueFlag): string | undefined;
}

/** The flags of `argv`; `--help` prints `usage` and exits. Throws on an unknown flag or a bad value. */
export function parseBenchArgs(argv: readonly string[], usage: string): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      help: { type: "boolean", short: "h" },
      ...Object.fromEntries(BOOLEAN_FLAGS.map((flag) => [flag, { type: "boolean" as const }])),
      ...Object.fromEntries(VALUE_FLAGS.map((flag) => [flag, { type: "string" as const }])),
    },
  });
  if (values.help === true) {
    console.log(usage);
    process.exit(0);
  }
  // The option table is built from the lists above, so parseArgs' result type cannot name them.
  const read = values as Record<string, string | boolean | undefined>;
  const text = (flag: ValueFlag): string | undefined => {
    const value = read[flag];
    return typeof value === "string" ? value : undefined;
  };
  return {
    markdown: read.markdown === true,
    flag: (flag) => read[flag] === true,
    text,
    count(flag, min, fallback) {
      const raw = text(flag);
      if (raw === undefined) return fallback;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min) throw new Error(`--${flag} needs an integer ≥ ${min}, not ${raw}`);
      return value;
    },
    positive(flag, fallback) {
      const raw = text(flag);
      if (raw === undefined) return fallback;
      const value = Number(raw);
      if (!(value > 0)) throw new Error(`--${flag} needs a positive number, not ${raw}`);
      return value;
    },
    list(flag, fallback) {
      const raw = text(flag);
      return raw === undefined ? fallback : raw.split(",").filter(Boolean);
    },
    choice(flag, choices, fallback) {
      const raw = text(flag);
      if (raw === undefined) return fallback;
      const found = choices.find((choice) => choice === raw);
      if (found === undefined) throw new Error(`--${flag} takes ${choices.join(", ")}, not ${raw}`);
      return found;
    },
  };
}
