/**
 * Established virtual-socket streams (seed 002's ActiveSockets): who is at each end of a connId,
 * relaying ARBITRARY_DATA between exactly those two ends, and closing. Lookups are by connId
 * (one Map get per data frame); a per-session index makes cleanup O(own streams).
 */
import { ARBITRARY_DATA_HEADER, Channel, CloseReason, Priority, ProtocolError, SocketClosed, SocketConnected, VSocketType, arbitraryDataConnId } from "@gmnet/protocol";
import type { ServerContext } from "../../server-context.js";
import type { ClusterLink } from "../../cluster/cluster.js";
import type { Session, SessionCloseCause } from "../../session/session.js";
import { IdAllocator } from "./ids.js";

/** The end of a stream whose session is on another node (--redis, PROTOCOL.md §15): reached through that node's stream. */
export class RemoteEnd {
  constructor(
    readonly node: number,
    readonly appKey: string,
    readonly ip: number,
  ) {}
}

interface Stream {
  readonly connId: number;
  /** Always a session of this node. */
  readonly a: Session;
  readonly aPort: number;
  readonly b: Session | RemoteEnd;
  readonly bPort: number;
  /** Data bytes relayed to each end while it was detached (PROTOCOL.md §14), bounded by replayBytesPerStream. */
  heldForA: number;
  heldForB: number;
}

/** One end of a stream being opened: the session, its port, and the reqId it knows the handshake by. */
export interface StreamEnd {
  readonly session: Session;
  readonly port: number;
  readonly reqId: number;
}

export interface Streams {
  /** Records a stream between two distinct sessions and sends SOCKET_CONNECTED to both ends. */
  open(a: StreamEnd, b: StreamEnd): number;
  /**
   * Records a stream between a local session and one on another node and sends SOCKET_CONNECTED
   * to the local end; `connId` is the other node's when it allocated it, else one is allocated
   * here. undefined when that connId is already in use here.
   */
  openRemote(local: StreamEnd, remote: RemoteEnd, remotePort: number, connId?: number): number | undefined;
  /** Streams `session` is an end of. */
  count(session: Session): number;
  onSessionClose(session: Session, cause: SessionCloseCause): void;
  onSessionResume(session: Session): void;
}

