import type { GmBuffer } from "../buffer/gm-buffer.js";
import { ErrorCode, GmnetError } from "../errors.js";
import type { AsyncEventQueue } from "../events/async-events.js";
import type { FileStorage } from "../storage/file-storage.js";
import type { Clock } from "./clock.js";
import type { HandleTable } from "./handle-table.js";

/** What one engine instance owns; every function family is built over one of these. */
export interface EngineContext {
  readonly buffers: HandleTable<GmBuffer>;
  readonly events: AsyncEventQueue;
  readonly clock: Clock;
  /** Resolved lazily so that merely importing the engine never touches disk or localStorage. */
  storage(): FileStorage;
  /** Async request ids (buffer_save_async, http_*, …) share one counter, as in GameMaker. */
  nextRequestId(): number;
  readonly limits: EngineLimits;
  /** How http_* reach the network: EngineOptions.fetch, or the platform's fetch. */
  readonly fetch: typeof fetch;
}

export interface EngineLimits {
  /** buffer_decompress refuses to inflate beyond this many bytes. */
  readonly maxDecompressedSize: number;
}

/** Looks up a live buffer or throws the documented E_INVALID_BUFFER. */
export function liveBuffer(context: EngineContext, id: number, fn: string): GmBuffer {
  const buffer = context.buffers.get(id);
  if (buffer === undefined) throw notLive(id, fn);
  return buffer;
}

function notLive(id: unknown, fn: string): GmnetError {
  return new GmnetError(ErrorCode.INVALID_BUFFER, `${fn}: ${String(id)} is not a live buffer`);
}

/** Bytes [0, size) of a live buffer, as the send functions take them (a view, no copy); size must be a whole number within the buffer. */
export function bufferRange(context: EngineContext, id: number, size: unknown, fn: string): Uint8Array {
  const gm = liveBuffer(context, id, fn);
  const count = requireNumber(size, "size", fn);
  if (!Number.isInteger(count) || count < 0 || count > gm.size) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: size must be a whole number from 0 to the buffer's size ${gm.size}, not ${count}`);
  return gm.bytes.subarray(0, count);
}

export function requireNumber(value: unknown, name: string, fn: string): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: ${name} must be a number, not ${String(value)}`);
  }
  return value;
}

export function requireString(value: unknown, name: string, fn: string): string {
  if (typeof value !== "string") {
    throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: ${name} must be a string, not ${typeof value}`);
  }
  return value;
}
