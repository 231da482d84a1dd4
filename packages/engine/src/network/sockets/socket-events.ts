/**
 * The async_load maps of ev_async_web_networking, built in one place so every socket kind uses
 * GameMaker's keys the same way (see docs/NETWORK.md for the table).
 */
import { buffer_grow } from "../../buffer/constants.js";
import { GmBuffer } from "../../buffer/gm-buffer.js";
import type { EngineContext } from "../../runtime/context.js";
import { network_send_binary, network_send_text, network_type_data } from "../constants.js";
import type { NetworkFault } from "../errors.js";
import type { NetworkRuntime } from "../runtime.js";

/** What emits socket events: the engine's buffers and the network runtime. */
export interface SocketOwner {
  readonly context: EngineContext;
  readonly net: NetworkRuntime;
}

/** A data event: the bytes in a new grow buffer (alignment 1, seek 0) that is deleted after the handler, as in GameMaker. */
export function emitData(target: SocketOwner, keys: Record<string, unknown>, data: Uint8Array, text: boolean): void {
  emitWithBuffer(target, { type: network_type_data, ...keys, message_type: text ? network_send_text : network_send_binary }, data);
}

/** Any event that hands the script bytes: `buffer` and `size` added to `load`, the buffer deleted after the handler. */
export function emitWithBuffer(target: SocketOwner, load: Record<string, unknown>, data: Uint8Array): void {
  const gm = new GmBuffer(data.length, buffer_grow, 1);
  gm.bytes.set(data);
  gm.used = data.length;
  const buffer = target.context.buffers.add(gm);
  target.net.emit({ ...load, buffer, size: data.length }, () => {
    target.context.buffers.delete(buffer);
  });
}

/** The error keys of an event that reports a fault. */
export function faultKeys(problem: NetworkFault): { error: string; message: string } {
  return { error: problem.code, message: problem.message };
}
