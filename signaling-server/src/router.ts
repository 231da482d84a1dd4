/**
 * O(1) dispatch of incoming frames: system channels index an array, app channels (1000–1999) go
 * to one handler that owns them, LLM-session channels (2000–2999) to another. A frame nobody
 * handles is answered with UNKNOWN_CHANNEL or UNKNOWN_PACKET_TYPE, never dropped silently.
 */
import { Channel, Priority, ProtocolError } from "@gmnet/protocol";
import type { Session } from "./session/session.js";

/** `priority` is the one the client gave the frame (app channels relay with it); Normal for frames the server makes itself. */
export type FrameHandler = (session: Session, payload: Uint8Array, type: number, channel: number, priority: number) => void;

export class Router {
  private readonly system: Array<Map<number, FrameHandler> | undefined> = [];
  private appHandler: FrameHandler | undefined;
  private llmHandler: FrameHandler | undefined;

  on(channel: number, type: number, handler: FrameHandler): void {
    if (channel >= Channel.FIRST_APP) throw new Error(`channel ${channel} is an app channel; use onAppChannels`);
    const table = (this.system[channel] ??= new Map());
    if (table.has(type)) throw new Error(`channel ${channel} type ${type} already has a handler`);
    table.set(type, handler);
  }

  onAppChannels(handler: FrameHandler): void {
    this.appHandler = handler;
  }

  onLlmChannels(handler: FrameHandler): void {
    this.llmHandler = handler;
  }

  dispatch(session: Session, channel: number, type: number, payload: Uint8Array, priority: number = Priority.NORMAL): void {
    if (channel >= Channel.FIRST_APP) {
      const handler = channel <= Channel.LAST_APP ? this.appHandler : channel <= Channel.LAST_LLM ? this.llmHandler : undefined;
      if (handler) return handler(session, payload, type, channel, priority);
      return session.sendError(ProtocolError.UNKNOWN_CHANNEL, channel, type, 0, `channel ${channel} is not registered`);
    }
    const table = this.system[channel];
    if (table === undefined) return session.sendError(ProtocolError.UNKNOWN_CHANNEL, channel, type, 0, `no system channel ${channel}`);
    const handler = table.get(type);
    if (handler === undefined) return session.sendError(ProtocolError.UNKNOWN_PACKET_TYPE, channel, type, 0, `channel ${channel} has no packet type ${type}`);
    handler(session, payload, type, channel, priority);
  }
}
