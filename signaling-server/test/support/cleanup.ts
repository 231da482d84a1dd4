/**
 * What a test opened (servers, engines, sockets), closed after it whether it passed or not: the
 * last opened first, so a client goes before the server it talks to.
 */
import { afterEach } from "vitest";

/** Returns afterTest(step): `step` runs after the current test, in reverse order of registration. */
export function useCleanup(): (step: () => unknown) => void {
  const steps: Array<() => unknown> = [];
  afterEach(async () => {
    for (const step of steps.splice(0).reverse()) await step();
  });
  return (step) => {
    steps.push(step);
  };
}
