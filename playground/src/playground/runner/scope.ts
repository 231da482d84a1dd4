/**
 * The free identifiers of a playground script: every export of @gmnet/engine, the engine's
 * functions wrapped so the run knows what the script created (RunResources), the show_* functions
 * writing to the page's console, and timers that Stop clears.
 *
 * Every wrapped function first checks that its run is still going: a timer or promise left over
 * from a stopped run that calls into the engine gets a ScriptStoppedError instead of creating
 * sockets nobody will clean up.
 */
import { type AsyncEventHandler, type Engine, ErrorCode, GmnetError } from "@gmnet/engine";
import { createDebugApi } from "@gmnet/engine/debug";
import type { Phase } from "./problems.js";
import { type EngineModule, type RunResources, socketKind } from "./resources.js";
import { isScriptIdentifier } from "./compile.js";

/** Thrown into code of a run that has stopped; the page ignores it (the run is over on purpose). */
export class ScriptStoppedError extends Error {
  override readonly name = "ScriptStoppedError";
  readonly code = "E_SCRIPT_STOPPED";
  constructor(what: string) {
    super(`${what}: the script was stopped`);
  }
}

/** What the scope needs from its run. */
export interface ScopeHost {
  readonly resources: RunResources;
  /** Throws ScriptStoppedError once the run is over. */
  ensureActive(what: string): void;
  /** A line of show_debug_message (or show_message, which the page prints instead of a modal box). */
  print(text: string): void;
  /** The script's own async_event_dispatch(handler): through the runner, so the log and panels still see every event. */
  dispatch(handler: AsyncEventHandler): number;
  /** A callback the script handed to a timer threw: the run fails. */
  callbackFailed(error: unknown, phase: Phase): void;
}

export interface Scope {
  readonly names: readonly string[];
  readonly values: readonly unknown[];
}

/** Names the scope adds to the engine's exports. */
export const EXTRA_NAMES = ["setTimeout", "setInterval", "clearTimeout", "clearInterval", "requestAnimationFrame", "cancelAnimationFrame"] as const;

type AnyFunction = (...args: unknown[]) => unknown;

/** Engine functions that start a request and return its id (master getters and settings excluded). */
function returnsRequestId(name: string): boolean {
  if (name.startsWith("master_")) return !/^master_(get_|set_|logged_in$)/.test(name);
  return ["http_get", "http_get_file", "http_post_string", "http_request", "buffer_save_async", "buffer_load_async", "network_resolve_async"].includes(name);
}

const BUFFER_MAKERS = new Set(["buffer_create", "buffer_base64_decode", "buffer_compress", "buffer_decompress", "buffer_load"]);
const SERVER_MAKERS = new Set(["network_create_server", "network_create_server_raw"]);
const SOCKET_MAKERS = new Set(["network_create_socket", "network_create_socket_ext"]);
const CONNECTS = new Set(["network_connect", "network_connect_async", "network_connect_raw", "network_connect_raw_async"]);
const LOGINS = new Set(["master_login", "master_login_guest", "master_resume"]);
const ROOM_JOINS = new Set(["master_room_create", "master_room_join"]);
const PARTY_JOINS = new Set(["master_party_create", "master_party_accept"]);

/** Whether an export is one of the engine's GameMaker-style functions (not a class such as GmnetError). */
function isEngineFunction(name: string, value: unknown): value is AnyFunction {
  return typeof value === "function" && /^(buffer|network|http|master|async_event|ds|show)_/.test(name);
}

