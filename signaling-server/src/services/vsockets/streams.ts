/**
 * Established virtual-socket streams (seed 002's ActiveSockets): who is at each end of a connId
 * (stream-table.ts), relaying ARBITRARY_DATA between exactly those two ends, and closing. An end
 * on another node is reached through that node's stream, a durable session's end through its log
 * wherever it is (--durable-sessions: PROTOCOL.md §15), whose record also keeps the stream's
 * halves for a node that takes the session over.
 */
import {
  ARBITRARY_DATA_HEADER,
  Channel,
  CloseReason,
  FRAME_HEADER_SIZE,
  Priority,
  ProtocolError,
  SocketClosed,
  SocketConnected,
  VSocketType,
  arbitraryDataConnId,
  encodeFrame,
} from "@gmnet/protocol";
import type { ServerContext } from "../../server-context.js";
import type { ClusterLink } from "../../cluster/cluster.js";
import type { Session, SessionCloseCause } from "../../session/session.js";
import type { TakenSession } from "../../cluster/session-log.js";
import { IdAllocator } from "./ids.js";
import { RemoteEnd, type Stream, StreamTable, durableId, halfOf } from "./stream-table.js";

/** One end of a stream being opened: the session, its port, and the reqId it knows the handshake by. */
export interface StreamEnd {
  readonly session: Session;
  readonly port: number;
  readonly reqId: number;
}

/**
 * How a cross-node stream with a durable end opens (--durable-sessions). The accepting node logs
 * the requester's SOCKET_CONNECTED itself (`remoteReqId`: the requester's own id for its request),
 * in the same write as the acceptor's, so no data the acceptor sends can reach the requester's log
 * before it (the "conn" bus message that tells the requester's node could arrive later); the
 * requester's node then records the stream without announcing it again (`announced`).
 */
export interface DurableOpening {
  readonly remoteReqId?: number;
  readonly announced?: boolean;
}

export interface Streams {
  /** Records a stream between two distinct sessions and sends SOCKET_CONNECTED to both ends. */
  open(a: StreamEnd, b: StreamEnd): number;
  /**
   * Records a stream between a local session and one on another node and sends SOCKET_CONNECTED
   * to the local end; `connId` is the other node's when it allocated it, else one is allocated
   * here. undefined when that connId is already in use here.
   */
  openRemote(local: StreamEnd, remote: RemoteEnd, remotePort: number, connId?: number, durable?: DurableOpening): number | undefined;
  /** Streams `session` is an end of. */
  count(session: Session): number;
  onSessionClose(session: Session, cause: SessionCloseCause): void;
  onSessionResume(session: Session): void;
  /** Rebuilds the streams of a durable session taken over from another node. */
  onSessionMovedIn(session: Session, taken: TakenSession): void;
  /** Tells the other end of `connId` on another node that it closed (the handshake's last step failed). */
  closeRemote(end: RemoteEnd, connId: number, reason: number): void;
}

