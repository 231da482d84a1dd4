/**
 * The master home's side of master services across nodes (PROTOCOL.md §15): it serves the
 * requests other nodes forward ("mreq") with the real, unchanged services, and stands in for their
 * sessions with RemoteSession proxies, so rooms, parties, presence, chat and OnlineAccounts keep
 * working with Session objects. What a service does to a proxy goes back through the bus to the
 * node that owns the real session.
 */
import { MasterStatus } from "@gmnet/protocol";
import type { ClusterLink } from "../cluster/cluster.js";
import type { BusMessageOf, ForwardedCaller, SessionDescriptor } from "../cluster/messages.js";
import type { Logger } from "../observability/logger.js";
import type { Session } from "../session/session.js";
import type { Identity } from "../storage/storage.js";
import type { Caller } from "./caller.js";
import type { Dispatch } from "./dispatcher.js";
import type { OnlineAccounts } from "./online.js";
import { type Body, type Outcome, fail } from "./outcome.js";

/** A WebSocket session of another node, as the home's services see it. */
export class RemoteSession implements Session {
  readonly id: string;
  readonly appKey: string;
  identityId: number;
  virtualIp: number;
  readonly deviceIdentity: Identity;
  readonly remoteAddress: string;
  readonly helloToken: string;
  /** Set when the owning node says the session closed (or its node is gone). */
  closed = false;
  /** Held sends while the client reconnects are the owning node's business. */
  readonly detached = false;

  constructor(
    readonly node: number,
    descriptor: SessionDescriptor,
    private readonly link: Pick<ClusterLink, "send">,
  ) {
    this.id = descriptor.id;
    this.appKey = descriptor.appKey;
    this.identityId = descriptor.identityId;
    this.virtualIp = descriptor.virtualIp;
    this.deviceIdentity = { identityId: descriptor.deviceIdentity.identityId, virtualIp: descriptor.deviceIdentity.virtualIp };
    this.remoteAddress = descriptor.remoteAddress;
    this.helloToken = descriptor.helloToken;
  }

  send(channel: number, type: number, priority: number, payload: Uint8Array): void {
    if (!this.closed) this.link.send(this.node, { t: "msend", sessionId: this.id, channel, type, priority }, payload);
  }

  sendError(code: number, channel: number, type: number, refId: number, message: string): void {
    if (!this.closed) this.link.send(this.node, { t: "merror", sessionId: this.id, code, channel, type, refId, message });
  }

  close(code: number, reason: string): void {
    if (!this.closed) this.link.send(this.node, { t: "mclose", sessionId: this.id, code, reason });
  }

  /** The new address holds at once (the services read it right after); the owning node moves the real session. */
  moveTo(identity: Identity): void {
    if (this.closed || (identity.identityId === this.identityId && identity.virtualIp === this.virtualIp)) return;
    this.identityId = identity.identityId;
    this.virtualIp = identity.virtualIp;
    this.link.send(this.node, { t: "mmove", sessionId: this.id, identityId: identity.identityId, virtualIp: identity.virtualIp });
  }
}

export interface RemoteSessionsOptions {
  readonly link: ClusterLink;
  readonly dispatch: Dispatch;
  readonly online: OnlineAccounts;
  /** Whether this node is the master home now; a request that arrives at a former home is refused. */
  readonly isHome: () => boolean;
  /** A Hello token's login (auth.resumeFromHello). */
  readonly resumeFromHello: (session: Session) => Promise<void>;
  /** The app key's public rooms, as a body. */
  readonly rooms: (appKey: string) => Body;
  /** What the master does when a session closes (its in-flight count, its login). */
  readonly sessionClosed: (session: Session) => void;
  readonly logger: Logger;
}

export interface RemoteSessions {
  /** This node stopped being the home: every proxy's login ends here (their nodes end them there). */
  dropAll(): void;
}

export function serveRemoteSessions(options: RemoteSessionsOptions): RemoteSessions {
  const { link, online } = options;
  /** `${node}/${sessionId}` → proxy. */
  const proxies = new Map<string, RemoteSession>();
  const keyOf = (node: number, sessionId: string): string => `${node}/${sessionId}`;

  const proxyFor = (node: number, descriptor: SessionDescriptor): RemoteSession => {
    const key = keyOf(node, descriptor.id);
    let proxy = proxies.get(key);
    if (proxy === undefined) proxies.set(key, (proxy = new RemoteSession(node, descriptor, link)));
    return proxy;
  };

  const drop = (key: string): void => {
    const proxy = proxies.get(key);
    if (proxy === undefined) return;
    proxies.delete(key);
    proxy.closed = true;
    options.sessionClosed(proxy);
  };

  /** The caller the services see: the proxy and the login the home keeps for it, or the HTTP caller's live session here. */
  const callerOf = (node: number, forwarded: ForwardedCaller): Caller => {
    if (forwarded.via === "ws") {
      const session = proxyFor(node, forwarded.session);
      return { via: "ws", appKey: session.appKey, address: session.remoteAddress, session, login: online.loginOf(session) };
    }
    const { appKey, address, login, tokenProblem, bearerToken } = forwarded;
    return {
      via: "http",
      appKey,
      address,
      login,
      session: login === undefined ? undefined : online.sessionHolding(appKey, login),
      ...(tokenProblem === undefined ? {} : { tokenProblem }),
      ...(bearerToken === undefined ? {} : { bearerToken }),
    };
  };

  const answer = (node: number, id: number, outcome: Outcome): void => {
    link.send(node, { t: "mres", id, status: outcome.status, body: outcome.body });
  };

  const serve = async (from: number, request: BusMessageOf<"mreq">): Promise<Outcome> => {
    if (!options.isHome()) return fail("not_connected", "this node no longer runs the master services; try again");
    switch (request.kind) {
      case "op":
        return options.dispatch(callerOf(from, request.caller), request.op, request.body);
      case "open":
        await options.resumeFromHello(proxyFor(from, request.session));
        return { status: MasterStatus.SUCCESS, body: {} };
      case "rooms":
        return { status: MasterStatus.SUCCESS, body: options.rooms(request.appKey) };
    }
  };

  link.on("mreq", (from, request) => {
    serve(from, request).then(
      (outcome) => answer(from, request.id, outcome),
      (error: unknown) => {
        options.logger.error({ err: error, from, kind: request.kind }, "master: a forwarded request failed");
        answer(from, request.id, fail("internal", "the server failed while handling this request"));
      },
    );
  });
  link.on("mgone", (from, { sessionId }) => drop(keyOf(from, sessionId)));
  // A node that died says nothing: its sessions' logins end when its liveness key expires.
  link.watchNodes(
    () => [...proxies.values()].map((proxy) => proxy.node),
    (node) => {
      for (const [key, proxy] of [...proxies]) if (proxy.node === node) drop(key);
    },
  );

  return {
    dropAll() {
      for (const key of [...proxies.keys()]) drop(key);
    },
  };
}
