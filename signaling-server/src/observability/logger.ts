import { type Logger, pino } from "pino";

export type { Logger };

/** Structured JSON logs on stdout (pino); "silent" for tests. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "gmnet-server" } });
}
