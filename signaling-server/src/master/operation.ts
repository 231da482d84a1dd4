/**
 * One master operation: its opcode, the schema its body must match, what the caller needs
 * before it runs, and the handler. Services export lists of these; the dispatcher checks the
 * schema and the needs, so a handler only ever sees valid input from an allowed caller.
 */
import type { MasterOp } from "@gmnet/protocol";
import type { z } from "zod";
import type { Session } from "../session/session.js";
import type { Caller, Login } from "./caller.js";
import type { Outcome } from "./outcome.js";

/**
 * - `nothing`: anyone.
 * - `login`: a logged-in caller (`caller.login` is set).
 * - `connection`: a logged-in caller with a live WebSocket session (`caller.session` is set too).
 */
export type Needs = "nothing" | "login" | "connection";

export interface Call<B, N extends Needs> {
  readonly caller: N extends "nothing" ? Caller : Caller & { readonly login: Login } & (N extends "connection" ? { readonly session: Session } : unknown);
  readonly body: B;
}

export interface Operation<S extends z.ZodType = z.ZodType, N extends Needs = Needs> {
  readonly op: MasterOp;
  readonly needs: N;
  /** Use strict objects (`z.strictObject`): an unknown key is a mistake worth reporting. */
  readonly body: S;
  run(call: Call<z.infer<S>, N>): Outcome | Promise<Outcome>;
}

/** Identity function that keeps the body type flowing from the schema into run(). */
export function defineOperation<S extends z.ZodType, N extends Needs>(operation: Operation<S, N>): Operation<S, N> {
  return operation;
}

// Operations of different body types live in one list; the dispatcher validates before calling.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperation = Operation<any, any>;