export function buildScope(engine: EngineModule, host: ScopeHost): Scope {
  const exports = engine as unknown as Readonly<Record<string, unknown>>;
  const { resources } = host;
  const scope = new Map<string, unknown>();

  for (const [name, value] of Object.entries(exports)) {
    if (!isScriptIdentifier(name)) continue;
    scope.set(name, isEngineFunction(name, value) ? wrap(name, value) : value);
  }

  function wrap(name: string, fn: AnyFunction): AnyFunction {
    const track = tracker(name);
    const wrapped = (...args: unknown[]): unknown => {
      host.ensureActive(name);
      const result = fn(...args);
      track?.(result, args);
      return result;
    };
    Object.defineProperty(wrapped, "name", { value: name });
    return wrapped;
  }

  /** What to record after a call of `name` returned `result`. */
  function tracker(name: string): ((result: unknown, args: unknown[]) => void) | undefined {
    const e = engine;
    if (SERVER_MAKERS.has(name)) {
      return (result, [type, port]) => {
        if (typeof result === "number" && result >= 0) resources.addSocket({ id: result, kind: socketKind(type), role: "server", port: typeof port === "number" ? port : undefined });
      };
    }
    if (SOCKET_MAKERS.has(name)) {
      return (result, [type, port]) => {
        if (typeof result !== "number" || result < 0) return;
        const bound = name === "network_create_socket_ext" && type === e.network_socket_udp && typeof port === "number" && port > 0 ? port : undefined;
        resources.addSocket({ id: result, kind: socketKind(type), role: "socket", port: bound });
      };
    }
    if (CONNECTS.has(name)) return (result, [id]) => resources.connecting(id, result);
    if (name === "network_destroy") return (_result, [id]) => typeof id === "number" && resources.removeSocket(id);
    if (name === "network_shutdown") return () => resources.clearSockets();
    if (BUFFER_MAKERS.has(name)) return (result) => resources.addBuffer(result);
    if (name === "buffer_delete") return (_result, [id]) => typeof id === "number" && resources.removeBuffer(id);
    if (name === "network_mcp_tool_register") {
      return (result, [tool, description]) => {
        resources.addRequest(result);
        resources.mcp.registering(tool, description, result);
      };
    }
    if (name === "network_mcp_tool_unregister") return (result, [tool]) => resources.mcp.unregistered(tool, result);
    if (name === "network_mcp_tool_respond") return (result, [callId, answer, isError]) => resources.mcp.responded(callId, answer, isError, result);
    if (name === "network_set_config") return (result, [config]) => config === e.network_config_hostname && resources.addRequest(result);
    if (!returnsRequestId(name)) return undefined;
    return (result) => {
      resources.addRequest(result);
      if (LOGINS.has(name)) resources.loggedIn = true;
      if (ROOM_JOINS.has(name)) resources.joinedRoom = true;
      if (PARTY_JOINS.has(name)) resources.joinedParty = true;
    };
  }

  // The script's own dispatch goes through the runner: the event log and the panels see every event.
  scope.set("async_event_dispatch", (handler: unknown): number => {
    host.ensureActive("async_event_dispatch");
    if (typeof handler !== "function") throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `async_event_dispatch: the handler must be a function, not ${typeof handler}`);
    return host.dispatch(handler as AsyncEventHandler);
  });

  // Further engines (another "machine" in this tab): Stop shuts their networking down.
  scope.set("createEngine", (...args: Parameters<EngineModule["createEngine"]>): Engine => {
    host.ensureActive("createEngine");
    const created = engine.createEngine(...args);
    resources.addEngine(created);
    return created;
  });

  // defaultEngine and installGlobals hand out the wrapped functions, never the raw ones.
  const wrappedEngine = Object.fromEntries(Object.keys(engine.defaultEngine).map((name) => [name, scope.get(name) ?? (exports.defaultEngine as Record<string, unknown>)[name]])) as Engine;
  scope.set("defaultEngine", wrappedEngine);
  scope.set("installGlobals", (target: object = globalThis, target_engine: Engine = wrappedEngine): string[] => {
    host.ensureActive("installGlobals");
    return engine.installGlobals(target, target_engine);
  });

  // The show_* functions write to the page's console; show_message too, where a modal box would stop the page.
  const shows = createDebugApi({ debug: (text) => host.print(text), message: (text) => host.print(`[show_message] ${text}`) });
  for (const [name, show] of Object.entries(shows) as Array<[string, AnyFunction]>) {
    scope.set(name, (...args: unknown[]): unknown => {
      host.ensureActive(name);
      return show(...args);
    });
  }

  // Timers the run owns: Stop clears them, and a callback that throws fails the run (with its line).
  const guarded =
    (callback: unknown, what: string, once: (() => void) | undefined) =>
    (...args: unknown[]): void => {
      once?.();
      if (typeof callback !== "function") return;
      try {
        host.ensureActive(what);
        (callback as AnyFunction)(...args);
      } catch (error) {
        host.callbackFailed(error, "timer");
      }
    };
  const requireCallback = (callback: unknown, what: string): void => {
    host.ensureActive(what);
    if (typeof callback !== "function") throw new TypeError(`${what}: pass a function (code in a string is not run)`);
  };
  scope.set("setTimeout", (callback: unknown, delay?: number, ...args: unknown[]): number => {
    requireCallback(callback, "setTimeout");
    const id: number = window.setTimeout(guarded(callback, "setTimeout", () => resources.removeTimer(id)), delay, ...args);
    resources.addTimer(id, "timeout");
    return id;
  });
  scope.set("setInterval", (callback: unknown, delay?: number, ...args: unknown[]): number => {
    requireCallback(callback, "setInterval");
    const id = window.setInterval(guarded(callback, "setInterval", undefined), delay, ...args);
    resources.addTimer(id, "interval");
    return id;
  });
  scope.set("requestAnimationFrame", (callback: unknown): number => {
    requireCallback(callback, "requestAnimationFrame");
    const id: number = window.requestAnimationFrame(guarded(callback, "requestAnimationFrame", () => resources.removeTimer(id)));
    resources.addTimer(id, "frame");
    return id;
  });
  scope.set("clearTimeout", (id?: number): void => {
    window.clearTimeout(id);
    if (id !== undefined) resources.removeTimer(id);
  });
  scope.set("clearInterval", (id?: number): void => {
    window.clearInterval(id);
    if (id !== undefined) resources.removeTimer(id);
  });
  scope.set("cancelAnimationFrame", (id: number): void => {
    window.cancelAnimationFrame(id);
    resources.removeTimer(id);
  });

  return { names: [...scope.keys()], values: [...scope.values()] };
}

/** Every name a script can use, for the editor's completions: [name, what it is]. */
export function scopeNames(engine: EngineModule): Array<[string, "function" | "constant" | "class" | "variable"]> {
  const names: Array<[string, "function" | "constant" | "class" | "variable"]> = [];
  for (const [name, value] of Object.entries(engine as unknown as Record<string, unknown>)) {
    if (!isScriptIdentifier(name)) continue;
    if (isEngineFunction(name, value) || name === "createEngine" || name === "installGlobals") names.push([name, "function"]);
    else if (typeof value === "function") names.push([name, "class"]);
    else if (typeof value === "number" || typeof value === "string") names.push([name, "constant"]);
    else names.push([name, "variable"]);
  }
  return names;
}
