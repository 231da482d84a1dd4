/**
 * buffer_save* / buffer_load*: buffers to and from the engine's FileStorage.
 * Storage faults (quota, disk, permissions) are not script bugs, so they never throw: the sync
 * functions return -1 and the async ones report `status: false` in their Save/Load event.
 * Malformed file names are script bugs and throw E_INVALID_FILENAME.
 */
import { ev_async_save_load } from "../events/async-events.js";
import { type EngineContext, liveBuffer, requireNumber } from "../runtime/context.js";
import { checkFileName } from "../storage/file-storage.js";
import { adoptBytes } from "./api.js";

export function createBufferFileApi(context: EngineContext) {
  const save = (name: string, bytes: Uint8Array): number => {
    try {
      context.storage().writeSync(name, bytes);
      return 0;
    } catch {
      return -1;
    }
  };

  const load = (name: string): Uint8Array | undefined => {
    try {
      return context.storage().readSync(name);
    } catch {
      return undefined;
    }
  };

  const finish = (id: number, status: boolean): void => {
    context.events.push(ev_async_save_load, { id, status });
  };

  return {
    /** Saves the whole buffer (its full size, not just the used part). 0, or -1 if storage refused. */
    buffer_save(buffer: number, filename: string): number {
      const source = liveBuffer(context, buffer, "buffer_save");
      return save(checkFileName(filename, "buffer_save"), source.bytes);
    },

    /** Saves `size` bytes from `offset` (clamped; a negative size means to the end). 0 or -1. */
    buffer_save_ext(buffer: number, filename: string, offset: number, size: number): number {
      const source = liveBuffer(context, buffer, "buffer_save_ext");
      const name = checkFileName(filename, "buffer_save_ext");
      return save(name, source.range(requireNumber(offset, "offset", "buffer_save_ext"), requireNumber(size, "size", "buffer_save_ext")));
    },

    /**
     * Saves in the background and returns an async request id; an ev_async_save_load event with
     * that `id` and `status` follows. The bytes are taken at call time, so the script may change
     * or delete the buffer straight away.
     */
    buffer_save_async(buffer: number, filename: string, offset: number, size: number): number {
      const source = liveBuffer(context, buffer, "buffer_save_async");
      const name = checkFileName(filename, "buffer_save_async");
      const bytes = source.range(requireNumber(offset, "offset", "buffer_save_async"), requireNumber(size, "size", "buffer_save_async")).slice();
      const id = context.nextRequestId();
      void write(context, name, bytes).then((ok) => finish(id, ok));
      return id;
    },

    /** A new grow buffer holding the file, or -1 if there is no such file. */
    buffer_load(filename: string): number {
      const bytes = load(checkFileName(filename, "buffer_load"));
      return bytes === undefined ? -1 : adoptBytes(context, bytes);
    },

    /** Loads the whole file into `buffer` at `offset`; the bytes that landed, or -1 if there is no such file. */
    buffer_load_ext(buffer: number, filename: string, offset: number): number {
      const target = liveBuffer(context, buffer, "buffer_load_ext");
      const at = requireNumber(offset, "offset", "buffer_load_ext");
      const bytes = load(checkFileName(filename, "buffer_load_ext"));
      return bytes === undefined ? -1 : target.writeBytes(at, bytes);
    },

    /**
     * Loads `src_len` bytes (negative: the rest) starting `src_offset` bytes into the file, into
     * `buffer` at `dest_offset`. The bytes that landed, or -1 if there is no such file.
     */
    buffer_load_partial(buffer: number, filename: string, src_offset: number, src_len: number, dest_offset: number): number {
      const fn = "buffer_load_partial";
      const target = liveBuffer(context, buffer, fn);
      const from = Math.max(0, Math.trunc(requireNumber(src_offset, "src_offset", fn)));
      const length = requireNumber(src_len, "src_len", fn);
      const at = requireNumber(dest_offset, "dest_offset", fn);
      const bytes = load(checkFileName(filename, fn));
      if (bytes === undefined) return -1;
      const end = length < 0 ? bytes.length : Math.min(bytes.length, from + Math.trunc(length));
      return target.writeBytes(at, bytes.subarray(Math.min(from, end), end));
    },

    /**
     * Loads in the background into `buffer` at `offset`: `size` bytes of the file, or all of it
     * when size is -1. Returns an async request id; an ev_async_save_load event with that `id`
     * and `status` follows (false for a missing file, or if the buffer was deleted meanwhile).
     */
    buffer_load_async(buffer: number, filename: string, offset: number, size: number): number {
      liveBuffer(context, buffer, "buffer_load_async");
      const name = checkFileName(filename, "buffer_load_async");
      const at = requireNumber(offset, "offset", "buffer_load_async");
      const wanted = requireNumber(size, "size", "buffer_load_async");
      const id = context.nextRequestId();
      void read(context, name).then((bytes) => {
        const target = context.buffers.get(buffer);
        if (bytes === undefined || target === undefined) return finish(id, false);
        target.writeBytes(at, wanted < 0 ? bytes : bytes.subarray(0, Math.trunc(wanted)));
        finish(id, true);
      });
      return id;
    },
  };
}

async function write(context: EngineContext, name: string, bytes: Uint8Array): Promise<boolean> {
  try {
    await context.storage().write(name, bytes);
    return true;
  } catch {
    return false;
  }
}

async function read(context: EngineContext, name: string): Promise<Uint8Array | undefined> {
  try {
    return await context.storage().read(name);
  } catch {
    return undefined;
  }
}
