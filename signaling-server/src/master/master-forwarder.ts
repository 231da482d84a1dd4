/**
 * A node's side of master services across nodes (PROTOCOL.md §15) when another node is the master
 * home: the transports stay local (parsing, limits, in-flight counts, HTTP routes) and each
 * request goes through the bus to the home, which answers "mres"; what the home does to this
 * node's sessions ("msend", "mmove", "mclose", "merror") is carried out here. When the home
 * changes, the logins made through the old one end here (EVENT SESSION ended "master_restarted"),
 * since the new home starts without them.
 */
import { MasterEvent, MasterStatus, nameOf } from "@gmnet/protocol";
import { Counter } from "prom-client";
import type { ClusterLink } from "../cluster/cluster.js";
import type { BusMessage, ForwardedCaller, SessionDescriptor } from "../cluster/messages.js";
import type { ServerContext } from "../server-context.js";
import type { Session } from "../session/session.js";
import type { Caller } from "./caller.js";
import { sendEvent } from "./events.js";
import { type Outcome, fail } from "./outcome.js";
import type { Page } from "./rooms/paging.js";
import type { RoomView } from "./rooms/room-registry.js";

/** EVENT SESSION's reason when the master home changed and the login it held is gone (§16.3). */
export const MASTER_RESTARTED = "master_restarted";
/**
 * How much longer than masterRequestTimeoutMs a forwarding node waits for the home: the home's own
 * limit answers first ("timeout" from the home, with its message), this one only when the home or
 * the bus does not answer at all.
 */
const BUS_ROUND_TRIP_ALLOWANCE_MS = 2000;

export interface MasterForwarder {
  /** Sends the request to the home and resolves with its outcome (timeout, or not_connected when there is no home to ask). */
  forward(caller: Caller, op: number, body: unknown): Promise<Outcome>;
  /** A Hello token's login, done by the home; never rejects. */
  open(session: Session): Promise<void>;
  /** The app key's public rooms, from the home; rejects when it does not answer. */
  rooms(appKey: string): Promise<Page<RoomView>>;
  /** This node's session closed: the home ends what it holds for it. */
  sessionClosed(session: Session): void;
  /** The home changed from `previous`: requests waiting for it fail, and the logins made through it end. */
  homeChanged(previous: number): void;
}

interface Pending {
  readonly home: number;
  settle(outcome: Outcome): void;
}

