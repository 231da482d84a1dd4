/**
 * A stand-in for GameMaker's HTML5 runner, written from GameMaker's documented behaviour (not from
 * gmnet's code): ds_maps with integer ids, `ds_map_add` adding a key only if it is absent, and
 * `event_perform_async(self, other, subevent, map)` that sets async_load to the map, runs the Async
 * event of the game's instances at once, then destroys the map.
 *
 * Each FakeTab evaluates the extension script the way the runner loads an extension file: as a
 * classic script in the page's global scope (its own vm context here, one per browser tab).
 */
import { createContext, runInContext } from "node:vm";

export type GmlValue = string | number;

export interface RaisedEvent {
  /** The async subevent (68 Async Networking, 70 Async Social, …). */
  event: number;
  map: number;
  /** async_load's keys and values, read inside the event. */
  load: Record<string, GmlValue>;
  /** What the game's Async event read from gmnet during the event (e.g. a data buffer's text). */
  extra: Record<string, unknown>;
}

export class FakeRunner {
  readonly maps = new Map<number, Map<string, GmlValue>>();
  readonly destroyed = new Set<number>();
  readonly events: RaisedEvent[] = [];
  /** The game's Async event: runs while async_load is valid. */
  onAsync: (event: RaisedEvent) => void = () => {};
  asyncLoad = -1;
  private nextMap = 0;

  readonly globals = {
    ds_map_create: (): number => {
      const id = this.nextMap++;
      this.maps.set(id, new Map());
      return id;
    },
    ds_map_add: (map: number, key: string, value: GmlValue): boolean => {
      const entries = this.maps.get(map);
      if (entries === undefined) throw new Error(`ds_map_add: no map ${map}`);
      if (typeof value !== "number" && typeof value !== "string") throw new Error(`ds_map_add: ${key} is a ${typeof value}, not a real or a string`);
      if (entries.has(key)) return false;
      entries.set(key, value);
      return true;
    },
    event_perform_async: (_self: unknown, _other: unknown, event: number, map: number): void => {
      const entries = this.maps.get(map);
      if (entries === undefined) throw new Error(`event_perform_async: no map ${map}`);
      const previous = this.asyncLoad;
      this.asyncLoad = map;
      const raised: RaisedEvent = { event, map, load: Object.fromEntries(entries), extra: {} };
      try {
        this.onAsync(raised);
      } finally {
        this.events.push(raised);
        this.asyncLoad = previous;
        this.maps.delete(map);
        this.destroyed.add(map);
      }
    },
  };
}

/** The outer realm's globals a page would have (timers, encoders, typed arrays shared with `ws`). */
const PAGE_GLOBALS = [
  "setTimeout", "clearTimeout", "setInterval", "clearInterval", "queueMicrotask", "console", "crypto", "performance",
  "TextEncoder", "TextDecoder", "URL", "Blob", "ArrayBuffer", "Uint8Array", "Int8Array", "Uint16Array", "Int16Array",
  "Uint32Array", "Int32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "DataView",
  "EventTarget", "Event", "AbortController", "btoa", "atob", "structuredClone", "MessageChannel",
] as const;

export type Gml = Record<string, (...args: GmlValue[]) => GmlValue>;

export class FakeTab {
  readonly runner = new FakeRunner();
  readonly gml: Gml;

  constructor(script: string, engineOptions: object, withRunner = true) {
    const sandbox: Record<string, unknown> = { gmnet_engine_options: engineOptions };
    for (const name of PAGE_GLOBALS) sandbox[name] = (globalThis as Record<string, unknown>)[name];
    if (withRunner) Object.assign(sandbox, this.runner.globals);
    this.sandbox = sandbox;
    const context = createContext(sandbox);
    // A page's global object is also `window` and `self`.
    runInContext("globalThis.window = globalThis; globalThis.self = globalThis;", context);
    runInContext(script, context, { filename: "gmnet.js" });
    this.gml = new Proxy({} as Gml, {
      get: (_target, name: string) => {
        const fn = sandbox[name];
        if (typeof fn !== "function") throw new Error(`the extension defines no global ${name}`);
        return fn as (...args: GmlValue[]) => GmlValue;
      },
    });
  }

  readonly sandbox: Record<string, unknown>;

  /** Steps the game (gmnet_async_step) until an event matching `match` was raised; fails after `timeoutMs`. */
  async until(match: (event: RaisedEvent) => boolean, timeoutMs = 10_000): Promise<RaisedEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const event of this.runner.events) if (match(event)) return event;
      if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms; last raised: ${JSON.stringify(this.runner.events.slice(-5).map((e) => [e.event, e.load]))}`);
      // One game step per "frame": the extension's step hook raises whatever gmnet queued.
      this.gml.gmnet_async_step!();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  shutdown(): void {
    this.gml.gmnet_network_shutdown!();
  }
}
