/**
 * Turning async_load maps into short, readable rows for the async-event log. Single values are
 * written by the engine's own @gmnet/engine/debug, as show_debug_message prints them. Pure
 * functions of the values and the engine's constants (passed in, so this module never reaches for
 * the default engine itself).
 */
import type { AsyncLoad } from "@gmnet/engine";
import { describeValue } from "@gmnet/engine/debug";

/** The engine's exports, as far as naming constants goes: name → value. */
export type EngineExports = Readonly<Record<string, unknown>>;

/** Longest text a value is shown with before it is cut (the full text goes into a tooltip). */
const MAX_VALUE_CHARS = 120;

/** Characters of a secret the log shows before "…". */
const SHOWN_SECRET_CHARS = 4;

/**
 * Keys of async_load whose string values are credentials: a master session token logs in as its
 * account to whoever holds it (a bearer credential), so the log never shows one whole.
 */
export function isSecretKey(key: string): boolean {
  return /(^|_)(token|secret|password)$/i.test(key);
}

/** A secret as the log (and the examples) show it: its first 4 characters and "…"; a short one only as "…". */
export function maskSecret(secret: string): string {
  return secret.length > SHOWN_SECRET_CHARS * 2 ? `${secret.slice(0, SHOWN_SECRET_CHARS)}…` : "…";
}

/** The names of the engine's constants with a prefix, by value: `ev_async_` → {68: "ev_async_web_networking", …}. */
export function constantNames(engine: EngineExports, prefix: string): ReadonlyMap<number, string> {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(engine)) {
    if (name.startsWith(prefix) && typeof value === "number" && !names.has(value)) names.set(value, name);
  }
  return names;
}

/** One key of an async_load map as the event log shows it. */
export interface EventField {
  readonly key: string;
  /** Short text; long values are cut with "…". */
  readonly value: string;
  /** The whole value when `value` was cut, or what a number stands for. */
  readonly title?: string;
}

/** An async event as the log keeps it: copied during the dispatch, because the engine deletes its buffer afterwards. */
export interface LoggedEvent {
  /** performance.now() when it was dispatched. */
  readonly at: number;
  readonly eventType: number;
  /** ev_async_web_networking, …, or the number when the engine has no name for it. */
  readonly eventName: string;
  readonly fields: readonly EventField[];
  /**
   * "run": delivered to the running script; "idle": no script was running; "stale": about a
   * socket or request of an earlier run, so not delivered to the current one.
   */
  readonly origin: "run" | "idle" | "stale";
}

/** Looks up names of the engine's constants for the event log. */
export class EventNamer {
  private readonly eventTypes: ReadonlyMap<number, string>;
  private readonly networkTypes: ReadonlyMap<number, string>;
  private readonly masterTypes: ReadonlyMap<number, string>;
  private readonly masterOps: ReadonlyMap<number, string>;
  private readonly masterStatuses: ReadonlyMap<number, string>;
  private readonly chatChannels: ReadonlyMap<number, string>;
  private readonly ev: { web: unknown; networking: unknown; social: unknown };

  constructor(private readonly engine: EngineExports) {
    this.eventTypes = constantNames(engine, "ev_async_");
    this.networkTypes = constantNames(engine, "network_type_");
    this.masterTypes = constantNames(engine, "master_type_");
    this.masterOps = constantNames(engine, "master_op_");
    this.masterStatuses = constantNames(engine, "master_status_");
    this.chatChannels = constantNames(engine, "master_chat_");
    this.ev = { web: engine.ev_async_web, networking: engine.ev_async_web_networking, social: engine.ev_async_social };
  }

  eventName(eventType: number): string {
    return this.eventTypes.get(eventType) ?? String(eventType);
  }

  /** What a numeric key's value stands for in this kind of event (`type` 3 of a networking event: network_type_data). */
  meaning(eventType: number, key: string, value: number): string | undefined {
    if (eventType === this.ev.networking && key === "type") return this.networkTypes.get(value);
    if (eventType === this.ev.social) {
      if (key === "type") return this.masterTypes.get(value);
      if (key === "op") return this.masterOps.get(value);
      if (key === "status") return this.masterStatuses.get(value);
      if (key === "channel") return this.chatChannels.get(value);
    }
    if (eventType === this.ev.web && key === "status") return HTTP_STATUSES[value];
    return undefined;
  }

  /**
   * Copies an async_load map into log fields. `bufferSize` tells the size of a buffer the map
   * carries (it must be called during the dispatch, while the buffer exists).
   */
  fields(load: AsyncLoad, eventType: number, bufferSize: (buffer: number) => number | undefined): EventField[] {
    const fields: EventField[] = [];
    for (const [key, value] of Object.entries(load)) {
      if (key === "buffer" && typeof value === "number") {
        const size = typeof load.size === "number" ? load.size : bufferSize(value);
        fields.push({ key, value: size === undefined ? `#${value}` : `#${value} · ${size} B`, title: `buffer id ${value}` });
        continue;
      }
      if (typeof value === "number") {
        const meaning = this.meaning(eventType, key, value);
        fields.push(meaning === undefined ? { key, value: describeValue(value) } : { key, value: meaning, title: `${key} = ${value}` });
        continue;
      }
      if (typeof value === "string" && value !== "" && isSecretKey(key)) {
        fields.push({ key, value: describeValue(maskSecret(value)), title: `${key}: masked, a credential (${value.length} characters)` });
        continue;
      }
      const text = describeValue(value);
      fields.push(text.length > MAX_VALUE_CHARS ? { key, value: `${text.slice(0, MAX_VALUE_CHARS - 1)}…`, title: text.length > 4000 ? `${text.slice(0, 4000)}… (${text.length} characters)` : text } : { key, value: text });
    }
    return fields;
  }
}

/** ev_async_web statuses (docs/HTTP.md). */
const HTTP_STATUSES: Readonly<Record<number, string>> = {
  1: "1 progress",
  0: "0 done",
  [-1]: "-1 network error",
  [-2]: "-2 timeout",
  [-3]: "-3 aborted",
  [-4]: "-4 storage error",
};
