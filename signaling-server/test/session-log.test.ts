/**
 * Durable sessions' log in Redis (cluster/session-log.ts, session-scripts.ts; PROTOCOL.md §15
 * "Resume on another node"), against a private Redis: numbers given by Redis whichever node
 * appends, hints through the owner's stream, the fence that makes a node that lost a session
 * apply nothing more of it, take-over and its refusals, trimming, the byte bound and expiry.
 */
import { Channel, ControlType, FRAME_HEADER_SIZE, Priority, VSocketType, encodeFrame } from "@gmnet/protocol";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LogListener, type SessionLog, type SessionMeta, createSessionLog } from "../src/cluster/session-log.js";
import { createLogger } from "../src/observability/logger.js";
import { type PrivateRedis, startPrivateRedis } from "./support/private-redis.js";

let redis: PrivateRedis | undefined;
const connections: Redis[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
}, 60_000);

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.disconnect();
  await redis!.call("FLUSHALL");
});

afterAll(async () => {
  await redis?.stop();
});

/** A node's log on a Redis connection of its own. */
function nodeLog(nodeId: number, options: { maxLogBytes?: number; recordTtlMs?: number; maxPendingBytes?: number } = {}): SessionLog {
  const connection = new Redis(redis!.url);
  connections.push(connection);
  return createSessionLog({
    redis: connection,
    nodeId: () => nodeId,
    logger: createLogger("silent"),
    streamMaxLen: 1000,
    recordTtlMs: options.recordTtlMs ?? 60_000,
    maxLogBytes: options.maxLogBytes ?? 1 << 20,
    maxPendingBytes: options.maxPendingBytes ?? 1 << 24,
  });
}

/** A listener that records what it hears. */
function recorder() {
  const heard = { logged: [] as Array<{ first: number; frames: Uint8Array[] }>, committed: [] as number[], moved: 0, full: 0, lost: 0 };
  const listener: LogListener = {
    logged: (first, frames) => heard.logged.push({ first, frames: [...frames] }),
    committed: (count) => heard.committed.push(count),
    movedAway: () => heard.moved++,
    full: () => heard.full++,
    lost: () => heard.lost++,
  };
  return { heard, listener };
}

const META: SessionMeta = { identityId: 7, virtualIp: 0x0a000007, device: { identityId: 7, virtualIp: 0x0a000007 }, helloToken: "" };
/** A stream data frame carrying `byte` (a sequenced frame). */
const data = (byte: number): Uint8Array => encodeFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, Priority.NORMAL, Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0, byte));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** The hint entries in node `nodeId`'s stream: session, first number, frames (as hex, split by their length fields). */
async function hintsOf(nodeId: number): Promise<Array<{ sid: string; first: number; frames: string[] }>> {
  const client = new Redis(redis!.url);
  connections.push(client);
  const entries = (await client.xrangeBuffer(`gmnet:node:${nodeId}:in`, "-", "+")) as Array<[Buffer, Buffer[]]>;
  return entries.map(([, fields]) => {
    const bytes = fields[5]!;
    const frames: string[] = [];
    // The frame header's u32 at offset 8 is the payload length (PROTOCOL.md §1).
    for (let at = 0; at < bytes.length; at += FRAME_HEADER_SIZE + bytes.readUInt32LE(at + 8)) frames.push(bytes.subarray(at, at + FRAME_HEADER_SIZE + bytes.readUInt32LE(at + 8)).toString("hex"));
    return { sid: fields[1]!.toString(), first: Number(fields[3]!.toString()), frames };
  });
}