export function createStreams(context: ServerContext, cluster?: ClusterLink): Streams {
  const { router } = context;
  const table = new StreamTable();
  const ids = new IdAllocator(cluster?.idRange);
  const log = cluster?.sessionLog;

  /** The other end of `stream` as seen from `session`, or undefined if `session` is not an end. */
  const peerOf = (stream: Stream | undefined, session: Session): Session | RemoteEnd | undefined => {
    if (stream === undefined) return undefined;
    if (stream.a === session) return stream.b;
    return stream.b === session ? stream.a : undefined;
  };

  const notifyClosed = (session: Session | RemoteEnd, connId: number, reason: number): void => {
    const payload = SocketClosed.encode({ connId, reason });
    if (session instanceof RemoteEnd && session.sessionId !== undefined) {
      // A few bytes once per stream: past the log's bound too, so the end that is away learns of it.
      log?.deleteStream(session.sessionId, connId);
      return log?.append(session.sessionId, encodeFrame(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, Priority.NORMAL, payload, 0, Buffer.allocUnsafeSlow), true);
    }
    if (session instanceof RemoteEnd) return cluster?.send(session.node, { t: "closed", connId, reason });
    session.send(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, Priority.NORMAL, payload);
  };

  // ------------------------------------------------------------------ durable sessions (--durable-sessions)

  /** Writes the halves of the stream's durable ends on this node (with what caused it: fenced, session-log.ts). */
  const record = (stream: Stream): void => {
    if (log === undefined) return;
    if (stream.a.durable === true) log.setStream(stream.a.id, stream.connId, halfOf(stream.aPort, stream.b, stream.bPort, cluster!.nodeId));
    if (!(stream.b instanceof RemoteEnd) && stream.b.durable === true) log.setStream(stream.b.id, stream.connId, halfOf(stream.bPort, stream.a, stream.aPort, cluster!.nodeId));
  };

  /** The stream ended: its durable ends' halves go (the other end's too when it is reached through its log). */
  const unrecord = (stream: Stream): void => {
    if (log === undefined) return;
    for (const end of [stream.a, stream.b]) {
      const sid = durableId(end);
      if (sid !== undefined) log.deleteStream(sid, stream.connId);
    }
  };

  /** Ends this node's streams to a durable session that is gone, or whose log is full (their data could not be kept). */
  const endStreamsTo = (sid: string, reason: "gone" | "full"): void => {
    for (const stream of table.ofDurable(sid)) {
      remove(stream);
      if (reason === "full") {
        context.metrics.streamsNotRecovered.inc();
        notifyClosed(stream.b, stream.connId, CloseReason.NOT_RECOVERED);
      }
      notifyClosed(stream.a, stream.connId, CloseReason.PEER_GONE);
    }
  };
  log?.watch(() => table.durableSessions(), (sid) => endStreamsTo(sid, "gone"));
  log?.onRefused(endStreamsTo);
  // A peer elsewhere closed a stream of a session here: its SOCKET_CLOSED comes through the log, and the stream goes with it.
  log?.onLogged((sid, frames) => {
    for (const frame of frames) {
      if ((frame[0]! | (frame[1]! << 8)) !== Channel.VSOCKET || (frame[2]! | (frame[3]! << 8)) !== VSocketType.SOCKET_CLOSED) continue;
      const stream = table.get(SocketClosed.decode(frame.subarray(FRAME_HEADER_SIZE)).connId);
      if (stream !== undefined && (stream.a.id === sid || (!(stream.b instanceof RemoteEnd) && stream.b.id === sid))) remove(stream);
    }
  });

  router.on(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, (session, payload) => {
    // The hot path: only the connId is read, and the payload is relayed byte for byte.
    if (payload.length < ARBITRARY_DATA_HEADER) {
      return session.sendError(ProtocolError.MALFORMED_PAYLOAD, Channel.VSOCKET, VSocketType.ARBITRARY_DATA, 0, `ArbitraryData needs at least ${ARBITRARY_DATA_HEADER} bytes, got ${payload.length}`);
    }
    const connId = arbitraryDataConnId(payload);
    const stream = table.get(connId);
    const peer = peerOf(stream, session);
    if (peer === undefined) {
      // Also the answer for someone else's connId: a stranger learns nothing and injects nothing.
      return session.sendError(ProtocolError.UNKNOWN_SOCKET, Channel.VSOCKET, VSocketType.ARBITRARY_DATA, connId, `no open stream ${connId} on this connection`);
    }
    if (peer instanceof RemoteEnd) {
      if (peer.sessionId !== undefined) return log?.append(peer.sessionId, encodeFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, Priority.NORMAL, payload, 0, Buffer.allocUnsafeSlow));
      return cluster?.send(peer.node, { t: "data", connId }, payload);
    }
    if (peer.detached && hold(stream!, peer, payload.length)) return;
    peer.send(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, Priority.NORMAL, payload);
  });

  /** The stream `connId` whose other end is on node `from`; anything else from the bus is ignored. */
  const fromNode = (connId: number, from: number): Stream | undefined => {
    const stream = table.get(connId);
    // A durable end's node may have changed since the stream opened: any node may speak for it.
    return stream !== undefined && stream.b instanceof RemoteEnd && (stream.b.sessionId !== undefined || stream.b.node === from) ? stream : undefined;
  };

  cluster?.on("data", (from, { connId }, data) => {
    const stream = fromNode(connId, from);
    if (stream === undefined || data === undefined) return;
    if (stream.a.detached && hold(stream, stream.a, data.length)) return;
    stream.a.send(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, Priority.NORMAL, data);
  });

  cluster?.on("closed", (from, { connId, reason }) => {
    const stream = fromNode(connId, from);
    if (stream === undefined) return;
    remove(stream);
    notifyClosed(stream.a, connId, reason);
  });

  // A node whose liveness key expired took its sessions with it: their streams end as PEER_GONE.
  cluster?.watchNodes(
    () => table.nodes(),
    (node) => {
      for (const stream of table.ofNode(node)) {
        remove(stream);
        notifyClosed(stream.a, stream.connId, CloseReason.PEER_GONE);
      }
    },
  );

  /**
   * Counts data held for an end that is away; past replayBytesPerStream the stream ends (true):
   * the end that is away finds SOCKET_CLOSED NOT_RECOVERED when it comes back, the sender gets
   * PEER_GONE now. Other streams of the session go on.
   */
  const hold = (stream: Stream, away: Session, bytes: number): boolean => {
    // Only a local session can be away (detached); stream.a is always local.
    const held = away === stream.a ? (stream.heldForA += bytes) : (stream.heldForB += bytes);
    if (held <= context.config.replayBytesPerStream) return false;
    context.metrics.streamsNotRecovered.inc();
    remove(stream);
    notifyClosed(away, stream.connId, CloseReason.NOT_RECOVERED);
    notifyClosed(away === stream.a ? stream.b : stream.a, stream.connId, CloseReason.PEER_GONE);
    return true;
  };

  const remove = (stream: Stream): void => {
    if (table.remove(stream)) unrecord(stream);
  };

  router.on(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, (session, payload) => {
    const { connId, reason } = SocketClosed.decode(payload);
    const stream = table.get(connId);
    const peer = peerOf(stream, session);
    // Both ends may close at once, so an unknown connId is normal and silently ignored; a
    // connId of someone else's stream is treated the same, so it cannot be closed by a stranger.
    if (stream === undefined || peer === undefined) return;
    remove(stream);
    // The reason the client gave is trusted only to say what it refused itself (an oversized
    // message, a bad GameMaker handshake); anything else is an orderly close to the peer.
    const own = reason === CloseReason.MESSAGE_TOO_LARGE || reason === CloseReason.HANDSHAKE_FAILED;
    notifyClosed(peer, connId, own ? reason : CloseReason.CLOSED);
  });

  return {
    open(a, b) {
      const connId = ids.next((id) => table.has(id));
      const stream: Stream = { connId, a: a.session, aPort: a.port, b: b.session, bPort: b.port, heldForA: 0, heldForB: 0 };
      table.add(stream);
      record(stream);
      for (const [self, other] of [[a, b], [b, a]] as const) {
        self.session.send(
          Channel.VSOCKET,
          VSocketType.SOCKET_CONNECTED,
          Priority.NORMAL,
          SocketConnected.encode({ reqId: self.reqId, connId, peerIp: other.session.virtualIp, peerPort: other.port, localPort: self.port }),
        );
      }
      return connId;
    },

    openRemote(local, remote, remotePort, given, durable = {}) {
      if (given !== undefined && table.has(given)) return undefined;
      const connId = given ?? ids.next((id) => table.has(id));
      const stream: Stream = { connId, a: local.session, aPort: local.port, b: remote, bPort: remotePort, heldForA: 0, heldForB: 0 };
      table.add(stream);
      record(stream);
      if (remote.sessionId !== undefined && durable.remoteReqId !== undefined) {
        const theirs = SocketConnected.encode({ reqId: durable.remoteReqId, connId, peerIp: local.session.virtualIp, peerPort: local.port, localPort: remotePort });
        log?.setStream(remote.sessionId, connId, halfOf(remotePort, local.session, local.port, cluster!.nodeId));
        log?.append(remote.sessionId, encodeFrame(Channel.VSOCKET, VSocketType.SOCKET_CONNECTED, Priority.NORMAL, theirs, 0, Buffer.allocUnsafeSlow));
      }
      if (durable.announced === true) return connId;
      local.session.send(
        Channel.VSOCKET,
        VSocketType.SOCKET_CONNECTED,
        Priority.NORMAL,
        SocketConnected.encode({ reqId: local.reqId, connId, peerIp: remote.ip, peerPort: remotePort, localPort: local.port }),
      );
      return connId;
    },

    count: (session) => table.count(session),

    onSessionResume(session) {
      for (const stream of table.ofSession(session)) {
        if (stream.a === session) stream.heldForA = 0;
        else stream.heldForB = 0;
      }
    },

    closeRemote: notifyClosed,

    onSessionMovedIn(session, taken) {
      for (const [connId, half] of taken.streams) {
        const existing = table.get(connId);
        // This node already has the other end (its side of the stream, reaching this session through its log): one stream again.
        if (existing !== undefined && existing.b instanceof RemoteEnd && existing.b.sessionId === session.id) {
          table.replace(existing, { ...existing, b: session, bPort: half.port });
          continue;
        }
        if (existing !== undefined) {
          context.logger.warn({ session: session.id, connId }, "durable session: a stream it had clashes with one of this node; ending it");
          notifyClosed(session, connId, CloseReason.PEER_GONE);
          continue;
        }
        // The other end was a non-durable session on this node, and it is gone: so is the stream.
        if (half.peerSession === undefined && half.peerNode === cluster?.nodeId) {
          log?.deleteStream(session.id, connId);
          notifyClosed(session, connId, CloseReason.PEER_GONE);
          continue;
        }
        const peer = new RemoteEnd(half.peerNode ?? 0, session.appKey, half.peerIp, half.peerSession);
        table.add({ connId, a: session, aPort: half.port, b: peer, bPort: half.peerPort, heldForA: 0, heldForB: 0 });
      }
    },

    onSessionClose(session, cause) {
      const mine = table.takeSession(session);
      if (mine === undefined) return;
      if (cause === "moved") {
        // Another node has the session now: its streams go on there. A peer here keeps its side,
        // reaching the session through its log; nothing is told to anyone, no record changes.
        for (const stream of mine) {
          const peer = stream.a === session ? stream.b : stream.a;
          const peerPort = stream.a === session ? stream.bPort : stream.aPort;
          const ownPort = stream.a === session ? stream.aPort : stream.bPort;
          if (peer instanceof RemoteEnd) {
            table.drop(stream, peer);
            continue;
          }
          table.replace(stream, { connId: stream.connId, a: peer, aPort: peerPort, b: new RemoteEnd(0, session.appKey, session.virtualIp, session.id), bPort: ownPort, heldForA: 0, heldForB: 0 });
        }
        return;
      }
      const reason = cause === "shutdown" ? CloseReason.SHUTDOWN : CloseReason.PEER_GONE;
      for (const stream of mine) {
        const peer = stream.a === session ? stream.b : stream.a;
        table.drop(stream, peer);
        unrecord(stream);
        notifyClosed(peer, stream.connId, reason);
      }
    },
  };
}
