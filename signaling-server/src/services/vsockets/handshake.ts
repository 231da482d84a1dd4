/**
 * The two request/response rounds of seed 002's connect flow, relayed through the server:
 *
 *   SOCKET_STATUS_REQUEST      requester → server → target   "is anything listening on port P?"
 *   SOCKET_STATUS_RESPONSE     target → server → requester   (not listening: REQUEST_FAILED)
 *   SOCKET_CONNECTION_REQUEST  requester → server → target   "accept me on port P?"
 *   SOCKET_CONNECTION_RESPONSE target → server              (accepted: SOCKET_CONNECTED to both)
 *
 * On the way to the target the requester's reqId is swapped for a server routing id and the
 * source address is stamped from the session, so a client can neither forge who it is nor
 * answer a request that was not sent to it. Every pending request ends exactly once: answer,
 * timeout, or one of its two sessions leaving.
 */
import {
  Channel,
  CloseReason,
  FailReason,
  Priority,
  ProtocolError,
  RequestFailed,
  SocketConnectionResponse,
  SocketRequest,
  SocketStatusResponse,
  VSocketType,
} from "@gmnet/protocol";
import type { ClusterLink } from "../../cluster/cluster.js";
import type { ServerContext } from "../../server-context.js";
import type { Session } from "../../session/session.js";
import { IdAllocator } from "./ids.js";
import { RemoteEnd } from "./stream-table.js";
import type { Streams } from "./streams.js";

type Kind = "status" | "connect";

interface Pending {
  readonly kind: Kind;
  readonly routingId: number;
  readonly requester: Session;
  readonly requesterReqId: number;
  readonly requesterPort: number;
  /** The target's session, or undefined when it is on another node (--redis). */
  readonly target: Session | undefined;
  /** The target's node once its route was found (cross-node requests only). */
  targetNode: number | undefined;
  readonly targetPort: number;
  timer: unknown;
}

/**
 * A request from another node's session, delivered to a session here (--redis): the target's
 * answer to `routingId` goes back to node `from`, which holds the Pending.
 */
interface Incoming {
  readonly kind: Kind;
  readonly routingId: number;
  readonly from: number;
  readonly appKey: string;
  readonly requesterIp: number;
  readonly requesterPort: number;
  /** The requester's durable session (--durable-sessions), reached through its log, and its own id for the request. */
  readonly requesterSid: string | undefined;
  readonly requesterReqId: number | undefined;
  readonly target: Session;
  readonly targetPort: number;
  timer: unknown;
}

export interface Handshakes {
  onSessionClose(session: Session): void;
}

