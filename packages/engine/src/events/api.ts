import { ErrorCode, GmnetError } from "../errors.js";
import { type EngineContext, requireNumber } from "../runtime/context.js";
import type { AsyncEventHandler } from "./async-events.js";

/** How a game receives async events: drain them once per step, or await the next one. */
export function createAsyncEventApi(context: EngineContext) {
  return {
    /**
     * Calls `handler(async_load, event_type)` for every queued async event, oldest first, and
     * returns how many were handled. Call it once per game step. Buffers an event carries (as
     * network data events will) are deleted after its handler returns, as in GameMaker.
     */
    async_event_dispatch(handler: AsyncEventHandler): number {
      if (typeof handler !== "function") {
        throw new GmnetError(ErrorCode.INVALID_ARGUMENT, "async_event_dispatch: handler must be a function (async_load, event_type) => void");
      }
      return context.events.dispatch(handler);
    },

    /** How many async events are waiting for the next dispatch. */
    async_event_pending(): number {
      return context.events.pending;
    },

    /** Resolves true once an async event is waiting, or false after `timeout_ms`; for tools, bots and tests. */
    async_event_wait(timeout_ms: number): Promise<boolean> {
      return context.events.wait(requireNumber(timeout_ms, "timeout_ms", "async_event_wait"));
    },
  };
}
