/**
 * The output console: show_debug_message lines, the runner's notes (Run, Stopped …) and errors in
 * red with their code, each with its time since its run started. Every row is
 * `data-testid="console-line"` with `data-level` and `data-run` (the run's number); the
 * "▶ Run 3" line that starts a run has the class `run-start`, drawn as a separator.
 */
import type { ConsoleLine } from "../runner/script-runner.js";
import { ScrollLog, element, timeLabel } from "./scroll-log.js";

/** Lines kept before the oldest are dropped. */
const MAX_LINES = 1000;

export class OutputConsole {
  private readonly log: ScrollLog;

  constructor(list: HTMLElement, counter?: HTMLElement) {
    this.log = new ScrollLog(list, MAX_LINES, counter);
  }

  add(line: ConsoleLine): void {
    const row = element("li", `console-line level-${line.level}`);
    row.dataset.testid = "console-line";
    row.dataset.level = line.level;
    if (line.run !== undefined) row.dataset.run = String(line.run);
    if (line.separator === true) row.classList.add("run-start");
    row.append(element("span", "time", timeLabel(line.elapsed)));
    if (line.code !== undefined) row.append(element("strong", "code", line.code));
    row.append(element("span", "text", line.text));
    this.log.append(row);
  }

  clear(): void {
    this.log.clear();
  }
}
