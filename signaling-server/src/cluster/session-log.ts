/**
 * Durable sessions (--durable-sessions with --redis; PROTOCOL.md §15 "Resume on another node"):
 * what a resumable session is owed lives in Redis, so its client can resume it on any node, even
 * after `kill -9` of the node it was on, and lose nothing that was acknowledged.
 *
 * - Every sequenced frame for a durable session, whichever node produces it (its own for
 *   SOCKET_CONNECTED or an ERROR, a peer's node for stream data), is appended to the session's log
 *   in Redis, which gives it its number; a hint carrying the frames goes through the owning node's
 *   stream in the same script, and the owner sends the client what the hints bring, in log order.
 * - A client frame's effects (appends to other sessions' logs, stream records) and the count of
 *   client frames processed (`in`) are written by one script per turn, fenced by the record's
 *   owner: the client is acknowledged only what is in Redis, and a node that lost the session to
 *   another applies nothing more of it.
 * - A RESUME on a node that does not hold the session takes the record over (session-scripts.ts
 *   TAKE) and replays its log.
 *
 * A turn's operations go as one script call; calls are pipelined on the writer in order. While
 * Redis is unreachable they wait in order; acknowledgements to clients wait with them.
 */
import { FRAME_HEADER_SIZE } from "@gmnet/protocol";
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { COMMIT, TAKE } from "./session-scripts.js";

/** What the turn's operations answered about one session. */
export type LogRefusal = "fenced" | "lost" | "gone" | "full";

/** A session's half of a virtual stream, as a node that takes the session over needs it. */
export interface StreamHalf {
  readonly port: number;
  readonly peerIp: number;
  readonly peerPort: number;
  /** The other end's session when it is durable too (reached through its log), else its node. */
  readonly peerSession?: string;
  readonly peerNode?: number;
}

/** What a session keeps in its record that a node taking it over needs. */
export interface SessionMeta {
  readonly identityId: number;
  readonly virtualIp: number;
  readonly device: { readonly identityId: number; readonly virtualIp: number };
  readonly helloToken: string;
}

/** A session taken over from its record: the node that had it and everything to carry on. */
export interface TakenSession {
  readonly previousNode: number;
  readonly meta: SessionMeta;
  /** Client frames whose effects are in Redis (RESUMED says this). */
  readonly received: number;
  /** The last frame number given in the log (absolute). */
  readonly out: number;
  /** The frames after the client's `received`, oldest first. */
  readonly frames: Buffer[];
  /** The UDP ports it was bound to. */
  readonly udpPorts: readonly number[];
  readonly streams: ReadonlyMap<number, StreamHalf>;
}

export type TakeRefusal = "unknown" | "not-owned" | "pinned" | "evicted" | "unavailable";

/** What a durable session (ClientSession) hears from the log. */
export interface LogListener {
  /** Frames numbered first, first + 1, … in the session's log, to send the client in that order. */
  logged(first: number, frames: readonly Uint8Array[]): void;
  /** Client frames up to `count` are in Redis with their effects: they may be acknowledged. */
  committed(count: number): void;
  /** Another node took the session over: this node's copy goes, without ending anything. */
  movedAway(): void;
  /** A frame for it was refused: its log is past the byte bound, or this node's writes waiting for Redis are. */
  full(): void;
  /** Its record is gone from Redis (expired, or Redis restarted without persistence): it cannot go on. */
  lost(): void;
}

