/**
 * The node's inbound Redis stream and its writes to other nodes' streams (PROTOCOL.md §15).
 * Frames for a session on another node are appended to that node's stream
 * `gmnet:node:{id}:in` with `XADD … MAXLEN ~ N`; each node reads its own stream in order with
 * `XREAD BLOCK` from the last id it processed, so a node that reconnects to Redis continues where
 * it stopped (pub/sub would lose what was published meanwhile). One sender's writes to one node
 * go through one connection, in order, so they are read in that order.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import type { BusMessage, BusMessageOf, BusType } from "./messages.js";

export const inboundStreamKey = (nodeId: number): string => `gmnet:node:${nodeId}:in`;

type Handler<T extends BusType> = (from: number, message: BusMessageOf<T>, data: Uint8Array | undefined) => void;

export interface RedisBus {
  /** Appends a message to `node`'s stream; never throws (a failed write is logged). */
  send(node: number, message: BusMessage, data?: Uint8Array): void;
  /** The handler of one message type (one per type). */
  on<T extends BusType>(type: T, handler: Handler<T>): void;
  /** Empties this node's stream (what an earlier process with this id left is meaningless) and starts reading it. */
  start(): Promise<void>;
  /** Waits for the writes in flight, then stops reading. */
  close(): Promise<void>;
}

export interface RedisBusOptions {
  readonly nodeId: number;
  /** Writes and the route table's commands. */
  readonly writer: Redis;
  /** A connection of its own: XREAD BLOCK holds it. */
  readonly reader: Redis;
  readonly maxLen: number;
  readonly logger: Logger;
  /** Entries taken per XREAD. */
  readonly batch?: number;
  /** How long one XREAD blocks before it is issued again (ms). */
  readonly blockMs?: number;
}

export function createRedisBus(options: RedisBusOptions): RedisBus {
  const { nodeId, writer, reader, maxLen, logger, batch = 512, blockMs = 2000 } = options;
  /** Each handler takes the message type it was registered for; the map cannot say so. */
  const handlers = new Map<BusType, (from: number, message: BusMessage, data: Uint8Array | undefined) => void>();
  const ownKey = inboundStreamKey(nodeId);
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let stopped = false;
  let loop: Promise<void> | undefined;

  const deliver = (fields: Buffer[]): void => {
    let from = 0;
    let header: BusMessage | undefined;
    let data: Uint8Array | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i]!.toString();
      const value = fields[i + 1]!;
      if (name === "f") from = Number(value.toString());
      else if (name === "h") header = JSON.parse(value.toString()) as BusMessage;
      else if (name === "d") data = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    }
    if (header === undefined) return;
    const handler = handlers.get(header.t);
    if (handler === undefined) return logger.warn({ type: header.t, from }, "cluster: a bus message nobody handles");
    handler(from, header, data);
  };

  const read = async (): Promise<void> => {
    let lastId = "0-0";
    while (!stopped) {
      let reply: unknown;
      try {
        reply = await reader.callBuffer("XREAD", "COUNT", batch, "BLOCK", blockMs, "STREAMS", ownKey, lastId);
      } catch (error) {
        if (stopped) return;
        // ioredis reconnects by itself; the next XREAD continues after lastId, so nothing is skipped.
        logger.warn({ err: error }, "cluster: reading the node's stream failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (reply === null) continue;
      for (const [, entries] of reply as Array<[Buffer, Array<[Buffer, Buffer[]]>]>) {
        for (const [id, fields] of entries) {
          lastId = id.toString();
          try {
            deliver(fields);
          } catch (error) {
            logger.error({ err: error }, "cluster: a bus message failed");
          }
        }
      }
    }
  };

  return {
    send(node, message, data) {
      const args: Array<string | Buffer | number> = [inboundStreamKey(node), "MAXLEN", "~", maxLen, "*", "f", nodeId, "h", JSON.stringify(message)];
      if (data !== undefined) args.push("d", Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      inFlight++;
      writer.call("XADD", ...args).then(
        () => undefined,
        (error: unknown) => logger.warn({ err: error, node, type: message.t }, "cluster: a write to another node's stream failed"),
      ).finally(() => {
        if (--inFlight === 0) drained?.();
      });
    },
    on(type, handler) {
      handlers.set(type, handler as unknown as (from: number, message: BusMessage, data: Uint8Array | undefined) => void);
    },
    async start() {
      await writer.del(ownKey);
      loop = read();
    },
    async close() {
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      stopped = true;
      // Ends the XREAD that is blocking now.
      reader.disconnect();
      await loop;
    },
  };
}
