/**
 * The server's own time limit on master requests, seen through master_* against the real server:
 * a handler that outlives masterRequestTimeoutMs ends in master_status_timeout, not silence.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type TestNetwork, startNetwork } from "../network/support.js";
import { FAST_HASHES, player, uniqueName } from "./support.js";

// A limit no other server timer uses, so the clock below can tell the master's timer apart.
const LIMIT_MS = 987_654;

/**
 * A server clock that runs the master time limit's timer on the next microtask: any request that
 * waits on I/O (a password hash runs on libuv's thread pool) outlives it, with no sleeping.
 */
const impatientClock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(callback: () => void, ms: number): unknown {
    if (ms !== LIMIT_MS) return setTimeout(callback, ms);
    let cancelled = false;
    queueMicrotask(() => {
      if (!cancelled) callback();
    });
    return { cancel: () => (cancelled = true) };
  },
  clearTimeout(handle: unknown): void {
    if (handle !== null && typeof handle === "object" && "cancel" in handle) (handle as { cancel(): void }).cancel();
    else clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

let network: TestNetwork | undefined;
afterEach(async () => {
  await network?.close();
  network = undefined;
});

describe("master request time limit", () => {
  it("answers master_status_timeout when the server's handler outlives masterRequestTimeoutMs, and keeps serving", async () => {
    network = await startNetwork({ masterRequestTimeoutMs: LIMIT_MS, clock: impatientClock, ...FAST_HASHES });
    const p = player(network);
    const registered = await p.ask((gm) => gm.master_register(uniqueName("slow"), "correct horse"));
    expect(registered).toMatchObject({ op: p.gm.master_op_register, status: p.gm.master_status_timeout, succeeded: false, error: "timeout" });
    expect(registered.message).toContain(`${LIMIT_MS} ms`);

    // Requests that need no I/O finish before the limit's microtask, on the same connection.
    expect(await p.ask((gm) => gm.master_room_list())).toMatchObject({ status: p.gm.master_status_success, succeeded: true });
  });
});
