/**
 * `@gmnet/engine/debug`: how the engine prints script values, and the show_* functions over an
 * output of your choosing — for hosts that run scripts and show their output themselves (the
 * playground's console does).
 */
export { type EngineOutput, createDebugApi } from "./api.js";
export { describeValue, formatDebugMessage, formatValue } from "./format.js";
