/**
 * The async-event log: every async_load map the playground dispatches, as one compact row of
 * key/value pairs under its event type's name, newest at the bottom, at most MAX_ROWS. Rows are
 * `data-testid="event-row"` with `data-event-type` (ev_async_web_networking …) and `data-origin`
 * (run: delivered to the script; idle: no script was running; stale: about an earlier run).
 * Rows of a run show the time since it started and carry `data-run`; a separator row
 * (`data-testid="event-separator"`, "▶ Run 3") marks where each run starts. Outside a run the
 * time is the clock's.
 */
import type { LoggedEvent } from "../runner/format.js";
import { ScrollLog, element, timeLabel } from "./scroll-log.js";

const MAX_ROWS = 500;

const ORIGIN_NOTES: Readonly<Record<LoggedEvent["origin"], string | undefined>> = {
  run: undefined,
  idle: "no script running",
  stale: "from an earlier run: not passed to this one",
};

export class EventLog {
  private readonly log: ScrollLog;

  constructor(
    list: HTMLElement,
    counter: HTMLElement | undefined,
    /** ms since the current run started, or undefined. */
    private readonly elapsed: () => number | undefined,
    /** The current run's number, or undefined while none runs. */
    private readonly runNumber: () => number | undefined = () => undefined,
  ) {
    this.log = new ScrollLog(list, MAX_ROWS, counter);
  }

  add(entry: LoggedEvent): void {
    const row = element("li", `event-row origin-${entry.origin}`);
    row.dataset.testid = "event-row";
    row.dataset.eventType = entry.eventName;
    row.dataset.origin = entry.origin;
    const run = entry.origin === "idle" ? undefined : this.runNumber();
    if (run !== undefined) row.dataset.run = String(run);
    row.append(element("span", "time", timeLabel(this.elapsed())));
    const badge = element("span", `event-type type-${entry.eventName}`, entry.eventName);
    badge.title = `event_type = ${entry.eventType}`;
    row.append(badge);
    const fields = element("span", "fields");
    for (const field of entry.fields) {
      const pair = element("span", "kv");
      pair.dataset.key = field.key;
      pair.append(element("span", "k", field.key), element("span", "v", field.value));
      if (field.title !== undefined) pair.title = field.title;
      fields.append(pair);
    }
    row.append(fields);
    const note = ORIGIN_NOTES[entry.origin];
    if (note !== undefined) {
      const tag = element("span", "origin", entry.origin === "stale" ? "stale" : "idle");
      tag.title = note;
      row.append(tag);
    }
    this.log.append(row);
  }

  /** The separator above the events of run `run`. */
  runStart(run: number): void {
    const row = element("li", "event-separator");
    row.dataset.testid = "event-separator";
    row.dataset.run = String(run);
    row.append(element("span", "time", timeLabel(undefined)), element("span", "label", `▶ Run ${run}`));
    this.log.append(row, false);
  }

  clear(): void {
    this.log.clear();
  }
}
