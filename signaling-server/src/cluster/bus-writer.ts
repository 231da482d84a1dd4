/**
 * The bus's writes to other nodes' streams (redis-bus.ts, PROTOCOL.md §15). The messages for one
 * node gathered during one turn of the event loop go as one entry (bus-entry.ts): a burst of
 * stream data costs one XADD and one entry to read, not one per frame. Each entry carries the
 * sending process's epoch and a sequence number per target node, so the reader delivers a write
 * that ioredis sent twice only once.
 *
 * While the writer connection is not ready (Redis unreachable or restarting) entries wait in an
 * ordered buffer of their own, never in ioredis' offline queue (which fails them after its
 * retries), and are written in order once it is ready again. What Redis has not acknowledged yet —
 * buffered plus in flight — is bounded by --redis-outbound-max-bytes; past it a message is refused
 * with an event, never dropped silently (see `refuse`).
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { CloseReason, FailReason, MasterStatus } from "@gmnet/protocol";
import type { Logger } from "../observability/logger.js";
import { packMessages, packedSize } from "./bus-entry.js";
import type { ClusterMetrics } from "./cluster-metrics.js";
import type { BusMessage } from "./messages.js";

export const inboundStreamKey = (nodeId: number): string => `gmnet:node:${nodeId}:in`;

export interface BusWriter {
  /** RedisBus.send: now, or once the writer is ready again, in order; never throws. */
  send(node: number, message: BusMessage, data?: Uint8Array): void;
  /** Writes what waited, in order, if the writer is ready (call it when it becomes ready). */
  flush(): void;
  /** Hands this turn's entries on now rather than at the end of the turn (before a durable-session write, session-log.ts). */
  releaseGathered(): void;
  /** Hands on what was gathered, waits for the writes in flight, then stops. */
  close(): Promise<void>;
  /** Bytes of messages Redis has not acknowledged yet (buffered while unreachable, plus in flight). */
  readonly bytesWaiting: number;
}

export interface BusWriterOptions {
  readonly nodeId: number;
  readonly writer: Redis;
  readonly maxLen: number;
  /** Bound of `bytesWaiting` (--redis-outbound-max-bytes). */
  readonly maxOutboundBytes: number;
  readonly logger: Logger;
  readonly metrics: ClusterMetrics;
  /** Counts a datagram (or app channel frame) that could not be carried (the server's gmnet_dropped_frames_total). */
  readonly dropped: (reason: string) => void;
  /** Hands a message to this node's own handler as if `from` had sent it (how a refusal becomes the usual event). */
  readonly deliverLocally: (from: number, message: BusMessage) => void;
}

/** A message to another node that Redis has not acknowledged yet. */
interface Queued {
  readonly message: BusMessage;
  readonly header: string;
  readonly data: Uint8Array | undefined;
  /** What it takes in its entry. */
  readonly bytes: number;
}

/** One entry for another node's stream: the messages for it gathered in one turn. */
interface Outbound {
  readonly node: number;
  /** Filtered when a failed write takes a stream's later data with it (refuse). */
  messages: Queued[];
  /** Its messages' bytes plus ENTRY_OVERHEAD, as counted in bytesWaiting. */
  bytes: number;
}

/** What an entry costs in the buffer besides its messages: the stream entry's own fields. */
const ENTRY_OVERHEAD = 64;
/** An entry is handed on early once it holds this many messages or bytes, so one XADD stays small. */
const MAX_ENTRY_MESSAGES = 256;
const MAX_ENTRY_BYTES = 512 * 1024;

