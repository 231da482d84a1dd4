/**
 * The composition root of the engine: one call builds an independent engine (its own buffers,
 * event queue and storage) and returns every function and constant as one object. Several
 * engines can live in one process — a test can run a host and two clients side by side.
 */
import { createBufferApi } from "./buffer/api.js";
import * as bufferConstants from "./buffer/constants.js";
import { createBufferDataApi } from "./buffer/data-api.js";
import { createBufferFileApi } from "./buffer/file-api.js";
import type { GmBuffer } from "./buffer/gm-buffer.js";
import { type EngineOutput, createDebugApi, defaultOutput } from "./debug/api.js";
import { createDsApi } from "./ds/api.js";
import { createAsyncEventApi } from "./events/api.js";
import { AsyncEventQueue, ev_async_save_load, ev_async_social, ev_async_web, ev_async_web_networking } from "./events/async-events.js";
import { createHttpApi } from "./http/api.js";
import { createMasterApi } from "./master/api.js";
import * as masterConstants from "./master/constants.js";
import { createNetworkApi } from "./network/api.js";
import * as networkConstants from "./network/constants.js";
import { type NetworkOptions, NetworkRuntime } from "./network/runtime.js";
import { type Clock, systemClock } from "./runtime/clock.js";
import type { EngineContext } from "./runtime/context.js";
import { HandleTable } from "./runtime/handle-table.js";
import { createDefaultStorage } from "./storage/default-storage.js";
import type { FileStorage } from "./storage/file-storage.js";

export interface EngineOptions {
  /** Where buffer_save/buffer_load keep files. Default: localStorage in browsers, ./data/files in Node. */
  storage?: FileStorage;
  /** Time source for timeouts. Default: the platform's timers. */
  clock?: Clock;
  /** Largest output buffer_decompress will produce, in bytes. Default 256 MiB. */
  maxDecompressedSize?: number;
  /** What http_* use to reach the network. Default: the platform's fetch (globalThis.fetch, looked up per request). */
  fetch?: typeof fetch;
  /** WebSocket and WebRTC implementations, signaling server, app key and identity for network_* and master_*; in Node, `listen` gives servers real ports. */
  network?: NetworkOptions;
  /** Where show_debug_message and show_message write. Default: console.log, and alert() in browsers for show_message. */
  output?: Partial<EngineOutput>;
}

const DEFAULT_MAX_DECOMPRESSED_SIZE = 256 * 1024 * 1024;

export const engineConstants = {
  ...pickConstants(bufferConstants, "buffer_"),
  ...pickConstants(networkConstants, "network_"),
  ...pickConstants(masterConstants, "master_"),
  ev_async_web,
  ev_async_web_networking,
  ev_async_social,
  ev_async_save_load,
};

export function createEngine(options: EngineOptions = {}) {
  const clock = options.clock ?? systemClock;
  let storage = options.storage;
  let requestId = 0;
  const context: EngineContext = {
    buffers: new HandleTable<GmBuffer>(),
    events: new AsyncEventQueue(clock),
    clock,
    storage: () => (storage ??= createDefaultStorage()),
    nextRequestId: () => ++requestId,
    limits: { maxDecompressedSize: options.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE },
    fetch: plainCall(options.fetch),
  };
  // One signaling connection per engine, shared: master_* logins move the address network_* sockets use.
  const network = new NetworkRuntime(context, options.network);
  return {
    ...engineConstants,
    ...createAsyncEventApi(context),
    ...createBufferApi(context),
    ...createBufferDataApi(context),
    ...createBufferFileApi(context),
    ...createHttpApi(context),
    ...createNetworkApi(context, network),
    ...createMasterApi(context, network),
    ...createDsApi(context),
    ...createDebugApi({ ...defaultOutput, ...options.output }),
  };
}

export type Engine = ReturnType<typeof createEngine>;

/**
 * fetch called as a plain function, never as a method of the context: browsers refuse fetch with
 * any `this` but the global object. Without an injected one, globalThis.fetch is looked up per call.
 */
function plainCall(injected: typeof fetch | undefined): typeof fetch {
  return injected === undefined ? (input, init) => globalThis.fetch(input, init) : (input, init) => injected(input, init);
}

/** The GameMaker-named constants of a module (buffer_*, network_*, master_*), leaving out gmnet's internal tables and helpers. */
function pickConstants<T extends object, P extends string>(module: T, prefix: P) {
  const entries = Object.entries(module).filter(([name, value]) => name.startsWith(prefix) && typeof value === "number");
  return Object.fromEntries(entries) as Pick<T, Extract<keyof T, `${P}${string}`>>;
}