export interface SessionLog {
  /** The session of the frame being handled now: what it causes is fenced by its record. */
  source: string;
  open(sid: string, appKey: string, meta: SessionMeta, listener: LogListener): void;
  /** A session taken over here (after take()) listens from now on. */
  adopt(sid: string, listener: LogListener): void;
  /** Appends a sequenced frame to the session's log (any session, on any node). */
  append(sid: string, frame: Uint8Array, ignoreBound?: boolean): void;
  /** The session processed its client's frames up to `count`. */
  received(sid: string, count: number): void;
  setStream(sid: string, connId: number, half: StreamHalf): void;
  deleteStream(sid: string, connId: number): void;
  /** The session now holds something a move cannot carry (a login, a host name, an app channel, …). */
  pin(sid: string, reason: string): void;
  /** The UDP ports the session is bound to now (a move binds them again). */
  setUdpPorts(sid: string, ports: readonly number[]): void;
  /** The client acknowledged log frames up to `n` (absolute). */
  trim(sid: string, n: number): void;
  /** The session ended: its record goes. */
  end(sid: string): void;
  /** Stops listening for a session without touching its record (it moved away, or this node drains). */
  forget(sid: string): void;
  take(sid: string, appKey: string, deviceIdentityId: number, clientReceived: number): Promise<TakenSession | TakeRefusal>;
  /** A hint read from this node's stream (bus-reader.ts). */
  hinted(sid: string, first: number, frames: Buffer): void;
  /** Hears every hinted frame of this node's sessions before the session sends it (streams.ts drops a stream its peer closed). */
  onLogged(tap: (sid: string, frames: readonly Uint8Array[]) => void): void;
  /** Hears an append refused because its session is gone (record expired or ended) or its log is full. */
  onRefused(handler: (sid: string, reason: "gone" | "full") => void): void;
  /** Calls `gone` for each session `inUse` names whose record no longer exists (every liveness round). */
  watch(inUse: () => Iterable<string>, gone: (sid: string) => void): void;
  /** The liveness round: keeps the records of this node's sessions, and finds the ones that are gone. */
  refresh(): Promise<void>;
  /**
   * From now on, while the connection is not ready (Redis unreachable), writes wait here and go
   * once `writerReady` is called — after the bus has written what it held (cluster.ts), so the
   * order "bus messages before the log's script" holds across an outage too. Not started (tests of
   * this module alone), writes go to ioredis' own offline queue.
   */
  start(): void;
  /** The connection is ready again and the bus has written what it held. */
  writerReady(): void;
  /** Waits for the writes in flight. */
  settled(): Promise<void>;
  /** Durable sessions of this node (listening to the log). */
  readonly sessions: number;
  /** Bytes of appends written and not answered yet. */
  readonly pendingBytes: number;
}

export interface SessionLogOptions {
  readonly redis: Redis;
  readonly nodeId: () => number;
  readonly logger: Logger;
  readonly streamMaxLen: number;
  /** How long a record outlives its node's last refresh (the resume window and a liveness TTL). */
  readonly recordTtlMs: number;
  /** A session's log holds at most this many bytes (--replay-bytes-per-session). */
  readonly maxLogBytes: number;
  /**
   * Called before each write: the bus messages of the turn go first, on the same connection. A node
   * that tells another node something ("conn": a stream is open) and logs a frame that node's
   * client will react to (its SOCKET_CONNECTED) needs the message read before the frame's hint.
   */
  readonly beforeWrite?: () => void;
  /**
   * Bytes of writes Redis has not answered yet (--redis-outbound-max-bytes): past it, while Redis is
   * slow or unreachable, a frame for a durable session is refused as for a full log, never kept
   * without bound.
   */
  readonly maxPendingBytes: number;
  /** Hears each write's time to answer and each refusal (cluster-metrics.ts). */
  readonly observe?: { written(ms: number): void; refused(reason: LogRefusal): void };
}

/** Frames written back to back by this server (trusted: they come from our own log): split by their length field. */
function splitFrames(bytes: Buffer): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let at = 0; at + FRAME_HEADER_SIZE <= bytes.length; ) {
    const end = at + FRAME_HEADER_SIZE + bytes.readUInt32LE(at + 8);
    frames.push(bytes.subarray(at, end));
    at = end;
  }
  return frames;
}

type Op = [op: string, sid: string, source: string, a: string | Buffer, b: string | Buffer];

