/**
 * Turning script values and async_load maps into short, readable text: show_debug_message's
 * output and the async-event log's rows. Pure functions of the values and the engine's constants
 * (passed in, so this module never reaches for the default engine itself).
 */
import type { AsyncLoad } from "@gmnet/engine";

/** The engine's exports, as far as naming constants goes: name → value. */
export type EngineExports = Readonly<Record<string, unknown>>;

/** Longest text a value is shown with before it is cut (the full text goes into a tooltip). */
const MAX_VALUE_CHARS = 120;

/**
 * One value as show_debug_message prints it: strings as they are, numbers, bigints (`12n`),
 * arrays and objects as compact JSON (bigints and undefined kept readable), functions by name.
 */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  return describeValue(value);
}

/** Like formatValue, but strings are quoted: how a value looks inside a structure. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "undefined":
      return "undefined";
    case "boolean":
      return String(value);
    case "symbol":
      return value.toString();
    case "function":
      return `[function ${value.name || "anonymous"}]`;
    default:
      break;
  }
  if (value === null) return "null";
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Map) return `Map(${value.size}) ${describeValue(Object.fromEntries(value))}`;
  if (value instanceof Set) return `Set(${value.size}) ${describeValue([...value])}`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength} bytes)`;
  try {
    return (
      JSON.stringify(value, (_key, inner: unknown) => {
        if (typeof inner === "bigint") return `${inner}n`;
        if (inner === undefined) return "undefined";
        if (typeof inner === "function") return `[function ${(inner as { name?: string }).name || "anonymous"}]`;
        return inner;
      }) ?? String(value)
    );
  } catch {
    // Cycles and other things JSON cannot hold.
    return Object.prototype.toString.call(value);
  }
}

/**
 * GameMaker's show_debug_message(string, ...values): `{0}`, `{1}` … in the string are replaced by
 * the values. Without placeholders the values are joined with spaces (console.log style).
 */
export function formatDebugMessage(values: readonly unknown[]): string {
  const [first, ...rest] = values;
  if (typeof first === "string" && rest.length > 0 && /\{\d+\}/.test(first)) {
    return first.replace(/\{(\d+)\}/g, (placeholder, index: string) => {
      const i = Number(index);
      return i < rest.length ? formatValue(rest[i]) : placeholder;
    });
  }
  return values.map(formatValue).join(" ");
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
