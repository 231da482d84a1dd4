/**
 * Resume with replay (PROTOCOL.md §14) over real WebSockets. A client opens a resumable session
 * (HELLO + RESUME "" in one message); its connection "drops" when the client terminates its raw
 * socket, which the server sees as 1006. A new connection with HELLO + RESUME {sessionId,
 * received} carries the session on: the frames it missed, exactly once and in order, then what
 * was held for it while it was away — or, past the window or a replay bound, a fresh session and
 * PEER_GONE for the old one's peers.
 *
 * Over 400 lines on purpose: one concern, resume and its bounds, every suite on the same
 * drop-and-resume helpers.
 */
import {
  ArbitraryData,
  Channel,
  CloseReason,
  ControlType,
  Datagram,
  Echo,
  Pong,
  Priority,
  ProtocolError,
  Resume,
  SocketClosed,
  UdpBind,
  VSocketType,
  ChannelData,
} from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../src/config.js";
import type { GmnetServer } from "../src/index.js";
import { metric, metricUntil, registerChannel } from "./support/harness.js";
import type { ProtocolClient, ReceivedFrame } from "./support/protocol-client.js";
import { type Client, type TestServer, barrier, claim, connectPair, errorsOf, nextV, pendingV, resolve, sendV, useServer } from "./support/virtual-sockets.js";

const WINDOW = defaultConfig.resumeWindowMs;

/** Stream data whose bytes say which frame it is. */
const payloadOf = (seq: number, size: number): Uint8Array => new Uint8Array(size).fill(seq & 0xff);

function sendData(from: ProtocolClient, connId: number, seq: number, size = 16): void {
  sendV(from, VSocketType.ARBITRARY_DATA, ArbitraryData, { connId, seq, data: payloadOf(seq, size) });
}

const isDataOf = (frame: ReceivedFrame, connId: number): boolean =>
  frame.channel === Channel.VSOCKET && frame.type === VSocketType.ARBITRARY_DATA && ArbitraryData.decode(frame.payload).connId === connId;

/** Takes the ARBITRARY_DATA frames of `connId` received so far and answers their seqs, checking each one's bytes. */
function takeData(client: ProtocolClient, connId: number): number[] {
  const seqs: number[] = [];
  for (let i = 0; i < client.frames.length; ) {
    const frame = client.frames[i]!;
    if (!isDataOf(frame, connId)) {
      i++;
      continue;
    }
    const { seq, data } = ArbitraryData.decode(frame.payload);
    expect(data).toEqual(payloadOf(seq, data.length));
    seqs.push(seq);
    client.frames.splice(i, 1);
  }
  return seqs;
}

