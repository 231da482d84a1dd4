/**
 * The GameMaker side of gmnet: wraps an engine's functions as `gmnet_<name>` extension functions
 * (reals and strings in, reals and strings out) and turns the engine's async events into
 * GameMaker async events whose `async_load` is a real ds_map of the runner.
 *
 * Which functions are exposed is derived from the engine itself: every function the engine has,
 * except those listed in NOT_EXPOSED with the reason. A test checks that nothing is missed.
 */
import { type AsyncLoad, type Engine, type EngineOptions, createEngine, engineConstants } from "@gmnet/engine";

/** The prefix of every function and constant of the extension (GameMaker owns the plain names). */
export const PREFIX = "gmnet_";

/** Engine functions the extension leaves out, and why. */
export const NOT_EXPOSED: Readonly<Record<string, string>> = {
  async_event_dispatch: "replaced by gmnet_async_step(), which raises the events as GameMaker async events",
  async_event_wait: "returns a Promise; a game has its step loop instead",
  show_debug_message: "GameMaker's own",
  show_debug_message_ext: "GameMaker's own",
  show_message: "GameMaker's own",
};

/** Engine function families the extension leaves out, and why. */
export const NOT_EXPOSED_PREFIXES: Readonly<Record<string, string>> = {
  ds_: "GameMaker's own ds_* work on the runner's structures, and async_load is one of them",
  http_: "GameMaker's own http_* work in HTML5 exports and fill async_load with the runner's maps",
};

/** Functions whose result is a string (returnType 1 in the extension); every other returns a real. */
export const STRING_RESULTS: ReadonlySet<string> = new Set([
  "buffer_base64_encode",
  "buffer_md5",
  "buffer_sha1",
  "network_resolve",
  "network_get_stats",
  "master_get_username",
  "master_get_token",
]);

/** Arguments (by position) that are objects in the engine and a JSON string on the GML side. */
export const JSON_ARGUMENTS: Readonly<Record<string, readonly number[]>> = {
  master_room_create: [3],
  master_room_list: [0],
  master_room_update: [0],
  master_presence_list: [0],
};

/** The functions the extension adds besides the wrapped engine functions. */
export const EXTRA_FUNCTIONS = {
  gmnet_async_step: "Raises every queued gmnet event as a GameMaker async event; call once per step. Returns how many.",
  gmnet_ready: "1 when the runner's ds_map and async event entry points were found, 0 otherwise.",
} as const;

/** The names of the engine functions the extension wraps, in the engine's order. */
export function exposedFunctionNames(engine: object): string[] {
  return Object.entries(engine)
    .filter(([name, value]) => typeof value === "function" && !isNotExposed(name))
    .map(([name]) => name);
}

export function isNotExposed(name: string): boolean {
  return name in NOT_EXPOSED || Object.keys(NOT_EXPOSED_PREFIXES).some((prefix) => name.startsWith(prefix));
}

/** The extension's constants: every engine constant, prefixed. GameMaker's ev_async_* already exist and are left out. */
export function extensionConstants(): Record<string, number> {
  const entries = Object.entries(engineConstants).filter(([name]) => !name.startsWith("ev_"));
  return Object.fromEntries(entries.map(([name, value]) => [PREFIX + name, value]));
}

/**
 * The runner's entry points the glue uses, looked up in the global scope as the HTML5 runner
 * defines them: GML functions are global functions there, and those that act on an instance take
 * the calling instance and "other" first (event_perform_async).
 */
interface RunnerScope {
  ds_map_create?: () => number;
  ds_map_add?: (map: number, key: string, value: string | number) => unknown;
  event_perform_async?: (self: unknown, other: unknown, event: number, map: number) => unknown;
  GMS_API?: { send_async_event_social?: (map: Record<string, string | number>) => unknown };
}

export type GmlValue = string | number;

