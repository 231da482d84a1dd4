/**
 * The table of established virtual-socket streams (streams.ts): by connId (one Map get per data
 * frame), and indexed by the local session at each end, by the node of an end on another node, and
 * by the id of a durable session at the other end (--durable-sessions), so that a session leaving,
 * a node going away or a durable session's record expiring costs O(its own streams).
 */
import type { StreamHalf } from "../../cluster/session-log.js";
import type { Session } from "../../session/session.js";

/**
 * The end of a stream whose session is on another node (--redis, PROTOCOL.md §15): reached through
 * that node's stream — or, for a durable session (`sessionId`, --durable-sessions), through its
 * log, wherever it is now (so also one that moved away from this node).
 */
export class RemoteEnd {
  constructor(
    readonly node: number,
    readonly appKey: string,
    readonly ip: number,
    readonly sessionId?: string,
  ) {}
}

export interface Stream {
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

/** The durable session at an end, if it is one: its id. */
export function durableId(end: Session | RemoteEnd): string | undefined {
  return end instanceof RemoteEnd ? end.sessionId : end.durable === true ? end.id : undefined;
}

/** What a node taking a durable session over needs to know of its stream (its port) to `other` (session-log.ts). */
export function halfOf(port: number, other: Session | RemoteEnd, otherPort: number, thisNode: number): StreamHalf {
  const peerIp = other instanceof RemoteEnd ? other.ip : other.virtualIp;
  const peerSession = durableId(other);
  if (peerSession !== undefined) return { port, peerIp, peerPort: otherPort, peerSession };
  return { port, peerIp, peerPort: otherPort, peerNode: other instanceof RemoteEnd ? other.node : thisNode };
}

/** Adds `stream` to the set `map` keeps under `key`. */
function addTo<K>(map: Map<K, Set<Stream>>, key: K, stream: Stream): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(stream);
}

/** Removes `stream` from the set `map` keeps under `key` (and the set once empty). */
function deleteFrom<K>(map: Map<K, Set<Stream>>, key: K, stream: Stream): void {
  const set = map.get(key);
  set?.delete(stream);
  if (set?.size === 0) map.delete(key);
}

export class StreamTable {
  private readonly byConnId = new Map<number, Stream>();
  private readonly bySession = new Map<Session, Set<Stream>>();
  /** Streams whose other end is on another node, by that node (to end them when it is gone). */
  private readonly byNode = new Map<number, Set<Stream>>();
  /** Streams whose other end is a durable session, by its id (to end them when it is gone). */
  private readonly byDurable = new Map<string, Set<Stream>>();

  get(connId: number): Stream | undefined {
    return this.byConnId.get(connId);
  }

  has(connId: number): boolean {
    return this.byConnId.has(connId);
  }

  add(stream: Stream): void {
    this.byConnId.set(stream.connId, stream);
    this.index(stream.a, stream);
    this.index(stream.b, stream);
  }

  /** Takes `stream` out if it is still the one under its connId; false if not. */
  remove(stream: Stream): boolean {
    if (this.byConnId.get(stream.connId) !== stream) return false;
    this.byConnId.delete(stream.connId);
    this.unindex(stream.a, stream);
    this.unindex(stream.b, stream);
    return true;
  }

  /** Puts `stream` in the place of `old` (its ends changed: a durable end moved away or in). */
  replace(old: Stream | undefined, stream: Stream): void {
    if (old !== undefined) {
      this.unindex(old.a, old);
      this.unindex(old.b, old);
    }
    this.add(stream);
  }

  /** A leaving session's streams, taken out of its index (each is then dropped with `drop` or replaced). */
  takeSession(session: Session): Set<Stream> | undefined {
    const mine = this.bySession.get(session);
    this.bySession.delete(session);
    return mine;
  }

  /** Drops a stream whose end `gone` already left the index (takeSession): the connId and the other end's index. */
  drop(stream: Stream, other: Session | RemoteEnd): void {
    this.byConnId.delete(stream.connId);
    this.unindex(other, stream);
  }

  ofSession(session: Session): ReadonlySet<Stream> {
    return this.bySession.get(session) ?? new Set();
  }

  count(session: Session): number {
    return this.bySession.get(session)?.size ?? 0;
  }

  /** The streams to sessions on `node` (not durable ones), a copy. */
  ofNode(node: number): Stream[] {
    return [...(this.byNode.get(node) ?? [])];
  }

  nodes(): Iterable<number> {
    return this.byNode.keys();
  }

  /** The streams to the durable session `sid` on another node, a copy. */
  ofDurable(sid: string): Stream[] {
    return [...(this.byDurable.get(sid) ?? [])];
  }

  durableSessions(): Iterable<string> {
    return this.byDurable.keys();
  }

  private index(end: Session | RemoteEnd, stream: Stream): void {
    if (!(end instanceof RemoteEnd)) addTo(this.bySession, end, stream);
    else if (end.sessionId !== undefined) addTo(this.byDurable, end.sessionId, stream);
    else addTo(this.byNode, end.node, stream);
  }

  private unindex(end: Session | RemoteEnd, stream: Stream): void {
    if (!(end instanceof RemoteEnd)) deleteFrom(this.bySession, end, stream);
    else if (end.sessionId !== undefined) deleteFrom(this.byDurable, end.sessionId, stream);
    else deleteFrom(this.byNode, end.node, stream);
  }
}