/** Waits for data frame `seq` of `connId`, then takes every data frame of that stream received so far. */
async function dataUntil(client: ProtocolClient, connId: number, seq: number): Promise<number[]> {
  await client.until(() => client.frames.some((frame) => isDataOf(frame, connId) && ArbitraryData.decode(frame.payload).seq === seq), `data ${seq} of stream ${connId}`);
  return takeData(client, connId);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Terminates the client's socket and waits until the server has detached its session. */
async function dropAndDetach(server: GmnetServer, client: ProtocolClient): Promise<void> {
  const detached = await metric(server, "gmnet_sessions_detached");
  expect(await client.drop()).toBe(1006);
  await metricUntil(server, "gmnet_sessions_detached", {}, (value) => value === detached + 1);
}

/** A resumable client `a` with a stream (`connId`) to a plain client `p`. */
async function resumableStream(net: TestServer): Promise<{ a: Client; p: Client; connId: number }> {
  const a = await net.resumable();
  const p = await net.client();
  const { connId } = await connectPair(a, p);
  return { a, p, connId };
}

const sendDatagram = (from: Client, to: Client, peerPort: number, data: number[]): void =>
  sendV(from, VSocketType.DATAGRAM, Datagram, { peerIp: to.welcome.virtualIp, peerPort, localPort: 5555, data: Uint8Array.from(data) });

describe("resume", () => {
  const net = useServer();

  it("replays exactly the frames the client missed, in order, then those held while it was away; the stream stays open", async () => {
    const a = await net.resumable();
    const p = await net.client();
    expect(a.resumed).toEqual({ resumed: false, received: 0, resumeWindowMs: WINDOW });
    const { connId } = await connectPair(a, p);
    for (let seq = 1; seq <= 5; seq++) sendData(p, connId, seq);
    expect(await dataUntil(a, connId, 5)).toEqual(range(1, 5));

    // In flight when the connection drops: the server sent them, the client never got them.
    a.deafen();
    for (let seq = 6; seq <= 15; seq++) sendData(p, connId, seq);
    await barrier(p);
    await dropAndDetach(net.server, a);
    expect(takeData(a, connId)).toEqual([]);
    // Sent while the client is away: held for it.
    for (let seq = 16; seq <= 20; seq++) sendData(p, connId, seq);
    await barrier(p);

    const detached = await metric(net.server, "gmnet_sessions_detached");
    const resumed = await metric(net.server, "gmnet_resumes_total", { result: "resumed" });
    const a2 = await net.resume(a);
    expect(a2.resumed).toEqual({ resumed: true, received: a.sent, resumeWindowMs: WINDOW });
    expect(a2.welcome.sessionId).toBe(a.welcome.sessionId);
    expect(a2.welcome.virtualIp).toBe(a.welcome.virtualIp);
    expect(await dataUntil(a2, connId, 20)).toEqual(range(6, 20));
    expect(await metric(net.server, "gmnet_resumes_total", { result: "resumed" })).toBe(resumed + 1);

    // Nothing comes twice: the next frame on the stream is the next one.
    sendData(p, connId, 21);
    expect(await dataUntil(a2, connId, 21)).toEqual([21]);
    // The stream never closed: the peer saw nothing, and data flows its way too.
    sendData(a2, connId, 1);
    expect(await dataUntil(p, connId, 1)).toEqual([1]);
    expect(pendingV(p, VSocketType.SOCKET_CLOSED)).toEqual([]);
    expect(pendingV(a2, VSocketType.SOCKET_CLOSED)).toEqual([]);
    expect(errorsOf(p)).toEqual([]);
    expect(errorsOf(a2)).toEqual([]);
    expect(await metric(net.server, "gmnet_sessions_detached")).toBe(detached - 1);
  });

  it("tells in RESUMED how many of the client's frames arrived, so the client resends exactly the lost ones", async () => {
    const { a, p, connId } = await resumableStream(net);
    // Sequenced data among frames that are not counted: ECHO_REQUEST, PONG, ACK, a datagram.
    sendData(a, connId, 1);
    a.send(Channel.CONTROL, ControlType.ECHO_REQUEST, Echo.encode({ nonce: 7 }), Priority.CRITICAL);
    sendData(a, connId, 2);
    a.send(Channel.CONTROL, ControlType.PONG, Pong.encode({ nonce: 12345 }), Priority.CRITICAL);
    a.ack();
    sendDatagram(a, p, 9, [1]);
    sendData(a, connId, 3);
    await a.next(Channel.CONTROL, ControlType.ECHO_REPLY);
    expect(await dataUntil(p, connId, 3)).toEqual([1, 2, 3]);
    // Lost in flight: counted and kept by the client, never seen by the server.
    for (let seq = 4; seq <= 6; seq++) a.sendLost(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, ArbitraryData.encode({ connId, seq, data: payloadOf(seq, 16) }));
    await a.drop();

    const a2 = await net.resume(a); // retransmits a's frames after RESUMED.received
    expect(a2.resumed?.resumed).toBe(true);
    expect(a2.resumed?.received).toBe(a.sent - 3);
    sendData(a2, connId, 7);
    expect(await dataUntil(p, connId, 7)).toEqual([4, 5, 6, 7]);
    // The server counts on from there: its acknowledgement covers every frame the client sent.
    await a2.until(() => a2.acks.at(-1) === a2.sent, `an ACK of all ${a2.sent} frames`);
    expect(pendingV(p, VSocketType.SOCKET_CLOSED)).toEqual([]);
  });

  it("keeps UDP bindings, the host name and app channel membership", async () => {
    const a = await net.resumable("survivors");
    const b = await net.client("survivors");
    const channel = await registerChannel(a, "room");
    expect(await registerChannel(b, "room")).toBe(channel);
    sendV(a, VSocketType.UDP_BIND, UdpBind, { port: 7000 });
    expect(await claim(a, "resumer")).toBe(true);
    await dropAndDetach(net.server, a);

    // While it is away its name still answers, and datagrams for it are dropped, as UDP would lose them.
    expect(await resolve(b, "resumer")).toBe(a.welcome.virtualIp);
    const droppedAway = await metric(net.server, "gmnet_dropped_frames_total", { reason: "detached" });
    sendDatagram(b, a, 7000, [1]);
    await barrier(b);
    expect(await metric(net.server, "gmnet_dropped_frames_total", { reason: "detached" })).toBe(droppedAway + 1);

    const a2 = await net.resume(a);
    expect(a2.resumed?.resumed).toBe(true);
    sendDatagram(b, a, 7000, [2]);
    expect(await nextV(a2, VSocketType.DATAGRAM, Datagram)).toEqual({ peerIp: b.welcome.virtualIp, peerPort: 5555, localPort: 7000, data: Uint8Array.from([2]) });
    expect(await resolve(b, "resumer")).toBe(a.welcome.virtualIp);
    expect(await claim(b, "resumer")).toBe(false);
    b.send(channel, 5, new Uint8Array([9]));
    expect(ChannelData.decode((await a2.next(channel, 5)).payload).data).toEqual(new Uint8Array([9]));
    a2.send(channel, 6, new Uint8Array([8]));
    expect(ChannelData.decode((await b.next(channel, 6)).payload).data).toEqual(new Uint8Array([8]));
  });

  it("refuses a RESUME for an unknown session: a fresh session at the same address, and the old one ends", async () => {
    const { a, p, connId } = await resumableStream(net);
    const detached = await metric(net.server, "gmnet_sessions_detached");
    await dropAndDetach(net.server, a);
    const refused = await metric(net.server, "gmnet_resumes_total", { result: "refused" });

    const a2 = await net.client("test-app", { secret: a.secret, resume: { sessionId: "no-such-session", received: a.received } });
    expect(a2.resumed).toEqual({ resumed: false, received: 0, resumeWindowMs: WINDOW });
    expect(a2.welcome.sessionId).not.toBe(a.welcome.sessionId);
    expect(a2.welcome.virtualIp).toBe(a.welcome.virtualIp);
    expect(await nextV(p, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId, reason: CloseReason.PEER_GONE });
    expect(await metric(net.server, "gmnet_resumes_total", { result: "refused" })).toBe(refused + 1);
    expect(await metric(net.server, "gmnet_sessions_detached")).toBe(detached);
    // The fresh session is resumable in its own right.
    await dropAndDetach(net.server, a2);
    expect((await net.resume(a2)).resumed?.resumed).toBe(true);
  });

  it("refuses a RESUME for another identity's session and leaves that session alone", async () => {
    const { a: x, p: px, connId: xConn } = await resumableStream(net);
    const { a: y, p: py, connId: yConn } = await resumableStream(net);
    await dropAndDetach(net.server, x);
    await dropAndDetach(net.server, y);

    // y's secret proves y, not the owner of x's session.
    const y2 = await net.client("test-app", { secret: y.secret, resume: { sessionId: x.sessionId, received: x.received } });
    expect(y2.resumed?.resumed).toBe(false);
    expect(y2.welcome.virtualIp).toBe(y.welcome.virtualIp);
    expect(y2.welcome.sessionId).not.toBe(x.sessionId);
    // y's own old session ends; x's stays detached and resumable.
    expect(await nextV(py, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: yConn, reason: CloseReason.PEER_GONE });
    const x2 = await net.resume(x);
    expect(x2.resumed?.resumed).toBe(true);
    expect(x2.welcome.virtualIp).toBe(x.welcome.virtualIp);
    sendData(px, xConn, 1);
    expect(await dataUntil(x2, xConn, 1)).toEqual([1]);
    expect(pendingV(px, VSocketType.SOCKET_CLOSED)).toEqual([]);
  });

  it("moves a session whose old connection is still open to the new one and cuts the old", async () => {
    const { a, p, connId } = await resumableStream(net);
    sendData(p, connId, 1);
    expect(await dataUntil(a, connId, 1)).toEqual([1]);
    const detached = await metric(net.server, "gmnet_sessions_detached");

    const a2 = await net.resume(a);
    expect(a2.resumed).toEqual({ resumed: true, received: a.sent, resumeWindowMs: WINDOW });
    expect(await a.closed()).toBe(1006);
    sendData(p, connId, 2);
    expect(await dataUntil(a2, connId, 2)).toEqual([2]);
    sendData(a2, connId, 1);
    expect(await dataUntil(p, connId, 1)).toEqual([1]);
    expect(pendingV(p, VSocketType.SOCKET_CLOSED)).toEqual([]);
    expect(takeData(a, connId)).toEqual([]);
    // Moved, never detached.
    expect(await metric(net.server, "gmnet_sessions_detached")).toBe(detached);
  });

  it("acknowledges a resumable client's frames on the next batch, and a legacy client's never", async () => {
    const r = await net.resumable();
    const legacy = await net.client();
    const { connId } = await connectPair(r, legacy);
    // Eight frames due make the next batch carry an ACK (fewer are left to the 100 ms timer).
    for (let seq = 1; seq <= 8; seq++) {
      sendData(r, connId, seq);
      sendData(legacy, connId, seq);
    }
    // The RESOLVE answer is the next batch to each: it carries the ACK to the resumable client only.
    await barrier(r);
    await barrier(legacy);
    expect(r.acks.at(-1)).toBe(r.sent);
    expect(legacy.acks).toEqual([]);
  });

  it("ends a legacy session (HELLO without RESUME) at once when its connection drops", async () => {
    const a = await net.client();
    const p = await net.client();
    const { connId } = await connectPair(a, p);
    const detached = await metric(net.server, "gmnet_sessions_detached");
    await a.drop();
    expect(await nextV(p, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId, reason: CloseReason.PEER_GONE });
    expect(await metric(net.server, "gmnet_sessions_detached")).toBe(detached);
    // Nothing is left to resume.
    const again = await net.resume(a);
    expect(again.resumed?.resumed).toBe(false);
  });

  it("takes RESUME only in the Hello's message", async () => {
    const client = await net.client();
    client.send(Channel.CONTROL, ControlType.RESUME, Resume.encode({ sessionId: "", received: 0 }), Priority.CRITICAL);
    expect(await client.nextError()).toMatchObject({ code: ProtocolError.ALREADY_AUTHENTICATED, refChannel: Channel.CONTROL, refType: ControlType.RESUME });
    expect(client.closeCode).toBeUndefined();
  });
});

describe("resume after a heartbeat cut", () => {
  const net = useServer({ heartbeatIntervalMs: 150, heartbeatTimeoutMs: 100 });

  it("detaches a session whose client stopped answering pings, and lets it resume", async () => {
    const a = await net.resumable("test-app", { answerPings: false });
    const p = await net.client();
    const { connId } = await connectPair(a, p);
    expect(await a.closed()).toBe(1006);
    expect(await metric(net.server, "gmnet_disconnects_total", { cause: "heartbeat" })).toBe(1);
    sendData(p, connId, 1);
    await barrier(p);
    const a2 = await net.resume(a);
    expect(a2.resumed?.resumed).toBe(true);
    expect(await dataUntil(a2, connId, 1)).toEqual([1]);
    expect(pendingV(p, VSocketType.SOCKET_CLOSED)).toEqual([]);
  });
});

describe("resume window", () => {
  const net = useServer({ resumeWindowMs: 200 });

  it("ends a session whose client does not come back in time: its peers get PEER_GONE", async () => {
    const a = await net.resumable();
    const p = await net.client();
    expect(a.resumed?.resumeWindowMs).toBe(200);
    const { connId } = await connectPair(a, p);
    const ended = await metric(net.server, "gmnet_sessions_ended_total", { cause: "not-recovered" });
    const droppedAt = Date.now();
    await a.drop();
    expect(await nextV(p, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId, reason: CloseReason.PEER_GONE });
    // Not at the drop: when the window ran out.
    expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(190);
    expect(await metric(net.server, "gmnet_sessions_ended_total", { cause: "not-recovered" })).toBe(ended + 1);
    expect(await metric(net.server, "gmnet_sessions_detached")).toBe(0);
    expect((await net.resume(a)).resumed?.resumed).toBe(false);
  });
});

describe("replay bound per stream", () => {
  const net = useServer({ replayBytesPerStream: 1000 });

  it("ends the stream whose data for the away end passes the bound: PEER_GONE now, NOT_RECOVERED on resume; other streams go on", async () => {
    const a = await net.resumable();
    const p = await net.client();
    const big = await connectPair(a, p, 40001, 80);
    const small = await connectPair(a, p, 40002, 81);
    await dropAndDetach(net.server, a);
    const notRecovered = await metric(net.server, "gmnet_streams_not_recovered_total");

    // 408 bytes each (connId, seq, 400 of data): the third passes 1000.
    for (let seq = 1; seq <= 3; seq++) sendData(p, big.connId, seq, 400);
    expect(await nextV(p, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: big.connId, reason: CloseReason.PEER_GONE });
    sendData(p, small.connId, 1, 400);
    await barrier(p);
    expect(await metric(net.server, "gmnet_streams_not_recovered_total")).toBe(notRecovered + 1);

    const a2 = await net.resume(a);
    expect(a2.resumed?.resumed).toBe(true);
    expect(await nextV(a2, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: big.connId, reason: CloseReason.NOT_RECOVERED });
    expect(await dataUntil(a2, small.connId, 1)).toEqual([1]);
    // What was held before the bound came first; nothing after it.
    expect(takeData(a2, big.connId)).toEqual([1, 2]);

    // The ended stream is gone for good; the other one goes on both ways.
    sendData(a2, big.connId, 1);
    expect(await a2.nextError()).toMatchObject({ code: ProtocolError.UNKNOWN_SOCKET, refId: big.connId });
    sendData(a2, small.connId, 1);
    expect(await dataUntil(p, small.connId, 1)).toEqual([1]);
    sendData(p, small.connId, 2);
    expect(await dataUntil(a2, small.connId, 2)).toEqual([2]);
    expect(pendingV(p, VSocketType.SOCKET_CLOSED)).toEqual([]);
  });
});

/** What one session may hold for replay, on the servers of the two suites below. */
const SESSION_BOUND = 16 * 1024;

/** A server (for the enclosing describe block) whose sessions hold at most SESSION_BOUND bytes for replay, and its gauge of the most one session held. */
function useSessionBoundServer() {
  const net = useServer({ replayBytesPerSession: SESSION_BOUND });
  return { net, peak: () => metric(net.server, "gmnet_replay_peak_session_bytes") };
}

describe("replay bound per session", () => {
  const { net, peak } = useSessionBoundServer();

  it("ends a detached session once what is held for it passes the bound, and never counts more than the bound as held", async () => {
    const { a, p, connId } = await resumableStream(net);
    await dropAndDetach(net.server, a);
    const ended = await metric(net.server, "gmnet_sessions_ended_total", { cause: "not-recovered" });

    for (let seq = 1; seq <= 40; seq++) sendData(p, connId, seq, 1000);
    expect(await nextV(p, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId, reason: CloseReason.PEER_GONE });
    expect(await metric(net.server, "gmnet_sessions_ended_total", { cause: "not-recovered" })).toBe(ended + 1);
    expect(await metric(net.server, "gmnet_sessions_detached")).toBe(0);
    expect(await peak()).toBeGreaterThan(SESSION_BOUND / 2);
    expect(await peak()).toBeLessThanOrEqual(SESSION_BOUND);
    expect((await net.resume(a)).resumed?.resumed).toBe(false);
  });

});

describe("replay bound per session, while connected", () => {
  const { net, peak } = useSessionBoundServer();

  it("keeps only the newest frames within the bound, and refuses a resume that needs evicted ones", async () => {
    const { a, p, connId } = await resumableStream(net);
    // The client gets none of 40 KB and acknowledges nothing: the server keeps only the newest 16 KiB.
    a.deafen();
    for (let seq = 1; seq <= 40; seq++) sendData(p, connId, seq, 1000);
    await barrier(p);
    expect(await peak()).toBeGreaterThan(SESSION_BOUND - 1100);
    expect(await peak()).toBeLessThanOrEqual(SESSION_BOUND);
    await dropAndDetach(net.server, a);
    const refused = await metric(net.server, "gmnet_resumes_total", { result: "refused" });

    const a2 = await net.resume(a);
    expect(a2.resumed?.resumed).toBe(false);
    expect(await metric(net.server, "gmnet_resumes_total", { result: "refused" })).toBe(refused + 1);
    // A stream with a hole is worse than none: the old session ends, its peer hears PEER_GONE.
    expect(await nextV(p, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId, reason: CloseReason.PEER_GONE });
    expect(await peak()).toBeLessThanOrEqual(SESSION_BOUND);
  });
});

describe("replay buffer and acknowledgements", () => {
  const net = useServer();
  const replayBytes = () => metric(net.server, "gmnet_replay_bytes");

  it("forgets what the client acknowledged: gmnet_replay_bytes falls back to 0", async () => {
    const { a, p, connId } = await resumableStream(net);
    for (let seq = 1; seq <= 10; seq++) sendData(p, connId, seq, 1000);
    expect(await dataUntil(a, connId, 10)).toEqual(range(1, 10));
    const half = a.received;
    for (let seq = 11; seq <= 20; seq++) sendData(p, connId, seq, 1000);
    expect(await dataUntil(a, connId, 20)).toEqual(range(11, 20));
    expect(await replayBytes()).toBeGreaterThanOrEqual(20 * 1000);

    // Up to the tenth data frame: the other ten stay.
    a.ack(half);
    const left = await metricUntil(net.server, "gmnet_replay_bytes", {}, (value) => value < 20 * 1000);
    expect(left).toBeGreaterThanOrEqual(10 * 1000);
    expect(left).toBeLessThan(11 * 1000);
    a.ack();
    await metricUntil(net.server, "gmnet_replay_bytes", {}, (value) => value === 0);
    const peak = await metric(net.server, "gmnet_replay_peak_session_bytes");
    expect(peak).toBeGreaterThanOrEqual(20 * 1000);
    expect(peak).toBeLessThanOrEqual(defaultConfig.replayBytesPerSession);
  });
});
