/**
 * The bus's reader of this node's own stream (redis-bus.ts, PROTOCOL.md §15): `XREAD BLOCK` from
 * the last id processed, so after a reconnect to Redis it continues where it stopped (pub/sub
 * would lose what was published meanwhile), and from the start when Redis restarted without
 * persistence and the stream is new. Entries another process wrote twice (ioredis sent a write
 * again after a dropped connection, although Redis had executed it) are delivered once, by their
 * sender's epoch and sequence number (bus-writer.ts).
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { unpackMessages } from "./bus-entry.js";
import type { ClusterMetrics } from "./cluster-metrics.js";
import type { BusMessage, BusType } from "./messages.js";

/** A message type's handler, as the bus keeps it: each takes the type it was registered for, which the map cannot say. */
export type AnyHandler = (from: number, message: BusMessage, data: Uint8Array | undefined) => void;

export interface BusReader {
  /** Starts the read loop. */
  start(): void;
  /** Ends the XREAD that is blocking now and the loop. */
  stop(): Promise<void>;
}

export interface BusReaderOptions {
  /** A connection of its own: XREAD BLOCK holds it. */
  readonly reader: Redis;
  /** This node's inbound stream. */
  readonly key: string;
  readonly handlers: ReadonlyMap<BusType, AnyHandler>;
  readonly logger: Logger;
  readonly metrics: ClusterMetrics;
  /** Entries taken per XREAD. */
  readonly batch: number;
  /** How long one XREAD blocks before it is issued again (ms). */
  readonly blockMs: number;
  /** A durable session's frames, hinted by the script that logged them (session-log.ts). */
  readonly hinted?: (sid: string, first: number, frames: Buffer) => void;
}

/** Stream entry ids ("ms-seq") in order. */
function compareIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split("-").map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split("-").map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

export function createBusReader(options: BusReaderOptions): BusReader {
  const { reader, key: ownKey, handlers, logger, metrics, batch, blockMs, hinted } = options;
  let stopped = false;
  let loop: Promise<void> | undefined;
  let stop: () => void = () => undefined;
  const stopping = new Promise<undefined>((resolve) => (stop = () => resolve(undefined)));
  /**
   * A reader command, or undefined once the bus stops: close() must not depend on what state the
   * connection is in (one disconnected in the middle of its handshake may leave a command unsettled).
   */
  const untilStopped = <T>(command: Promise<T>): Promise<T | undefined> => {
    command.catch(() => undefined);
    return Promise.race([command, stopping]);
  };
  /** Set when the reader (re)connects: the stream may be a new one (a Redis restart without persistence). */
  let recheck = false;
  /** The last sequence number read from each sending node, in its epoch. */
  const lastRead = new Map<number, { epoch: string; seq: number }>();

  const deliver = (id: string, fields: Buffer[]): void => {
    let from = 0;
    let packed: Buffer | undefined;
    let senderEpoch = "";
    let seq = 0;
    if (fields[0]?.toString() === "h") {
      // Written by a durable-session script: fields h (session), n (first frame number), d (frames).
      hinted?.(fields[1]!.toString(), Number(fields[3]!.toString()), fields[5]!);
      return;
    }
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i]!.toString();
      const value = fields[i + 1]!;
      if (name === "f") from = Number(value.toString());
      else if (name === "m") packed = value;
      else if (name === "e") senderEpoch = value.toString();
      else if (name === "s") seq = Number(value.toString());
    }
    // The id's milliseconds are when Redis appended the entry.
    metrics.readLag(Date.now() - Number(id.slice(0, id.indexOf("-"))));
    if (packed === undefined) return;
    const seen = lastRead.get(from);
    if (seen !== undefined && seen.epoch === senderEpoch) {
      if (seq <= seen.seq) return logger.debug({ from, seq }, "cluster: a bus message written twice (sent again after a dropped connection); delivered once");
      if (seq > seen.seq + 1) logger.warn({ from, missing: seq - seen.seq - 1 }, "cluster: bus messages from a node are missing (trimmed by --redis-stream-max-len, lost by Redis, or failed writes)");
    }
    lastRead.set(from, { epoch: senderEpoch, seq });
    for (const { header, data } of unpackMessages(packed)) {
      // One message failing must not cost the entry's others.
      try {
        const message = JSON.parse(header) as BusMessage;
        metrics.received(message.t);
        const handler = handlers.get(message.t);
        if (handler === undefined) logger.warn({ type: message.t, from }, "cluster: a bus message nobody handles");
        else handler(from, message, data);
      } catch (error) {
        logger.error({ err: error }, "cluster: a bus message failed");
      }
    }
  };

  /** After a Redis restart without persistence the stream is new: its ids may start below lastId. */
  const resumeFrom = async (lastId: string): Promise<string> => {
    const exists = await untilStopped(reader.exists(ownKey));
    if (exists === undefined) return lastId;
    if (exists === 0) return "0-0";
    const info = ((await untilStopped(reader.call("XINFO", "STREAM", ownKey))) ?? []) as unknown[];
    const at = info.indexOf("last-generated-id");
    const lastGenerated = at >= 0 ? String(info[at + 1]) : lastId;
    if (compareIds(lastGenerated, lastId) < 0) {
      logger.warn({ lastId, lastGenerated }, "cluster: the node's stream was created again (Redis restarted); reading it from the start");
      return "0-0";
    }
    return lastId;
  };

  const read = async (): Promise<void> => {
    let lastId = "0-0";
    while (!stopped) {
      let reply: unknown;
      try {
        if (recheck) {
          recheck = false;
          lastId = await resumeFrom(lastId);
        }
        reply = await untilStopped(reader.callBuffer("XREAD", "COUNT", batch, "BLOCK", blockMs, "STREAMS", ownKey, lastId));
      } catch (error) {
        if (stopped) return;
        // ioredis reconnects by itself; the next XREAD continues after lastId, so nothing is skipped.
        logger.warn({ err: error }, "cluster: reading the node's stream failed; retrying");
        recheck = true;
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (reply === null || reply === undefined) continue;
      for (const [, entries] of reply as Array<[Buffer, Array<[Buffer, Buffer[]]>]>) {
        for (const [id, fields] of entries) {
          lastId = id.toString();
          try {
            deliver(lastId, fields);
          } catch (error) {
            logger.error({ err: error }, "cluster: a bus message failed");
          }
        }
      }
    }
  };

  const onReaderReady = (): void => {
    recheck = true;
  };

  return {
    start() {
      reader.on("ready", onReaderReady);
      loop = read();
    },
    async stop() {
      stopped = true;
      stop();
      reader.off("ready", onReaderReady);
      // Ends the XREAD that is blocking now.
      reader.disconnect();
      await loop;
    },
  };
}
