/**
 * Master integration tests: engines logged in to the real server over real WebSockets. A Player
 * bundles an engine with its event log and awaits the answer to each request by its id.
 */
import type { Engine } from "../../src/index.js";
import { EventLog, type RecordedEvent, type TestNetwork } from "../network/support.js";

/** Server settings for tests: cheap password hashes (the default cost is for production). */
export const FAST_HASHES = { scryptCost: 1024, scryptParallelism: 1 } as const;

export interface Player {
  readonly gm: Engine;
  readonly log: EventLog;
  /** Starts a request with `start` and returns its response event. */
  ask(start: (gm: Engine) => number): Promise<RecordedEvent>;
  /** Like ask, but fails the test unless the request succeeded. */
  must(start: (gm: Engine) => number): Promise<RecordedEvent>;
  /** The next pushed master event of `type` (a master_type_* constant) matching `match`. */
  event(type: number, match?: Record<string, unknown>): Promise<RecordedEvent>;
}

export function player(network: TestNetwork): Player {
  const gm = network.engine();
  const log = new EventLog(gm);
  const ask = (start: (gm: Engine) => number): Promise<RecordedEvent> => {
    const id = start(gm);
    return log.next({ type: gm.master_type_response, id });
  };
  return {
    gm,
    log,
    ask,
    async must(start) {
      const event = await ask(start);
      if (event.status !== gm.master_status_success) throw new Error(`request failed: ${String(event.error)} (${String(event.message)})`);
      return event;
    },
    event: (type, match = {}) => log.next({ type, ...match }),
  };
}

let counter = 0;
/** A user name no other test uses. */
export function uniqueName(prefix = "user"): string {
  counter += 1;
  return `${prefix}${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A new player registered and logged in as a fresh account; returns the player and its name. */
export async function loggedIn(network: TestNetwork, prefix = "p"): Promise<Player & { name: string }> {
  const p = player(network);
  const name = uniqueName(prefix);
  await p.must((gm) => gm.master_register(name, "correct horse"));
  await p.must((gm) => gm.master_login(name, "correct horse"));
  return Object.assign(p, { name });
}
