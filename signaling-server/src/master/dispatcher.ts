/**
 * Transport-independent request handling: opcode lookup, schema validation, the caller's needs,
 * the server-side time limit and fault containment. Every request ends in exactly one Outcome —
 * an unknown opcode, a malformed body, a slow or failing handler included.
 */
import { MasterStatus } from "@gmnet/protocol";
import type { z } from "zod";
import type { Logger } from "../observability/logger.js";
import type { ServerClock } from "../server-context.js";
import type { Caller } from "./caller.js";
import type { AnyOperation } from "./operation.js";
import { MasterFailure, type Outcome, fail } from "./outcome.js";

export interface DispatcherOptions {
  readonly operations: readonly AnyOperation[];
  readonly clock: ServerClock;
  readonly logger: Logger;
  readonly timeoutMs: number;
}

export type Dispatch = (caller: Caller, op: number, body: unknown) => Promise<Outcome>;

export function createDispatcher(options: DispatcherOptions): Dispatch {
  const byOp = new Map<number, AnyOperation>();
  for (const operation of options.operations) {
    if (byOp.has(operation.op)) throw new Error(`two master operations claim opcode ${operation.op}`);
    byOp.set(operation.op, operation);
  }

  const run = async (operation: AnyOperation, caller: Caller, body: unknown): Promise<Outcome> => {
    const parsed = operation.body.safeParse(body);
    if (!parsed.success) return fail("invalid_body", describeIssues(parsed.error));
    if (operation.needs !== "nothing" && caller.login === undefined) {
      return caller.tokenProblem !== undefined
        ? fail(caller.tokenProblem, caller.tokenProblem === "token_expired" ? "the session token has expired; log in again" : "the session token is not valid")
        : fail("not_logged_in", "log in first");
    }
    if (operation.needs === "connection" && caller.session === undefined) {
      return fail("needs_connection", "this operation acts for a live connection, and this account has none");
    }
    return operation.run({ caller, body: parsed.data } as never);
  };

  return async (caller, op, body) => {
    const operation = byOp.get(op);
    if (operation === undefined) return fail("unknown_operation", `no master operation has opcode ${op}`);
    let timer: unknown;
    const timeout = new Promise<Outcome>((resolve) => {
      timer = options.clock.setTimeout(() => resolve(fail("timeout", `the server did not finish within ${options.timeoutMs} ms`)), options.timeoutMs);
    });
    try {
      return await Promise.race([run(operation, caller, body), timeout]);
    } catch (error) {
      if (error instanceof MasterFailure) return error.outcome;
      options.logger.error({ err: error, op }, "master operation failed");
      return { status: MasterStatus.ERROR, body: { error: "internal", message: "the server failed while handling this request" } };
    } finally {
      options.clock.clearTimeout(timer);
    }
  };
}

/** "username: must be at least 3 characters" — the first few issues, with their paths. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}
