/**
 * What the page shows for anything thrown: a code (GmnetError's stable `code`, or the error's
 * name — SyntaxError, TypeError …), a sentence, and where in the script it happened if known.
 */
import { describeError } from "../../shared/describe-error.js";

/** Where the runner was when the script threw. */
export type Phase = "compile" | "create" | "step" | "async_event" | "timer" | "callback" | "page";

export interface Problem {
  /** E_INVALID_BUFFER, SyntaxError, TypeError … */
  readonly code: string;
  /** The message without the code GmnetError messages start with. */
  readonly message: string;
  readonly phase: Phase;
  /** 1-based line of the script, when known. */
  readonly line: number | undefined;
}

const PHASES: Readonly<Record<Phase, string>> = {
  compile: "while compiling",
  create: "in the script's top level",
  step: "in step()",
  async_event: "in async_event()",
  timer: "in a timer callback",
  callback: "in a callback",
  page: "in the page",
};

export function describeProblem(error: unknown, phase: Phase, line: number | undefined): Problem {
  if (error instanceof Error) return { ...describeError(error), phase, line };
  return { code: "Error", message: `the script threw ${typeof error === "string" ? JSON.stringify(error) : String(error)}`, phase, line };
}

/** "line 12, in step()" — where a problem happened, for the page. */
export function problemPlace(problem: Problem): string {
  const where = PHASES[problem.phase];
  return problem.line === undefined ? where : `line ${problem.line}, ${where}`;
}