export function createMasterForwarder(context: ServerContext, link: ClusterLink): MasterForwarder {
  const { clock, config, logger } = context;
  const forwarded = new Counter({
    name: "gmnet_master_forwarded_requests_total",
    help: "Master requests this node sent to the master home on another node, by status (the home counts them in gmnet_master_requests_total)",
    labelNames: ["status"],
    registers: [context.metrics.registry],
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  /** Sessions the home has heard of through this node (it keeps a proxy for each until "mgone"). */
  const known = new Set<string>();
  /** Sessions the home moved to an account's address: logged in through it. */
  const loggedIn = new Set<string>();

  const request = (build: (id: number) => BusMessage): Promise<Outcome> => {
    const home = link.masterHome;
    if (home === undefined) return Promise.resolve(fail("not_connected", "the master services are not reachable now (no node runs them); try again"));
    const id = nextId++;
    const waitMs = config.masterRequestTimeoutMs + BUS_ROUND_TRIP_ALLOWANCE_MS;
    return new Promise<Outcome>((resolve) => {
      const timer = clock.setTimeout(() => settle(fail("timeout", `the master services did not answer within ${waitMs} ms`)), waitMs);
      const settle = (outcome: Outcome): void => {
        clock.clearTimeout(timer);
        pending.delete(id);
        resolve(outcome);
      };
      pending.set(id, { home, settle });
      link.send(home, build(id));
    });
  };

  const describe = (session: Session): SessionDescriptor => {
    known.add(session.id);
    const { id, appKey, identityId, virtualIp, deviceIdentity, remoteAddress, helloToken } = session;
    return { id, appKey, identityId, virtualIp, deviceIdentity: { identityId: deviceIdentity.identityId, virtualIp: deviceIdentity.virtualIp }, remoteAddress, helloToken };
  };

  const forwardedCaller = (caller: Caller): ForwardedCaller => {
    if (caller.via === "ws" && caller.session !== undefined) return { via: "ws", session: describe(caller.session) };
    const { appKey, address, login, tokenProblem, bearerToken } = caller;
    return { via: "http", appKey, address, ...(login === undefined ? {} : { login }), ...(tokenProblem === undefined ? {} : { tokenProblem }), ...(bearerToken === undefined ? {} : { bearerToken }) };
  };

  link.on("mres", (from, { id, status, body }) => {
    const waiting = pending.get(id);
    if (waiting !== undefined && waiting.home === from) waiting.settle({ status: status as MasterStatus, body });
  });

  /** This node's session the current home acts on; what a former home still sends is late and ignored. */
  const target = (from: number, sessionId: string): Session | undefined => {
    if (from !== link.masterHome) return undefined;
    const session = context.sessions.get(sessionId);
    return session === undefined || session.closed ? undefined : session;
  };
  link.on("msend", (from, { sessionId, channel, type, priority }, data) => {
    target(from, sessionId)?.send(channel, type, priority, data ?? new Uint8Array(0));
  });
  link.on("merror", (from, { sessionId, code, channel, type, refId, message }) => {
    target(from, sessionId)?.sendError(code, channel, type, refId, message);
  });
  link.on("mclose", (from, { sessionId, code, reason }) => {
    target(from, sessionId)?.close(code, reason);
  });
  link.on("mmove", (from, { sessionId, identityId, virtualIp }) => {
    const session = target(from, sessionId);
    if (session === undefined) return;
    session.moveTo({ identityId, virtualIp });
    if (virtualIp === session.deviceIdentity.virtualIp) loggedIn.delete(sessionId);
    else loggedIn.add(sessionId);
  });

  return {
    async forward(caller, op, body) {
      const outcome = await request((id) => ({ t: "mreq", id, kind: "op", caller: forwardedCaller(caller), op, body }));
      forwarded.inc({ status: nameOf(MasterStatus, outcome.status) });
      return outcome;
    },
    async open(session) {
      const outcome = await request((id) => ({ t: "mreq", id, kind: "open", session: describe(session) }));
      // The connection stays on its own address, as when the storage fails on a single node.
      if (outcome.status !== MasterStatus.SUCCESS) logger.warn({ session: session.id, outcome: outcome.body }, "master: the Hello token's login through the master home failed");
    },
    async rooms(appKey) {
      const outcome = await request((id) => ({ t: "mreq", id, kind: "rooms", appKey }));
      if (outcome.status !== MasterStatus.SUCCESS) throw new Error(`the master home did not list the rooms: ${String(outcome.body.message)}`);
      return outcome.body as unknown as Page<RoomView>;
    },
    sessionClosed(session) {
      loggedIn.delete(session.id);
      const home = link.masterHome;
      if (known.delete(session.id) && home !== undefined && home !== link.nodeId) link.send(home, { t: "mgone", sessionId: session.id });
    },
    homeChanged(previous) {
      for (const waiting of [...pending.values()]) {
        if (waiting.home === previous) waiting.settle(fail("not_connected", "the node running the master services changed; try again"));
      }
      // The new home has no proxy for any session yet, and none of the old home's logins.
      known.clear();
      for (const sessionId of [...loggedIn]) {
        const session = context.sessions.get(sessionId);
        if (session === undefined || session.closed) continue;
        session.moveTo(session.deviceIdentity);
        sendEvent(session, MasterEvent.SESSION, { state: "ended", reason: MASTER_RESTARTED });
      }
      loggedIn.clear();
    },
  };
}