export function createHandshakes(context: ServerContext, streams: Streams, cluster?: ClusterLink): Handshakes {
  const { router, directory, clock, config } = context;
  const byRoutingId = new Map<number, Pending>();
  // Separate indexes: the requester side counts against maxPendingRequests, and the two sides
  // are cleaned up differently when a session leaves.
  const asRequester = new Map<Session, Set<Pending>>();
  const asTarget = new Map<Session, Set<Pending>>();
  const ids = new IdAllocator(cluster?.idRange);
  const incoming = new Map<number, Incoming>();
  const incomingOf = new Map<Session, Set<Incoming>>();

  const add = (index: Map<Session, Set<Pending>>, session: Session, pending: Pending): void => {
    let set = index.get(session);
    if (set === undefined) index.set(session, (set = new Set()));
    set.add(pending);
  };

  const remove = (index: Map<Session, Set<Pending>>, session: Session, pending: Pending): void => {
    const set = index.get(session);
    if (set === undefined) return;
    set.delete(pending);
    if (set.size === 0) index.delete(session);
  };

  const failRequest = (requester: Session, reqId: number, reason: number): void => {
    requester.send(Channel.VSOCKET, VSocketType.REQUEST_FAILED, Priority.NORMAL, RequestFailed.encode({ reqId, reason }));
  };

  /** Forgets a pending request and stops its timer; the caller sends whatever answer is due. */
  const settle = (pending: Pending): void => {
    clock.clearTimeout(pending.timer);
    byRoutingId.delete(pending.routingId);
    remove(asRequester, pending.requester, pending);
    if (pending.target !== undefined) remove(asTarget, pending.target, pending);
  };

  const settleIncoming = (entry: Incoming): void => {
    clock.clearTimeout(entry.timer);
    incoming.delete(entry.routingId);
    const set = incomingOf.get(entry.target);
    set?.delete(entry);
    if (set?.size === 0) incomingOf.delete(entry.target);
  };

  /** A new pending request of `session`, with its routing id and timeout, recorded as the requester's. */
  const open = (kind: Kind, session: Session, request: ReturnType<typeof SocketRequest.decode>, target: Session | undefined): Pending => {
    const pending: Pending = {
      kind,
      routingId: ids.next((id) => byRoutingId.has(id)),
      requester: session,
      requesterReqId: request.reqId,
      requesterPort: request.localPort,
      target,
      targetNode: undefined,
      targetPort: request.peerPort,
      timer: undefined,
    };
    pending.timer = clock.setTimeout(() => fail(pending, FailReason.TIMEOUT), config.requestTimeoutMs);
    byRoutingId.set(pending.routingId, pending);
    add(asRequester, session, pending);
    return pending;
  };

  const fail = (pending: Pending, reason: number): void => {
    settle(pending);
    failRequest(pending.requester, pending.requesterReqId, reason);
  };

  const onRequest = (kind: Kind, type: number) => (session: Session, payload: Uint8Array) => {
    const request = SocketRequest.decode(payload);
    if (request.peerPort === 0 || request.localPort === 0) {
      return session.sendError(ProtocolError.INVALID_PORT, Channel.VSOCKET, type, request.reqId, "ports are 1–65535; 0 names no socket");
    }
    if ((asRequester.get(session)?.size ?? 0) >= config.maxPendingRequests) {
      return session.sendError(ProtocolError.TOO_MANY_PENDING, Channel.VSOCKET, type, request.reqId, `at most ${config.maxPendingRequests} unanswered socket requests at once`);
    }
    // Checked when the connection is requested; requests in flight can add at most
    // maxPendingRequests more, so the number of streams per client stays bounded.
    if (kind === "connect" && streams.count(session) >= config.maxStreamsPerSession) {
      return session.sendError(ProtocolError.TOO_MANY_STREAMS, Channel.VSOCKET, type, request.reqId, `at most ${config.maxStreamsPerSession} open streams per connection`);
    }
    const target = directory.lookup(session.appKey, request.peerIp);
    // Not here: with --redis the address may be another node's (PROTOCOL.md §15).
    if (target === undefined && cluster !== undefined) return requestRemote(kind, session, request);
    // A session cut off as a slow consumer is closed at once but leaves the directory a
    // microtask later (session.ts); it is offline already.
    if (target === undefined || target.closed) return failRequest(session, request.reqId, FailReason.OFFLINE);
    // Loopback cannot go through the server: both ends would be one client holding one connId,
    // so relayed data could not tell the two local sockets apart. The engine serves it locally.
    if (target === session) return failRequest(session, request.reqId, FailReason.REFUSED);
    // A target at its stream limit cannot take another connection: to the requester that is a refusal.
    if (kind === "connect" && streams.count(target) >= config.maxStreamsPerSession) return failRequest(session, request.reqId, FailReason.REFUSED);

    const pending = open(kind, session, request, target);
    add(asTarget, target, pending);
    target.send(
      Channel.VSOCKET,
      type,
      Priority.NORMAL,
      SocketRequest.encode({ reqId: pending.routingId, peerIp: session.virtualIp, peerPort: request.localPort, localPort: request.peerPort }),
    );
  };

  /**
   * A request for an address on no session here: the route table names the node, and the request
   * goes through that node's stream, stamped with the requester's address. The Pending is recorded
   * at once (so the pending limit, the timeout and the requester leaving apply as for a local
   * target); an address with no live node fails OFFLINE, as a single node would say.
   */
  const requestRemote = (kind: Kind, session: Session, request: ReturnType<typeof SocketRequest.decode>): void => {
    const pending = open(kind, session, request, undefined);
    const { routingId } = pending;
    void cluster!.locate(session.appKey, request.peerIp).then((node) => {
      // Settled meanwhile: timed out, or the requester left.
      if (byRoutingId.get(routingId) !== pending) return;
      if (node === undefined) return fail(pending, FailReason.OFFLINE);
      pending.targetNode = node;
      cluster!.send(node, {
        t: "req",
        kind,
        appKey: session.appKey,
        ip: request.peerIp,
        routingId,
        peerIp: session.virtualIp,
        peerPort: request.localPort,
        localPort: request.peerPort,
        ...(session.durable === true ? { sid: session.id, reqId: pending.requesterReqId } : {}),
      });
    });
  };

  /** The pending request of this node an answer from node `from` refers to, settled; undefined if none. */
  const takeFromNode = (from: number, routingId: number, kind: Kind): Pending | undefined => {
    const pending = byRoutingId.get(routingId);
    if (pending === undefined || pending.target !== undefined || pending.targetNode !== from || pending.kind !== kind) return undefined;
    settle(pending);
    return pending;
  };

  /**
   * Whether `session` may give answer `kind` to request `entry`. No entry: the request timed out
   * or its requester left before the answer came — a normal race, so the late answer is dropped
   * without an error. Another connection's request: NOT_A_PARTICIPANT. A status answer to a
   * connection request (or the reverse) answers nothing; the requester still gets its TIMEOUT.
   */
  const answerable = (entry: { target?: Session; kind: Kind } | undefined, session: Session, routingId: number, kind: Kind, type: number): boolean => {
    if (entry === undefined) return false;
    if (entry.target !== session) {
      session.sendError(ProtocolError.NOT_A_PARTICIPANT, Channel.VSOCKET, type, routingId, `request ${routingId} was not sent to this connection`);
      return false;
    }
    return entry.kind === kind;
  };

  /** A target's answer to a request from another node: checked as a local one, then sent back to that node. */
  const answerIncoming = (session: Session, routingId: number, kind: Kind, type: number): Incoming | undefined => {
    const entry = incoming.get(routingId);
    if (!answerable(entry, session, routingId, kind, type)) return undefined;
    settleIncoming(entry!);
    return entry;
  };

  /** The pending request a target's answer refers to, settled; undefined if there is none to answer. */
  const take = (session: Session, routingId: number, kind: Kind, type: number): Pending | undefined => {
    const pending = byRoutingId.get(routingId);
    if (!answerable(pending, session, routingId, kind, type)) return undefined;
    settle(pending!);
    return pending;
  };

  router.on(Channel.VSOCKET, VSocketType.SOCKET_STATUS_REQUEST, onRequest("status", VSocketType.SOCKET_STATUS_REQUEST));
  router.on(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_REQUEST, onRequest("connect", VSocketType.SOCKET_CONNECTION_REQUEST));

  router.on(Channel.VSOCKET, VSocketType.SOCKET_STATUS_RESPONSE, (session, payload) => {
    const { reqId, listening } = SocketStatusResponse.decode(payload);
    if (cluster !== undefined && cluster.nodeOfId(reqId) !== cluster.nodeId) {
      const entry = answerIncoming(session, reqId, "status", VSocketType.SOCKET_STATUS_RESPONSE);
      if (entry !== undefined) cluster.send(entry.from, { t: "status", routingId: reqId, listening });
      return;
    }
    const pending = take(session, reqId, "status", VSocketType.SOCKET_STATUS_RESPONSE);
    if (pending === undefined) return;
    if (!listening) return failRequest(pending.requester, pending.requesterReqId, FailReason.NOT_LISTENING);
    pending.requester.send(
      Channel.VSOCKET,
      VSocketType.SOCKET_STATUS_RESPONSE,
      Priority.NORMAL,
      SocketStatusResponse.encode({ reqId: pending.requesterReqId, listening: true }),
    );
  });

  router.on(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_RESPONSE, (session, payload) => {
    const { reqId, accepted } = SocketConnectionResponse.decode(payload);
    if (cluster !== undefined && cluster.nodeOfId(reqId) !== cluster.nodeId) {
      const entry = answerIncoming(session, reqId, "connect", VSocketType.SOCKET_CONNECTION_RESPONSE);
      if (entry === undefined) return;
      if (!accepted) return cluster.send(entry.from, { t: "fail", routingId: reqId, reason: FailReason.REFUSED });
      // The node that receives the accepting answer allocates the connId (PROTOCOL.md §15).
      const connId = streams.openRemote(
        { session, port: entry.targetPort, reqId },
        new RemoteEnd(entry.from, entry.appKey, entry.requesterIp, entry.requesterSid),
        entry.requesterPort,
        undefined,
        { remoteReqId: entry.requesterReqId },
      )!;
      cluster.send(entry.from, {
        t: "conn",
        routingId: reqId,
        connId,
        peerIp: session.virtualIp,
        peerPort: entry.targetPort,
        ...(session.durable === true ? { sid: session.id } : {}),
        ...(entry.requesterSid !== undefined && entry.requesterReqId !== undefined ? { announcedTo: entry.requesterSid } : {}),
      });
      return;
    }
    const pending = take(session, reqId, "connect", VSocketType.SOCKET_CONNECTION_RESPONSE);
    if (pending === undefined) return;
    if (!accepted) return failRequest(pending.requester, pending.requesterReqId, FailReason.REFUSED);
    // Both sessions are still open: either leaving would already have settled this request.
    streams.open(
      { session: pending.requester, port: pending.requesterPort, reqId: pending.requesterReqId },
      { session: pending.target!, port: pending.targetPort, reqId: pending.routingId },
    );
  });

  // ---------------------------------------------------------------- across nodes (--redis)

  cluster?.on("req", (from, message) => {
    const { kind, appKey, ip, routingId, peerIp, peerPort, localPort, sid, reqId } = message;
    const failBack = (reason: number): void => cluster.send(from, { t: "fail", routingId, reason });
    const target = directory.lookup(appKey, ip);
    if (target === undefined || target.closed) return failBack(FailReason.OFFLINE);
    if (kind === "connect" && streams.count(target) >= config.maxStreamsPerSession) return failBack(FailReason.REFUSED);
    if (incoming.has(routingId)) return;
    const entry: Incoming = { kind, routingId, from, appKey, requesterIp: peerIp, requesterPort: peerPort, requesterSid: sid, requesterReqId: reqId, target, targetPort: localPort, timer: undefined };
    // The requester's node times the request out; this one forgets it after the same time.
    entry.timer = clock.setTimeout(() => settleIncoming(entry), config.requestTimeoutMs);
    incoming.set(routingId, entry);
    let set = incomingOf.get(target);
    if (set === undefined) incomingOf.set(target, (set = new Set()));
    set.add(entry);
    const type = kind === "status" ? VSocketType.SOCKET_STATUS_REQUEST : VSocketType.SOCKET_CONNECTION_REQUEST;
    target.send(Channel.VSOCKET, type, Priority.NORMAL, SocketRequest.encode({ reqId: routingId, peerIp, peerPort, localPort }));
  });

  cluster?.on("status", (from, { routingId, listening }) => {
    const pending = takeFromNode(from, routingId, "status");
    if (pending === undefined) return;
    if (!listening) return failRequest(pending.requester, pending.requesterReqId, FailReason.NOT_LISTENING);
    pending.requester.send(Channel.VSOCKET, VSocketType.SOCKET_STATUS_RESPONSE, Priority.NORMAL, SocketStatusResponse.encode({ reqId: pending.requesterReqId, listening: true }));
  });

  cluster?.on("fail", (from, { routingId, reason }) => {
    const pending = byRoutingId.get(routingId);
    if (pending === undefined || pending.target !== undefined || pending.targetNode !== from) return;
    fail(pending, reason);
  });

  cluster?.on("conn", (from, { routingId, connId, peerIp, peerPort, sid, announcedTo }) => {
    const pending = takeFromNode(from, routingId, "connect");
    const remote = new RemoteEnd(from, pending?.requester.appKey ?? "", peerIp, sid);
    const requester = { session: pending?.requester, port: pending?.requesterPort ?? 0, reqId: pending?.requesterReqId ?? 0 };
    const connected = requester.session !== undefined && streams.openRemote({ ...requester, session: requester.session }, remote, peerPort, connId, { announced: announcedTo !== undefined }) !== undefined;
    if (connected) return;
    // The requester left or gave up (TIMEOUT) before the answer came: the other end hears it is
    // gone, and so does the requester if the accepting node already logged SOCKET_CONNECTED for it.
    streams.closeRemote(remote, connId, CloseReason.PEER_GONE);
    if (announcedTo !== undefined) streams.closeRemote(new RemoteEnd(0, "", 0, announcedTo), connId, CloseReason.PEER_GONE);
  });

  return {
    onSessionClose(session) {
      // Detach the session's sets first so settle() does not edit a set being iterated.
      const asked = asRequester.get(session);
      asRequester.delete(session);
      for (const pending of asked ?? []) settle(pending);
      const targeted = asTarget.get(session);
      asTarget.delete(session);
      for (const pending of targeted ?? []) fail(pending, FailReason.GONE);
      const delivered = incomingOf.get(session);
      incomingOf.delete(session);
      for (const entry of delivered ?? []) {
        clock.clearTimeout(entry.timer);
        incoming.delete(entry.routingId);
        cluster?.send(entry.from, { t: "fail", routingId: entry.routingId, reason: FailReason.GONE });
      }
    },
  };
}