export function createBusWriter(options: BusWriterOptions): BusWriter {
  const { nodeId, writer, maxLen, maxOutboundBytes, logger, metrics, dropped, deliverLocally } = options;
  /** Entries waiting for the writer to be ready, in the order they were made. */
  let buffered: Outbound[] = [];
  /** Each node's entry of this turn, still taking messages (written when the turn ends). */
  const gathering = new Map<number, Outbound>();
  let gatherScheduled = false;
  let bytesWaiting = 0;
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let stopped = false;
  /** This process's writes, told apart from an earlier process's with the same node id. */
  const epoch = randomBytes(6).toString("hex");
  /** The last sequence number written to each node. */
  const sequences = new Map<number, number>();
  /** Streams (node/connId) this bus closed, remembered while writes that may name them are pending. */
  const closedStreams = new Set<string>();

  /**
   * A message that cannot be carried — past the outbound bound, or its write failed — ends with
   * the event its kind has when the other node is unreachable: a stream's data or its opening
   * closes the local end with PEER_GONE (and the other end is told once Redis is back); a request
   * fails OFFLINE; an answer to another node's request leaves its requester to TIMEOUT; datagrams,
   * broadcasts and app channel frames are dropped, counted.
   */
  const refuse = (node: number, message: BusMessage, why: "full" | "failed"): void => {
    metrics.writeFailed(message.t);
    switch (message.t) {
      case "data":
      case "conn": {
        const { connId } = message;
        // Writes in flight fail together: the stream is closed once.
        const key = `${node}/${connId}`;
        if (closedStreams.has(key)) return;
        closedStreams.add(key);
        if (why === "failed") {
          // The failed write was in flight, so what is buffered for its stream came later and must
          // not arrive after a gap: it goes with the stream. (Refused as full, the buffered data
          // came before it and is delivered, then the close.)
          for (const entry of [...buffered, ...gathering.values()]) {
            if (entry.node !== node) continue;
            entry.messages = entry.messages.filter((queued) => {
              const same = queued.message.t === "data" && queued.message.connId === connId;
              if (same) {
                entry.bytes -= queued.bytes;
                bytesWaiting -= queued.bytes;
              }
              return !same;
            });
          }
        }
        metrics.streamRefused();
        logger.warn({ node, connId, why, bytesWaiting }, "cluster: a stream's data could not be carried to its node; closing it (PEER_GONE)");
        deliverLocally(node, { t: "closed", connId, reason: CloseReason.PEER_GONE });
        // The other end gets the data sent before and then the close, once Redis is back.
        if (message.t === "data") send(node, { t: "closed", connId, reason: CloseReason.PEER_GONE });
        return;
      }
      case "req":
        logger.warn({ node, why }, "cluster: a request could not be carried to its node; failing it OFFLINE");
        return deliverLocally(node, { t: "fail", routingId: message.routingId, reason: FailReason.OFFLINE });
      case "signal":
        // The sender still hears NOT_A_PARTICIPANT, as when the target's node has nobody there.
        return deliverLocally(node, { t: "signal-refused", sessionId: message.sessionId, ip: message.ip, pairId: message.pairId });
      case "mreq":
        // At once rather than at the forwarder's timeout: the same "try again" a home change gives.
        return deliverLocally(node, {
          t: "mres",
          id: message.id,
          status: MasterStatus.NOT_CONNECTED,
          body: { error: "not_connected", message: "the master services are not reachable now (Redis is unreachable); try again" },
        });
      case "dgram":
      case "bcast":
      case "chan":
        logger.debug({ node, type: message.t, why }, "cluster: a datagram could not be carried to its node; dropped");
        return dropped(why === "full" ? "cluster-outbound-full" : "cluster-write-failed");
      default:
        // status, fail: the requester's node times the request out; closed: see write(); replaced:
        // the old node's liveness rounds find the route taken and close that session (cluster.ts);
        // mres and the home's orders: the forwarder's timeout.
        logger.warn({ node, type: message.t, why }, "cluster: a message could not be carried to its node");
    }
  };

  /** Writes one entry with the next sequence number for its node (entries reach write() in the order they were made). */
  const write = (entry: Outbound): void => {
    const seq = (sequences.get(entry.node) ?? 0) + 1;
    sequences.set(entry.node, seq);
    inFlight++;
    writer
      .call("XADD", inboundStreamKey(entry.node), "MAXLEN", "~", maxLen, "*", "f", nodeId, "e", epoch, "s", seq, "m", packMessages(entry.messages))
      .then(
        () => {
          for (const queued of entry.messages) metrics.sent(queued.message.t);
        },
        (error: unknown) => {
          if (stopped) return;
          logger.warn({ err: error, node: entry.node, messages: entry.messages.length }, "cluster: a write to another node's stream failed");
          // A close is idempotent, so it may safely go again when the connection is back (in a new
          // entry: the first may have been written, and a duplicate close is ignored); a duplicate
          // of anything else could repeat data, so that ends with its event instead.
          const replyError = error instanceof Error && error.name === "ReplyError";
          for (const { message } of entry.messages) {
            if (message.t === "closed" && !replyError) send(entry.node, message);
            else refuse(entry.node, message, "failed");
          }
        },
      )
      .finally(() => {
        bytesWaiting -= entry.bytes;
        if (--inFlight > 0) return;
        if (buffered.length === 0 && gathering.size === 0) closedStreams.clear();
        drained?.();
      });
  };

  /**
   * Writes what waited, in order, while the writer is ready. ioredis re-sends the commands that
   * were in flight when a connection dropped before it reports "ready", so they stay ahead.
   */
  const flush = (): void => {
    if (writer.status !== "ready" || buffered.length === 0) return;
    const waiting = buffered;
    buffered = [];
    // Each stays counted in bytesWaiting until Redis acknowledges it (write's finally).
    for (const entry of waiting) {
      if (entry.messages.length > 0) write(entry);
      else bytesWaiting -= entry.bytes;
    }
  };

  /** Hands a gathered entry on: written now, or buffered until the writer is ready. */
  const release = (entry: Outbound): void => {
    if (gathering.get(entry.node) === entry) gathering.delete(entry.node);
    if (entry.messages.length === 0) {
      bytesWaiting -= entry.bytes;
      return;
    }
    if (writer.status === "ready") {
      flush();
      write(entry);
    } else {
      buffered.push(entry);
    }
  };

  const releaseAll = (): void => {
    gatherScheduled = false;
    for (const entry of [...gathering.values()]) release(entry);
  };

  const send = (node: number, message: BusMessage, data?: Uint8Array): void => {
    const header = JSON.stringify(message);
    const bytes = packedSize(Buffer.byteLength(header), data);
    // A close is a few bytes, once per stream, and the only way the other end learns: never refused.
    if (message.t !== "closed" && bytesWaiting + ENTRY_OVERHEAD + bytes > maxOutboundBytes) return refuse(node, message, "full");
    let entry = gathering.get(node);
    if (entry !== undefined && (entry.messages.length >= MAX_ENTRY_MESSAGES || entry.bytes + bytes > MAX_ENTRY_BYTES)) {
      release(entry);
      entry = undefined;
    }
    if (entry === undefined) {
      entry = { node, messages: [], bytes: ENTRY_OVERHEAD };
      bytesWaiting += ENTRY_OVERHEAD;
      gathering.set(node, entry);
    }
    entry.messages.push({ message, header, data, bytes });
    entry.bytes += bytes;
    bytesWaiting += bytes;
    if (!gatherScheduled) {
      gatherScheduled = true;
      // After the I/O callbacks of this turn: every frame that arrived in it shares the entry.
      setImmediate(releaseAll);
    }
  };

  return {
    send,
    flush,
    releaseGathered: releaseAll,
    get bytesWaiting() {
      return bytesWaiting;
    },
    async close() {
      releaseAll();
      flush();
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      if (buffered.length > 0) logger.warn({ messages: buffered.length, bytes: bytesWaiting }, "cluster: stopping while Redis is unreachable; messages to other nodes not written");
      stopped = true;
    },
  };
}
