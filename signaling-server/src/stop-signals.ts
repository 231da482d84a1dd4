/**
 * How a process running servers stops on SIGINT/SIGTERM: the first signal drains, a second one
 * exits at once. Under `npm start` or `npm run`, npm forwards the terminal's Ctrl-C to the process,
 * which also gets it from the terminal itself: one keypress arrives twice within milliseconds, and
 * would skip the drain. Only a signal at least SAME_KEYPRESS_MS after the first counts as a second.
 */
export const SAME_KEYPRESS_MS = 500;

export interface StopSignalHandlers {
  /** The first signal. */
  drain(signal: NodeJS.Signals): void;
  /** A second signal, a moment after the first. */
  exitNow(signal: NodeJS.Signals): void;
  /** Milliseconds of a monotonic clock (tests inject one). */
  now?: () => number;
}

/** The listener for both signals; `onStopSignals` installs it on the process. */
export function stopSignalListener({ drain, exitNow, now = () => performance.now() }: StopSignalHandlers): (signal: NodeJS.Signals) => void {
  let firstAt: number | undefined;
  return (signal) => {
    if (firstAt === undefined) {
      firstAt = now();
      drain(signal);
    } else if (now() - firstAt >= SAME_KEYPRESS_MS) {
      exitNow(signal);
    }
  };
}

export function onStopSignals(handlers: StopSignalHandlers): void {
  const listener = stopSignalListener(handlers);
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
}
