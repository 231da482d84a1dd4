/**
 * show_debug_message, show_debug_message_ext and show_message: the first lines of almost every
 * GameMaker tutorial, available in every engine (browser page, Node bot, playground) and not only
 * in the playground. Where the text goes is the engine's `output` option, so a test, a bot's
 * logger or the playground's console can take it.
 */
import { ErrorCode, GmnetError } from "../errors.js";
import { formatDebugMessage, formatValue } from "./format.js";

/** Where an engine's messages go. */
export interface EngineOutput {
  /** show_debug_message's lines. Default: console.log. */
  debug(text: string): void;
  /** show_message's text. Default: the browser's alert() (a modal box, as GameMaker's HTML5 runner shows it), console.log where there is none. */
  message(text: string): void;
}

export const defaultOutput: EngineOutput = {
  debug: (text) => console.log(text),
  message: (text) => {
    const alert = (globalThis as { alert?: (text: string) => void }).alert;
    if (typeof alert === "function") alert(text);
    else console.log(text);
  },
};

export function createDebugApi(output: EngineOutput) {
  return {
    /** show_debug_message(value, …values): `{0}`, `{1}` … in a string first value take the further values; otherwise the values are joined with spaces. */
    show_debug_message(value: unknown, ...values: unknown[]): void {
      output.debug(formatDebugMessage([value, ...values]));
    },

    /** show_debug_message_ext(string, values): the placeholders' values as one array. */
    show_debug_message_ext(value: unknown, values: unknown): void {
      if (!Array.isArray(values)) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `show_debug_message_ext: values must be an array, not ${typeof values}`);
      output.debug(formatDebugMessage([value, ...(values as unknown[])]));
    },

    /** show_message(value): the value as text in a message box (see EngineOutput.message). */
    show_message(value: unknown): void {
      output.message(formatValue(value));
    },
  };
}
