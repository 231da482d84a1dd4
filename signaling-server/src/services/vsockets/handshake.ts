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
  FailReason,
  Priority,
  ProtocolError,
  RequestFailed,
  SocketConnectionResponse,
  SocketRequest,
  SocketStatusResponse,
  VSocketType,
} from "@gmnet/engine/protocol";
import type { ServerContext } from "../../server-context.js";
import type { Session } from "../../session/session.js";
import { IdAllocator } from "./ids.js";
import type { Streams } from "./streams.js";

type Kind = "status" | "connect";

interface Pending {
  readonly kind: Kind;
  readonly routingId: number;
  readonly requester: Session;
  readonly requesterReqId: number;
  readonly requesterPort: number;
  readonly target: Session;
  readonly targetPort: number;
  timer: unknown;
}

export interface Handshakes {
  onSessionClose(session: Session): void;
}

export function createHandshakes(context: ServerContext, streams: Streams): Handshakes {
  const { router, directory, clock, config } = context;
  const byRoutingId = new Map<number, Pending>();
  // Separate indexes: the requester side counts against maxPendingRequests, and the two sides
  // are cleaned up differently when a session leaves.
  const asRequester = new Map<Session, Set<Pending>>();
  const asTarget = new Map<Session, Set<Pending>>();
  const ids = new IdAllocator();

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
    remove(asTarget, pending.target, pending);
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
    // A session cut off as a slow consumer is closed at once but leaves the directory a
    // microtask later (session.ts); it is offline already.
    if (target === undefined || target.closed) return failRequest(session, request.reqId, FailReason.OFFLINE);
    // Loopback cannot go through the server: both ends would be one client holding one connId,
    // so relayed data could not tell the two local sockets apart. The engine serves it locally.
    if (target === session) return failRequest(session, request.reqId, FailReason.REFUSED);
    // A target at its stream limit cannot take another connection: to the requester that is a refusal.
    if (kind === "connect" && streams.count(target) >= config.maxStreamsPerSession) return failRequest(session, request.reqId, FailReason.REFUSED);

    const routingId = ids.next((id) => byRoutingId.has(id));
    const pending: Pending = {
      kind,
      routingId,
      requester: session,
      requesterReqId: request.reqId,
      requesterPort: request.localPort,
      target,
      targetPort: request.peerPort,
      timer: undefined,
    };
    pending.timer = clock.setTimeout(() => fail(pending, FailReason.TIMEOUT), config.requestTimeoutMs);
    byRoutingId.set(routingId, pending);
    add(asRequester, session, pending);
    add(asTarget, target, pending);
    target.send(
      Channel.VSOCKET,
      type,
      Priority.NORMAL,
      SocketRequest.encode({ reqId: routingId, peerIp: session.virtualIp, peerPort: request.localPort, localPort: request.peerPort }),
    );
  };

  /** The pending request a target's answer refers to, settled; undefined if there is none to answer. */
  const take = (session: Session, routingId: number, kind: Kind, type: number): Pending | undefined => {
    const pending = byRoutingId.get(routingId);
    // No entry: the request timed out or its requester left before the answer came. That race
    // is normal, so the late answer is dropped without an error.
    if (pending === undefined) return undefined;
    if (pending.target !== session) {
      session.sendError(ProtocolError.NOT_A_PARTICIPANT, Channel.VSOCKET, type, routingId, `request ${routingId} was not sent to this connection`);
      return undefined;
    }
    // A status answer to a connection request (or the reverse) answers nothing; the requester
    // still gets its TIMEOUT.
    if (pending.kind !== kind) return undefined;
    settle(pending);
    return pending;
  };

  router.on(Channel.VSOCKET, VSocketType.SOCKET_STATUS_REQUEST, onRequest("status", VSocketType.SOCKET_STATUS_REQUEST));
  router.on(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_REQUEST, onRequest("connect", VSocketType.SOCKET_CONNECTION_REQUEST));

  router.on(Channel.VSOCKET, VSocketType.SOCKET_STATUS_RESPONSE, (session, payload) => {
    const { reqId, listening } = SocketStatusResponse.decode(payload);
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
    const pending = take(session, reqId, "connect", VSocketType.SOCKET_CONNECTION_RESPONSE);
    if (pending === undefined) return;
    if (!accepted) return failRequest(pending.requester, pending.requesterReqId, FailReason.REFUSED);
    // Both sessions are still open: either leaving would already have settled this request.
    streams.open(
      { session: pending.requester, port: pending.requesterPort, reqId: pending.requesterReqId },
      { session: pending.target, port: pending.targetPort, reqId: pending.routingId },
    );
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
    },
  };
}