export function createStreams(context: ServerContext, cluster?: ClusterLink): Streams {
  const { router } = context;
  const byConnId = new Map<number, Stream>();
  const bySession = new Map<Session, Set<Stream>>();
  /** Streams whose other end is on another node, by that node (to end them when it is gone). */
  const byNode = new Map<number, Set<Stream>>();
  const ids = new IdAllocator(cluster?.idRange);

  const index = (session: Session | RemoteEnd, stream: Stream): void => {
    if (session instanceof RemoteEnd) {
      let theirs = byNode.get(session.node);
      if (theirs === undefined) byNode.set(session.node, (theirs = new Set()));
      theirs.add(stream);
      return;
    }
    let mine = bySession.get(session);
    if (mine === undefined) bySession.set(session, (mine = new Set()));
    mine.add(stream);
  };

  const unindex = (session: Session | RemoteEnd, stream: Stream): void => {
    if (session instanceof RemoteEnd) {
      const theirs = byNode.get(session.node);
      theirs?.delete(stream);
      if (theirs?.size === 0) byNode.delete(session.node);
      return;
    }
    const mine = bySession.get(session);
    if (mine === undefined) return;
    mine.delete(stream);
    if (mine.size === 0) bySession.delete(session);
  };

  /** The other end of `stream` as seen from `session`, or undefined if `session` is not an end. */
  const peerOf = (stream: Stream | undefined, session: Session): Session | RemoteEnd | undefined => {
    if (stream === undefined) return undefined;
    if (stream.a === session) return stream.b;
    return stream.b === session ? stream.a : undefined;
  };

  const notifyClosed = (session: Session | RemoteEnd, connId: number, reason: number): void => {
    if (session instanceof RemoteEnd) return cluster?.send(session.node, { t: "closed", connId, reason });
    session.send(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, Priority.NORMAL, SocketClosed.encode({ connId, reason }));
  };

  router.on(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, (session, payload) => {
    // The hot path: only the connId is read, and the payload is relayed byte for byte.
    if (payload.length < ARBITRARY_DATA_HEADER) {
      return session.sendError(ProtocolError.MALFORMED_PAYLOAD, Channel.VSOCKET, VSocketType.ARBITRARY_DATA, 0, `ArbitraryData needs at least ${ARBITRARY_DATA_HEADER} bytes, got ${payload.length}`);
    }
    const connId = arbitraryDataConnId(payload);
    const stream = byConnId.get(connId);
    const peer = peerOf(stream, session);
    if (peer === undefined) {
      // Also the answer for someone else's connId: a stranger learns nothing and injects nothing.
      return session.sendError(ProtocolError.UNKNOWN_SOCKET, Channel.VSOCKET, VSocketType.ARBITRARY_DATA, connId, `no open stream ${connId} on this connection`);
    }
    if (peer instanceof RemoteEnd) return cluster?.send(peer.node, { t: "data", connId }, payload);
    if (peer.detached && hold(stream!, peer, payload.length)) return;
    peer.send(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, Priority.NORMAL, payload);
  });

  /** The stream `connId` whose other end is on node `from`; anything else from the bus is ignored. */
  const fromNode = (connId: number, from: number): Stream | undefined => {
    const stream = byConnId.get(connId);
    return stream !== undefined && stream.b instanceof RemoteEnd && stream.b.node === from ? stream : undefined;
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
    () => byNode.keys(),
    (node) => {
      for (const stream of [...(byNode.get(node) ?? [])]) {
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
    byConnId.delete(stream.connId);
    unindex(stream.a, stream);
    unindex(stream.b, stream);
  };

  router.on(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, (session, payload) => {
    const { connId, reason } = SocketClosed.decode(payload);
    const stream = byConnId.get(connId);
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
      const connId = ids.next((id) => byConnId.has(id));
      const stream: Stream = { connId, a: a.session, aPort: a.port, b: b.session, bPort: b.port, heldForA: 0, heldForB: 0 };
      byConnId.set(connId, stream);
      index(a.session, stream);
      index(b.session, stream);
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

    openRemote(local, remote, remotePort, given) {
      if (given !== undefined && byConnId.has(given)) return undefined;
      const connId = given ?? ids.next((id) => byConnId.has(id));
      const stream: Stream = { connId, a: local.session, aPort: local.port, b: remote, bPort: remotePort, heldForA: 0, heldForB: 0 };
      byConnId.set(connId, stream);
      index(local.session, stream);
      index(remote, stream);
      local.session.send(
        Channel.VSOCKET,
        VSocketType.SOCKET_CONNECTED,
        Priority.NORMAL,
        SocketConnected.encode({ reqId: local.reqId, connId, peerIp: remote.ip, peerPort: remotePort, localPort: local.port }),
      );
      return connId;
    },

    count: (session) => bySession.get(session)?.size ?? 0,

    onSessionResume(session) {
      for (const stream of bySession.get(session) ?? []) {
        if (stream.a === session) stream.heldForA = 0;
        else stream.heldForB = 0;
      }
    },

    onSessionClose(session, cause) {
      const mine = bySession.get(session);
      if (mine === undefined) return;
      bySession.delete(session);
      const reason = cause === "shutdown" ? CloseReason.SHUTDOWN : CloseReason.PEER_GONE;
      for (const stream of mine) {
        byConnId.delete(stream.connId);
        const peer = stream.a === session ? stream.b : stream.a;
        unindex(peer, stream);
        notifyClosed(peer, stream.connId, reason);
      }
    },
  };
}
