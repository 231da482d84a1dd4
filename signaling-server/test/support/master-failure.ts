/** For the tests of the master services' pure parts (registries), which fail by throwing MasterFailure. */
import { expect } from "vitest";
import { MasterFailure } from "../../src/master/outcome.js";

/** The error code a call fails with (it must fail with a MasterFailure). */
export function errorOf(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(MasterFailure);
    return (error as MasterFailure).outcome.body.error;
  }
  throw new Error("expected a MasterFailure");
}
