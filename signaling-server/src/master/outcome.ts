/**
 * What every master operation produces: a status and a JSON body, the same for the WebSocket
 * and HTTP transports. Failures carry a documented error code (PROTOCOL.md §16.2) whose status
 * is fixed by MasterError, so a handler cannot pair a code with the wrong status.
 */
import { MasterError, MasterStatus } from "@gmnet/protocol";

export type Body = Record<string, unknown>;

export interface Outcome {
  readonly status: MasterStatus;
  readonly body: Body;
}

export function ok(body: Body = {}): Outcome {
  return { status: MasterStatus.SUCCESS, body };
}

export function fail(error: MasterError, message: string, extra: Body = {}): Outcome {
  return { status: MasterError[error], body: { error, message, ...extra } };
}

/** Thrown from deep inside a handler to answer with a failure; the dispatcher turns it into the outcome. */
export class MasterFailure extends Error {
  readonly outcome: Outcome;

  constructor(error: MasterError, message: string, extra: Body = {}) {
    super(message);
    this.name = "MasterFailure";
    this.outcome = fail(error, message, extra);
  }
}
