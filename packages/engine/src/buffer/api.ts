/**
 * The core buffer_* functions: lifetime, sequential and random access, copying.
 * Each translates an id into a GmBuffer and checks arguments; the rules live in GmBuffer.
 */
import { ErrorCode, GmnetError } from "../errors.js";
import { type EngineContext, liveBuffer, requireNumber } from "../runtime/context.js";
import {
  BUFFER_MAX_ALIGNMENT,
  BUFFER_MAX_SIZE,
  BUFFER_TYPE_NAMES,
  DATA_TYPE_WIDTH,
  buffer_fast,
  buffer_grow,
  isBufferType,
  isDataType,
} from "./constants.js";
import { type BufferValue, GmBuffer } from "./gm-buffer.js";

export function createBufferApi(context: EngineContext) {
  const { buffers } = context;

  return {
    buffer_create(size: number, type: number, alignment: number): number {
      requireNumber(size, "size", "buffer_create");
      if (!Number.isInteger(size) || size < 0 || size > BUFFER_MAX_SIZE) {
        throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `buffer_create: size must be a whole number from 0 to ${BUFFER_MAX_SIZE}, not ${size}`);
      }
      if (!isBufferType(type)) {
        throw new GmnetError(ErrorCode.INVALID_TYPE, `buffer_create: ${String(type)} is not a buffer type (${BUFFER_TYPE_NAMES.join(", ")})`);
      }
      const align = roundAlignment(requireNumber(alignment, "alignment", "buffer_create"));
      if (type === buffer_fast && align !== 1) {
        throw new GmnetError(ErrorCode.INVALID_ARGUMENT, "buffer_create: buffer_fast buffers must have alignment 1");
      }
      return buffers.add(new GmBuffer(size, type, align));
    },

    buffer_delete(buffer: number): void {
      if (!buffers.delete(buffer)) {
        throw new GmnetError(ErrorCode.INVALID_BUFFER, `buffer_delete: ${String(buffer)} is not a live buffer`);
      }
    },

    buffer_exists(buffer: number): boolean {
      return buffers.has(buffer);
    },

    buffer_write(buffer: number, type: number, value: BufferValue): number {
      return liveBuffer(context, buffer, "buffer_write").write(type, value);
    },

    buffer_read(buffer: number, type: number): BufferValue | undefined {
      return liveBuffer(context, buffer, "buffer_read").read(type);
    },

    buffer_seek(buffer: number, base: number, offset: number): number {
      return liveBuffer(context, buffer, "buffer_seek").seek(base, requireNumber(offset, "offset", "buffer_seek"));
    },

    buffer_tell(buffer: number): number {
      return liveBuffer(context, buffer, "buffer_tell").position;
    },

    buffer_peek(buffer: number, offset: number, type: number): BufferValue | undefined {
      return liveBuffer(context, buffer, "buffer_peek").peek(requireNumber(offset, "offset", "buffer_peek"), type);
    },

    buffer_poke(buffer: number, offset: number, type: number, value: BufferValue): number {
      return liveBuffer(context, buffer, "buffer_poke").poke(requireNumber(offset, "offset", "buffer_poke"), type, value);
    },

    buffer_fill(buffer: number, offset: number, type: number, value: BufferValue, size: number): number {
      const target = liveBuffer(context, buffer, "buffer_fill");
      return target.fill(requireNumber(offset, "offset", "buffer_fill"), type, value, requireNumber(size, "size", "buffer_fill"));
    },

    buffer_get_size(buffer: number): number {
      return liveBuffer(context, buffer, "buffer_get_size").size;
    },

    buffer_get_type(buffer: number): number {
      return liveBuffer(context, buffer, "buffer_get_type").type;
    },

    buffer_get_alignment(buffer: number): number {
      return liveBuffer(context, buffer, "buffer_get_alignment").alignment;
    },

    buffer_get_used_size(buffer: number): number {
      return liveBuffer(context, buffer, "buffer_get_used_size").used;
    },

    buffer_set_used_size(buffer: number, size: number): void {
      liveBuffer(context, buffer, "buffer_set_used_size").setUsed(requireNumber(size, "size", "buffer_set_used_size"));
    },

    /** Bytes one value of `type` takes; 0 for buffer_string and buffer_text, whose size varies. */
    buffer_sizeof(type: number): number {
      if (!isDataType(type)) throw new GmnetError(ErrorCode.INVALID_TYPE, `buffer_sizeof: ${String(type)} is not a buffer data type`);
      return DATA_TYPE_WIDTH[type]!;
    },

    buffer_resize(buffer: number, size: number): void {
      const target = liveBuffer(context, buffer, "buffer_resize");
      requireNumber(size, "size", "buffer_resize");
      if (!Number.isInteger(size) || size < 0 || size > BUFFER_MAX_SIZE) {
        throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `buffer_resize: size must be a whole number from 0 to ${BUFFER_MAX_SIZE}, not ${size}`);
      }
      target.resize(size);
    },

    /**
     * Copies `size` bytes (clamped to the source) without moving either seek position. Grow
     * destinations expand, wrap destinations continue at their start, fixed ones keep what fits.
     * Copying within one buffer is allowed and behaves like memmove. Returns the bytes copied.
     */
    buffer_copy(src_buffer: number, src_offset: number, size: number, dest_buffer: number, dest_offset: number): number {
      const source = liveBuffer(context, src_buffer, "buffer_copy");
      const dest = liveBuffer(context, dest_buffer, "buffer_copy");
      requireNumber(size, "size", "buffer_copy");
      const bytes = source.range(requireNumber(src_offset, "src_offset", "buffer_copy"), Math.max(0, size));
      // Copying within one buffer must not read bytes it has already overwritten.
      return dest.writeBytes(requireNumber(dest_offset, "dest_offset", "buffer_copy"), source === dest ? bytes.slice() : bytes);
    },
  };
}

/**
 * Wraps bytes the engine produced (a load, a decode, a network packet) in a new buffer, as
 * GameMaker does: buffer_grow, alignment 1, seek 0, used size = size.
 */
export function adoptBytes(context: EngineContext, bytes: Uint8Array): number {
  const buffer = new GmBuffer(bytes.length, buffer_grow, 1);
  buffer.bytes.set(bytes);
  buffer.used = bytes.length;
  return context.buffers.add(buffer);
}

/** GameMaker rounds alignment up to a power of two; 1…1024 are accepted. */
function roundAlignment(alignment: number): number {
  if (!(alignment >= 1 && alignment <= BUFFER_MAX_ALIGNMENT)) {
    throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `buffer_create: alignment must be from 1 to ${BUFFER_MAX_ALIGNMENT}, not ${alignment}`);
  }
  let power = 1;
  while (power < alignment) power *= 2;
  return power;
}
