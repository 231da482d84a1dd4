/**
 * The node's inbound Redis stream and its writes to other nodes' streams (PROTOCOL.md §15).
 * Frames for a session on another node are appended to that node's stream
 * `gmnet:node:{id}:in` with `XADD … MAXLEN ~ N`; each node reads its own stream in order with
 * `XREAD BLOCK` from the last id it processed, so a node that reconnects to Redis continues where
 * it stopped (pub/sub would lose what was published meanwhile). One sender's writes to one node
 * go through one connection, in order, so they are read in that order.
 *
 * The messages for one node gathered during one turn of the event loop go as one entry
 * (bus-entry.ts). Each entry carries the sending process's epoch and a sequence number per target
 * node: a write that ioredis sent again after a dropped connection, although Redis had executed
 * it before (its answer lost, or saved just before a restart), is read twice and delivered once.
 *
 * The writes — gathering, the buffer while Redis is unreachable, the outbound bound and what a
 * message that cannot be carried turns into — are in bus-writer.ts; the reading in bus-reader.ts.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { type AnyHandler, createBusReader } from "./bus-reader.js";
import { createBusWriter, inboundStreamKey } from "./bus-writer.js";
import type { ClusterMetrics } from "./cluster-metrics.js";
import type { BusMessage, BusMessageOf, BusType } from "./messages.js";

type Handler<T extends BusType> = (from: number, message: BusMessageOf<T>, data: Uint8Array | undefined) => void;

export interface RedisBus {
  /**
   * Appends a message to `node`'s stream, now or (Redis unreachable) once the writer is ready
   * again, in order; never throws. A message that cannot be carried ends with an event (`refuse` in bus-writer.ts).
   */
  send(node: number, message: BusMessage, data?: Uint8Array): void;
  /** Writes the messages gathered this turn now (bus-writer.ts releaseGathered). */
  releaseGathered(): void;
  /** The handler of one message type (one per type). */
  on<T extends BusType>(type: T, handler: Handler<T>): void;
  /** Empties this node's stream (what an earlier process with this id left is meaningless) and starts reading it. */
  start(): Promise<void>;
  /** Waits for the writes in flight, then stops reading. */
  close(): Promise<void>;
  /** Bytes of messages Redis has not acknowledged yet (buffered while unreachable, plus in flight). */
  readonly bytesWaiting: number;
}

export interface RedisBusOptions {
  readonly nodeId: number;
  /** A durable session's frames hinted through this node's stream (session-log.ts). */
  readonly hinted?: (sid: string, first: number, frames: Buffer) => void;
  /** Writes and the route table's commands. */
  readonly writer: Redis;
  /** A connection of its own: XREAD BLOCK holds it. */
  readonly reader: Redis;
  readonly maxLen: number;
  /** Bound of `bytesWaiting` (--redis-outbound-max-bytes). */
  readonly maxOutboundBytes: number;
  readonly logger: Logger;
  readonly metrics: ClusterMetrics;
  /** Counts a datagram (or app channel frame) that could not be carried (the server's gmnet_dropped_frames_total). */
  readonly dropped: (reason: string) => void;
  /** Entries taken per XREAD. */
  readonly batch?: number;
  /** How long one XREAD blocks before it is issued again (ms). */
  readonly blockMs?: number;
}

export function createRedisBus(options: RedisBusOptions): RedisBus {
  const { nodeId, writer, reader, maxLen, maxOutboundBytes, logger, metrics, dropped, batch = 512, blockMs = 2000 } = options;
  /** Each handler takes the message type it was registered for; the map cannot say so. */
  const handlers = new Map<BusType, AnyHandler>();
  const ownKey = inboundStreamKey(nodeId);

  /** Hands a message to this node's own handler as if `from` had sent it (how a refusal becomes the usual event). */
  const deliverLocally = (from: number, message: BusMessage): void => {
    try {
      handlers.get(message.t)?.(from, message, undefined);
    } catch (error) {
      logger.error({ err: error }, "cluster: a bus message failed");
    }
  };

  const outbox = createBusWriter({ nodeId, writer, maxLen, maxOutboundBytes, logger, metrics, dropped, deliverLocally });
  const inbox = createBusReader({ reader, key: ownKey, handlers, logger, metrics, batch, blockMs, hinted: options.hinted });
  const onWriterReady = (): void => outbox.flush();

  return {
    send: outbox.send,
    releaseGathered: outbox.releaseGathered,
    on(type, handler) {
      handlers.set(type, handler as unknown as AnyHandler);
    },
    get bytesWaiting() {
      return outbox.bytesWaiting;
    },
    async start() {
      await writer.del(ownKey);
      writer.on("ready", onWriterReady);
      inbox.start();
    },
    async close() {
      await outbox.close();
      writer.off("ready", onWriterReady);
      await inbox.stop();
    },
  };
}