export interface GameMakerExtension {
  engine: Engine;
  /** `gmnet_<name>` → the wrapper, plus gmnet_async_step and gmnet_ready. */
  functions: Record<string, (...args: GmlValue[]) => GmlValue>;
  constants: Record<string, number>;
}

export interface ExtensionOptions {
  /** Where the runner's functions are found; default globalThis. */
  scope?: object;
  /** The engine to wrap, or options for a new one. */
  engine?: Engine;
  engineOptions?: EngineOptions;
}

export function createGameMakerExtension(options: ExtensionOptions = {}): GameMakerExtension {
  const scope = (options.scope ?? globalThis) as RunnerScope;
  const engine = options.engine ?? createEngine(options.engineOptions);
  const functions: Record<string, (...args: GmlValue[]) => GmlValue> = {};
  const table = engine as unknown as Record<string, (...args: unknown[]) => unknown>;

  for (const name of exposedFunctionNames(engine)) {
    const fn = table[name]!;
    const jsonArgs = JSON_ARGUMENTS[name] ?? [];
    const stringResult = STRING_RESULTS.has(name);
    functions[PREFIX + name] = (...args: GmlValue[]) => {
      const engineArgs: unknown[] = args.map((arg, i) => (jsonArgs.includes(i) ? fromJsonArgument(arg) : arg));
      return toGmlResult(fn(...engineArgs), stringResult);
    };
  }

  functions.gmnet_async_step = () => engine.async_event_dispatch((load, eventType) => raise(scope, load, eventType));
  functions.gmnet_ready = () => (findRaiser(scope) === undefined ? 0 : 1);

  return { engine, functions, constants: extensionConstants() };
}

/** A GML value of an async_load key: reals and strings as they are, booleans as 1/0, anything else as JSON. */
export function toGmlValue(value: unknown): GmlValue | undefined {
  switch (typeof value) {
    case "number":
    case "string":
      return value;
    case "boolean":
      return value ? 1 : 0;
    case "bigint":
      return Number(value);
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    default:
      return value === null ? undefined : JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? Number(v) : v));
  }
}

function toGmlResult(value: unknown, stringResult: boolean): GmlValue {
  const converted = toGmlValue(value);
  if (converted === undefined) return stringResult ? "" : 0;
  return converted;
}

function fromJsonArgument(arg: GmlValue | undefined): unknown {
  if (typeof arg !== "string") return arg;
  if (arg.trim() === "") return undefined;
  return JSON.parse(arg) as unknown;
}

type Raiser = (load: Record<string, GmlValue>, eventType: number) => void;

function findRaiser(scope: RunnerScope): Raiser | undefined {
  const { ds_map_create, ds_map_add, event_perform_async, GMS_API } = scope;
  if (typeof ds_map_create === "function" && typeof ds_map_add === "function" && typeof event_perform_async === "function") {
    return (load, eventType) => {
      const map = ds_map_create();
      for (const [key, value] of Object.entries(load)) ds_map_add(map, key, value);
      // The runner sets async_load to the map, runs the Async event of every instance that has
      // it, and destroys the map afterwards.
      event_perform_async(undefined, undefined, eventType, map);
    };
  }
  const social = GMS_API?.send_async_event_social;
  if (typeof social === "function") {
    // The documented extension route: only Async Social, and the runner builds the map itself.
    return (load, eventType) => social.call(GMS_API, { ...load, gmnet_event_type: eventType });
  }
  return undefined;
}

function raise(scope: RunnerScope, load: AsyncLoad, eventType: number): void {
  const raiser = findRaiser(scope);
  if (raiser === undefined) throw new Error("gmnet: no GameMaker runner in this page (ds_map_create, ds_map_add and event_perform_async, or GMS_API.send_async_event_social)");
  const map: Record<string, GmlValue> = {};
  for (const [key, value] of Object.entries(load)) {
    const converted = toGmlValue(value);
    if (converted !== undefined) map[key] = converted;
  }
  raiser(map, eventType);
}
