/**
 * Compiling a playground script: the code becomes the body of `new Function(...names, body)`, so
 * every engine export (and the runner's extras) is a free identifier of the script — no `with`,
 * no globals. The body runs in strict mode (an assignment to an undeclared name is an error, not a
 * new global that outlives the run) and ends by handing back the script's `step` and `async_event`
 * functions, if it declared them.
 *
 * Errors get a line number where one can be known: runtime errors from the stack frame of the
 * script (named by a sourceURL comment), syntax errors — which browsers report without a
 * position for `new Function` — from the Lezer JavaScript parser the editor uses.
 */
import { javascriptLanguage } from "@codemirror/lang-javascript";
import type { AsyncEventHandler } from "@gmnet/engine";

/** The file name the script's stack frames carry. */
export const SCRIPT_URL = "gmnet-playground-script.js";

/** On the script's own first line, so it shifts no line numbers. */
const PRELUDE = '"use strict";';
const sourceUrlComment = (name: string): string => `\n//# sourceURL=${name}`;
/** After the script, on a line of its own (a trailing `//` comment cannot swallow it). */
const EPILOGUE =
  '\n;return { step: typeof step === "function" ? step : undefined, async_event: typeof async_event === "function" ? async_event : undefined };';

/** What a script declares for the runner to call. */
export interface ScriptHooks {
  /** Called once per tick while the script runs. */
  readonly step: (() => void) | undefined;
  /** Called for every async event while the script runs. */
  readonly async_event: AsyncEventHandler | undefined;
}

/** Runs the script's top level (its Create event) with the values of its free identifiers, in order. */
export type CompiledScript = (...values: unknown[]) => ScriptHooks | undefined;

/** A syntax error, with the 1-based line it is on when the parser could tell. */
export class ScriptSyntaxError extends SyntaxError {
  override readonly name = "SyntaxError";
  constructor(
    message: string,
    readonly line: number | undefined,
  ) {
    super(message);
  }
}

/** Identifiers a script may use as names: `default` and anything that is not an identifier are left out. */
export function isScriptIdentifier(name: string): boolean {
  return /^[A-Za-z_$][\w$]*$/.test(name) && !RESERVED.has(name);
}

const RESERVED = new Set(["default", "eval", "arguments", "await", "yield", "let", "static", "implements", "interface", "package", "private", "protected", "public"]);

/** Compiles `code` with `names` as its free identifiers; throws ScriptSyntaxError. */
export function compileScript(code: string, names: readonly string[]): CompiledScript {
  try {
    return new Function(...names, `${PRELUDE}${code}${EPILOGUE}${sourceUrlComment(SCRIPT_URL)}`) as CompiledScript;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new ScriptSyntaxError(error.message, syntaxErrorLine(code, error.message));
  }
}

/**
 * How many lines the browser's Function wrapper puts before the body (`function anonymous(…\n) {\n`
 * in V8: two), measured once with a probe compiled the same way, so other engines work too.
 */
const HEADER_LINES = ((): number => {
  const probe = "gmnet-playground-probe.js";
  try {
    (new Function("a", `${PRELUDE}throw new Error("probe");${sourceUrlComment(probe)}`) as (a: unknown) => void)(0);
  } catch (error) {
    const match = new RegExp(`${escapeRegExp(probe)}:(\\d+)`).exec(error instanceof Error ? (error.stack ?? "") : "");
    if (match !== null) return Number(match[1]) - 1;
  }
  return 2;
})();

/** The script's line (1-based) an error was thrown from: the topmost stack frame in the script, if any. */
export function scriptLineOf(error: unknown, code: string): number | undefined {
  if (error instanceof ScriptSyntaxError) return error.line;
  const stack = error instanceof Error ? error.stack : undefined;
  if (stack === undefined) return undefined;
  const match = new RegExp(`${escapeRegExp(SCRIPT_URL)}:(\\d+)`).exec(stack);
  if (match === null) return undefined;
  const line = Number(match[1]) - HEADER_LINES;
  return line >= 1 && line <= lineCount(code) ? line : undefined;
}

/** Whether an error was thrown by (or through) the script's code. */
export function thrownByScript(error: unknown): boolean {
  return error instanceof Error && (error.stack ?? "").includes(SCRIPT_URL);
}

/** The line of a syntax error: a redeclared name is found by its declaration, anything else by the parser's first error node. */
function syntaxErrorLine(code: string, message: string): number | undefined {
  const redeclared = /Identifier '([\w$]+)' has already been declared/.exec(message);
  if (redeclared !== null) {
    const declaration = new RegExp(`\\b(?:let|const|class)\\s+${escapeRegExp(redeclared[1]!)}\\b`).exec(code);
    if (declaration !== null) return lineAt(code, declaration.index);
  }
  let position: number | undefined;
  javascriptLanguage.parser.parse(code).iterate({
    enter: (node) => {
      if (position !== undefined) return false;
      if (node.type.isError) {
        position = node.from;
        return false;
      }
      return undefined;
    },
  });
  return position === undefined ? undefined : lineAt(code, position);
}

function lineAt(code: string, position: number): number {
  let line = 1;
  for (let i = 0; i < position && i < code.length; i++) if (code.charCodeAt(i) === 10) line++;
  return line;
}

function lineCount(code: string): number {
  return lineAt(code, code.length);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
