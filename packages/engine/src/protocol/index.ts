/** `@gmnet/engine/protocol`: the wire protocol shared by the server, the engine, bots and tests. */
export * from "./constants.js";
export * from "./frame.js";
export * from "./master.js";
export * from "./messages.js";
export * from "./replay-buffer.js";
export { type MessageCodec, type MessageOf, message } from "./schema.js";