export function createSessionLog(options: SessionLogOptions): SessionLog {
  const { redis, nodeId, logger, streamMaxLen, recordTtlMs, maxLogBytes, maxPendingBytes } = options;
  /** Bytes of the operations gathered or written and not answered yet (maxPendingBytes). */
  let pendingBytes = 0;
  const listeners = new Map<string, LogListener>();
  const watchers: Array<{ inUse: () => Iterable<string>; gone: (sid: string) => void }> = [];
  const taps: Array<(sid: string, frames: readonly Uint8Array[]) => void> = [];
  const refusalHandlers: Array<(sid: string, reason: "gone" | "full") => void> = [];
  /** The turn's operations, and the client counts to commit with them (the latest per session). */
  let ops: Op[] = [];
  const counts = new Map<string, number>();
  const trims = new Map<string, number>();
  let scheduled = false;
  /** The session whose frame is being handled (SessionLog.source). */
  let source = "";
  /** Writes wait for writerReady() while the connection is not ready (start). */
  let gated = false;
  let waiting: Array<() => void> = [];
  /** The last write held while Redis was unreachable, until it is answered: later writes go behind it. */
  let holding: Promise<void> | undefined;
  /** The writes answered in the order they were issued (what each answer means is handled here). */
  let chain: Promise<void> = Promise.resolve();
  const commit = (args: Array<string | Buffer>): Promise<unknown> =>
    (redis as unknown as { gmnetSessionCommit(...args: Array<string | Buffer>): Promise<unknown> }).gmnetSessionCommit(...args);
  redis.defineCommand("gmnetSessionCommit", { numberOfKeys: 0, lua: COMMIT });
  redis.defineCommand("gmnetSessionTake", { numberOfKeys: 0, lua: TAKE });

  // After the I/O callbacks of this turn, as the bus writes (the bus messages go just before:
  // beforeWrite): every frame of the turn, from every client, shares one script call.
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  const push = (op: string, sid: string, source: string, a: string | Buffer = "", b: string | Buffer = ""): void => {
    ops.push([op, sid, source, a, b]);
    schedule();
  };

  function flush(): void {
    scheduled = false;
    for (const [sid, count] of counts) ops.push(["in", sid, sid, String(count), ""]);
    for (const [sid, n] of trims) ops.push(["trim", sid, sid, String(n), ""]);
    const batch = ops;
    const committedCounts = new Map(counts);
    ops = [];
    counts.clear();
    trims.clear();
    if (batch.length === 0) return;
    const args: Array<string | Buffer> = [String(nodeId()), String(streamMaxLen), String(recordTtlMs), String(maxLogBytes)];
    for (const op of batch) args.push(...op);
    const bytes = batch.reduce((sum, op) => sum + (op[0] === "append" ? op[3].length : 0), 0);
    // Issued now (Redis runs a connection's commands in order), or in order once Redis is back;
    // answered in order through the chain.
    let issuedAt = 0;
    const issue = (): Promise<unknown> => {
      options.beforeWrite?.();
      issuedAt = performance.now();
      return commit(args);
    };
    let written: Promise<unknown>;
    if (gated && (redis.status !== "ready" || holding !== undefined)) {
      // Behind the writes held before it, or until the connection is ready and the bus wrote first.
      written = (holding ?? new Promise<void>((resolve) => waiting.push(resolve))).then(issue);
      const settled = written.then(
        () => undefined,
        () => undefined,
      );
      holding = settled;
      void settled.then(() => {
        if (holding === settled) holding = undefined;
      });
    } else {
      written = issue();
    }
    written.catch(() => undefined);
    chain = chain.then(async () => {
      let answers: string[];
      try {
        answers = (await written) as string[];
      } catch (error) {
        // Nothing of a failed script applies (Redis runs it whole or not at all): write it again.
        logger.warn({ err: error }, "cluster: writing durable sessions failed; retrying");
        for (;;) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          try {
            answers = (await commit(args)) as string[];
            break;
          } catch (again) {
            logger.warn({ err: again }, "cluster: writing durable sessions failed again; retrying");
          }
        }
      }
      pendingBytes -= bytes;
      options.observe?.written(performance.now() - issuedAt);
      const refused = new Map<string, LogRefusal>();
      for (let i = 0; i + 1 < answers.length; i += 2) refused.set(answers[i + 1]!, answers[i] as LogRefusal);
      for (const reason of refused.values()) options.observe?.refused(reason);
      for (const [sid, reason] of refused) {
        if (reason === "gone" || reason === "full") for (const handler of refusalHandlers) handler(sid, reason);
        const listener = listeners.get(sid);
        if (listener === undefined) continue;
        if (reason === "fenced") {
          listeners.delete(sid);
          listener.movedAway();
        } else if (reason === "lost") {
          listeners.delete(sid);
          logger.warn({ session: sid }, "cluster: a durable session's record is gone from Redis (expired, or Redis restarted without persistence); ending it");
          listener.lost();
        } else if (reason === "full") listener.full();
      }
      for (const [sid, count] of committedCounts) if (!refused.has(sid)) listeners.get(sid)?.committed(count);
    });
  }

  return {
    get sessions() {
      return listeners.size;
    },
    get pendingBytes() {
      return pendingBytes;
    },
    start() {
      gated = true;
    },
    writerReady() {
      const ready = waiting;
      waiting = [];
      for (const resolve of ready) resolve();
    },
    get source() {
      return source;
    },
    set source(sid: string) {
      source = sid;
    },
    open(sid, appKey, meta, listener) {
      listeners.set(sid, listener);
      push("open", sid, sid, JSON.stringify(meta), `${appKey}\n${meta.device.identityId}`);
    },
    adopt(sid, listener) {
      listeners.set(sid, listener);
    },
    append(sid, frame, ignoreBound = false) {
      if (!ignoreBound && pendingBytes + frame.length > maxPendingBytes) {
        logger.warn({ session: sid, pendingBytes }, "cluster: durable-session writes waiting for Redis passed --redis-outbound-max-bytes; a frame is refused");
        queueMicrotask(() => {
          for (const handler of refusalHandlers) handler(sid, "full");
          listeners.get(sid)?.full();
        });
        return;
      }
      pendingBytes += frame.byteLength;
      push("append", sid, source, Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), ignoreBound ? "1" : "");
    },
    received(sid, count) {
      counts.set(sid, count);
      schedule();
    },
    setStream(sid, connId, half) {
      push("sset", sid, source, String(connId), JSON.stringify(half));
    },
    deleteStream(sid, connId) {
      push("sdel", sid, source, String(connId));
    },
    pin(sid, reason) {
      push("pin", sid, sid, reason);
    },
    setUdpPorts(sid, ports) {
      push("udp", sid, sid, JSON.stringify(ports));
    },
    trim(sid, n) {
      trims.set(sid, n);
      schedule();
    },
    end(sid) {
      listeners.delete(sid);
      counts.delete(sid);
      trims.delete(sid);
      push("end", sid, sid);
    },
    forget(sid) {
      listeners.delete(sid);
      counts.delete(sid);
      trims.delete(sid);
    },
    async take(sid, appKey, deviceIdentityId, clientReceived) {
      // What this node wrote for the session before (it had it once) goes first.
      if (scheduled) flush();
      await chain;
      let answer: Buffer[];
      try {
        const take = (redis as unknown as { gmnetSessionTakeBuffer(...args: string[]): Promise<Buffer[]> }).gmnetSessionTakeBuffer;
        answer = await take.call(redis, sid, String(nodeId()), appKey, String(deviceIdentityId), String(clientReceived >>> 0));
      } catch (error) {
        logger.warn({ err: error, session: sid }, "cluster: taking a durable session over failed");
        return "unavailable";
      }
      const kind = answer[0]!.toString();
      if (kind !== "ok") return kind as TakeRefusal;
      const [, previous, meta, received, out, wanted, udp] = answer.map((part) => part.toString());
      const at = answer.findIndex((part, i) => i >= 7 && (i - 7) % 2 === 0 && part.toString() === "streams");
      // The entries' frames from the first one the client lacks (an entry may begin before it).
      const frames: Buffer[] = [];
      for (let i = 7; i + 1 < at; i += 2) {
        let n = Number(answer[i]!.toString());
        for (const frame of splitFrames(answer[i + 1]!)) if (n++ >= Number(wanted)) frames.push(Buffer.from(frame));
      }
      const streams = new Map<number, StreamHalf>();
      for (let i = at + 1; i + 1 < answer.length; i += 2) streams.set(Number(answer[i]!.toString()), JSON.parse(answer[i + 1]!.toString()) as StreamHalf);
      return {
        previousNode: Number(previous),
        meta: JSON.parse(meta!) as SessionMeta,
        received: Number(received),
        out: Number(out),
        frames,
        udpPorts: JSON.parse(udp!) as number[],
        streams,
      };
    },
    hinted(sid, first, frames) {
      const listener = listeners.get(sid);
      if (listener === undefined) return;
      const split = splitFrames(frames);
      for (const tap of taps) tap(sid, split);
      listener.logged(first, split);
    },
    onLogged(tap) {
      taps.push(tap);
    },
    onRefused(handler) {
      refusalHandlers.push(handler);
    },
    watch(inUse, gone) {
      watchers.push({ inUse, gone });
    },
    async refresh() {
      const pipeline = redis.pipeline();
      const kept = [...listeners.keys()];
      for (const sid of kept) for (const suffix of ["", ":log", ":streams"]) pipeline.pexpire(`gmnet:sess:${sid}${suffix}`, recordTtlMs);
      const checks: Array<{ sids: string[]; gone: (sid: string) => void }> = [];
      for (const watcher of watchers) {
        const sids = [...new Set(watcher.inUse())];
        for (const sid of sids) pipeline.exists(`gmnet:sess:${sid}`);
        checks.push({ sids, gone: watcher.gone });
      }
      const results = (await pipeline.exec()) ?? [];
      let at = kept.length * 3;
      for (const { sids, gone } of checks) {
        for (const sid of sids) {
          const [error, exists] = results[at++] ?? [null, 1];
          if (error === null && exists === 0) gone(sid);
        }
      }
    },
    async settled() {
      if (scheduled) flush();
      await chain;
    },
  };
}