describe("the session log", () => {
  it("numbers frames 1, 2, 3 … whichever node appends, and hints them to the owner in that order", async () => {
    const one = nodeLog(1);
    const two = nodeLog(2);
    const { heard, listener } = recorder();
    one.open("s1", "app", META, listener);
    one.append("s1", data(1));
    one.append("s1", data(2));
    await one.settled();
    two.append("s1", data(3));
    await two.settled();
    // One entry per script call: id = its last frame's number, f = its first's.
    const log = (await redis!.call("XRANGE", "gmnet:sess:s1:log", "-", "+")) as Array<[string, string[]]>;
    expect(log.map(([id, fields]) => [id, fields[0], fields[1]])).toEqual([
      ["0-2", "f", "1"],
      ["0-3", "f", "3"],
    ]);
    expect(await redis!.call("HGET", "gmnet:sess:s1", "out")).toBe("3");
    // One hint per script call and session: node 1's two frames together, then node 2's.
    expect(await hintsOf(1)).toEqual([
      { sid: "s1", first: 1, frames: [hex(data(1)), hex(data(2))] },
      { sid: "s1", first: 3, frames: [hex(data(3))] },
    ]);
    // Delivered to the session's listener as the bus reader would hand them on.
    one.hinted("s1", 3, Buffer.from(data(3)));
    expect(heard.logged.map(({ first, frames }) => [first, frames.map(hex)])).toEqual([[3, [hex(data(3))]]]);
  });

  it("commits a client count with the turn's effects and acknowledges it once written", async () => {
    const one = nodeLog(1);
    const { heard, listener } = recorder();
    one.open("s1", "app", META, listener);
    one.open("s2", "app", META, recorder().listener);
    one.source = "s1";
    one.append("s2", data(9));
    one.source = "";
    one.received("s1", 1);
    await one.settled();
    expect(heard.committed).toEqual([1]);
    expect(await redis!.call("HGET", "gmnet:sess:s1", "in")).toBe("1");
    expect(await redis!.call("XLEN", "gmnet:sess:s2:log")).toBe(1);
  });

  it("takes a session over for another node: its record, the frames the client lacks and its streams", async () => {
    const one = nodeLog(1);
    one.open("s1", "app", META, recorder().listener);
    for (const byte of [1, 2, 3]) one.append("s1", data(byte));
    one.received("s1", 5);
    one.setStream("s1", 77, { port: 6500, peerIp: 0x0a000008, peerPort: 49152, peerSession: "s2" });
    one.setUdpPorts("s1", [7000, 7001]);
    await one.settled();
    const taken = await nodeLog(2).take("s1", "app", 7, 1);
    expect(taken).toMatchObject({ previousNode: 1, meta: META, received: 5, out: 3, udpPorts: [7000, 7001] });
    if (typeof taken === "string") throw new Error(taken);
    expect(taken.frames.map(hex)).toEqual([hex(data(2)), hex(data(3))]);
    expect([...taken.streams]).toEqual([[77, { port: 6500, peerIp: 0x0a000008, peerPort: 49152, peerSession: "s2" }]]);
    expect(await redis!.call("HGET", "gmnet:sess:s1", "node")).toBe("2");
  });

  it("fences the node that lost the session: nothing of its frames applies, and it hears that the session moved", async () => {
    const one = nodeLog(1);
    const { heard, listener } = recorder();
    one.open("s1", "app", META, listener);
    one.open("s2", "app", META, recorder().listener);
    await one.settled();
    expect(typeof (await nodeLog(2).take("s1", "app", 7, 0))).toBe("object");
    // Node 1 handles a frame of s1 that arrived late: its append to s2 and its count are refused.
    one.source = "s1";
    one.append("s2", data(1));
    one.source = "";
    one.received("s1", 1);
    await one.settled();
    expect(heard.moved).toBe(1);
    expect(heard.committed).toEqual([]);
    expect(await redis!.call("XLEN", "gmnet:sess:s2:log")).toBe(0);
    expect(await redis!.call("HGET", "gmnet:sess:s1", "in")).toBe("0");
  });

  it("refuses a take-over of an unknown session, another identity's or app's, a pinned one, or one whose frames were trimmed", async () => {
    const one = nodeLog(1);
    const two = nodeLog(2);
    expect(await two.take("nobody", "app", 7, 0)).toBe("unknown");
    one.open("s1", "app", META, recorder().listener);
    // One entry per write: frames 1, 2 and 3 in entries of their own, so a trim can take 1 and 2.
    for (const byte of [1, 2, 3]) {
      one.append("s1", data(byte));
      await one.settled();
    }
    await one.settled();
    expect(await two.take("s1", "app", 8, 0)).toBe("not-owned");
    expect(await two.take("s1", "other-app", 7, 0)).toBe("not-owned");
    // The client acknowledged frames 1 and 2: a client claiming only frame 0 needs what is gone.
    one.trim("s1", 2);
    await one.settled();
    expect(await two.take("s1", "app", 7, 0)).toBe("evicted");
    one.pin("s1", "udp binding");
    await one.settled();
    expect(await two.take("s1", "app", 7, 2)).toBe("pinned");
    expect(await redis!.call("HGET", "gmnet:sess:s1", "node")).toBe("1");
  });

  it("bounds a log by bytes: an append past it is refused (full), a close goes through, and trimming frees room", async () => {
    const frame = data(1);
    const one = nodeLog(1, { maxLogBytes: 2 * frame.length });
    const refused: string[] = [];
    one.onRefused((sid, reason) => refused.push(`${reason} ${sid}`));
    const { heard, listener } = recorder();
    one.open("s1", "app", META, listener);
    for (let i = 0; i < 3; i++) one.append("s1", frame);
    await one.settled();
    expect(refused).toEqual(["full s1"]);
    expect(heard.full).toBe(1);
    const framesLogged = async (): Promise<unknown> => redis!.call("HGET", "gmnet:sess:s1", "out");
    expect(await framesLogged()).toBe("2");
    one.append("s1", encodeFrame(Channel.CONTROL, ControlType.ERROR, Priority.CRITICAL, new Uint8Array(4)), true);
    await one.settled();
    expect(await framesLogged()).toBe("3");
    one.trim("s1", 2);
    await one.settled();
    one.append("s1", frame);
    await one.settled();
    expect(await framesLogged()).toBe("4");
    expect(refused).toEqual(["full s1"]);
  });

  it("answers an append to a session that ended 'gone', and finds a watched session gone on the liveness round", async () => {
    const one = nodeLog(1);
    const refused: string[] = [];
    one.onRefused((sid, reason) => refused.push(`${reason} ${sid}`));
    const gone: string[] = [];
    one.watch(() => ["s1", "s2"], (sid) => gone.push(sid));
    one.open("s1", "app", META, recorder().listener);
    one.open("s2", "app", META, recorder().listener);
    one.end("s2");
    one.append("s2", data(1));
    await one.settled();
    expect(refused).toEqual(["gone s2"]);
    expect(await redis!.call("EXISTS", "gmnet:sess:s2", "gmnet:sess:s2:log", "gmnet:sess:s2:streams")).toBe(0);
    await one.refresh();
    expect(gone).toEqual(["s2"]);
  });

  it("ends a session whose record is gone from Redis (expired, or a restart without persistence) rather than taking it for moved", async () => {
    const one = nodeLog(1);
    const { heard, listener } = recorder();
    one.open("s1", "app", META, listener);
    await one.settled();
    await redis!.call("DEL", "gmnet:sess:s1");
    one.received("s1", 1);
    await one.settled();
    expect(heard).toMatchObject({ lost: 1, moved: 0, committed: [] });
  });

  it("refuses a frame once the writes Redis has not answered pass the node's bound, never keeping them without one", async () => {
    const frame = data(1);
    const one = nodeLog(1, { maxPendingBytes: frame.length });
    const refused: string[] = [];
    one.onRefused((sid, reason) => refused.push(`${reason} ${sid}`));
    const { heard, listener } = recorder();
    one.open("s1", "app", META, listener);
    one.append("s1", frame);
    one.append("s1", frame);
    await one.settled();
    expect(refused).toEqual(["full s1"]);
    expect(heard.full).toBe(1);
    expect(await redis!.call("HGET", "gmnet:sess:s1", "out")).toBe("1");
    // Answered: the room is back.
    one.append("s1", frame);
    await one.settled();
    expect(await redis!.call("HGET", "gmnet:sess:s1", "out")).toBe("2");
  });

  it("keeps a record for its TTL after its node stops refreshing it, and refreshes what it holds", async () => {
    const one = nodeLog(1, { recordTtlMs: 5_000 });
    one.open("s1", "app", META, recorder().listener);
    await one.settled();
    const ttl = Number(await redis!.call("PTTL", "gmnet:sess:s1"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
    await redis!.call("PEXPIRE", "gmnet:sess:s1", 100);
    await one.refresh();
    expect(Number(await redis!.call("PTTL", "gmnet:sess:s1"))).toBeGreaterThan(1_000);
  });
});
