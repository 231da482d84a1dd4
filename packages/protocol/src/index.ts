/**
 * `@gmnet/protocol`: the wire protocol shared by the server, the engine, bots and tests. No
 * runtime dependencies, so the server (and any bot) gets the codecs without the engine.
 */
export * from "./app-key.js";
export * from "./tool-name.js";
export * from "./bytes.js";
export * from "./constants.js";
export * from "./frame.js";
export * from "./master.js";
export * from "./messages.js";
export * from "./replay-buffer.js";
export { type MessageCodec, type MessageOf, message } from "./schema.js";
