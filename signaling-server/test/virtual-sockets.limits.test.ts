/** Handshake deadlines and the per-client cap on unanswered requests (servers with small limits). */
import {
  ArbitraryData,
  FailReason,
  ProtocolError,
  RequestFailed,
  SocketClosed,
  SocketConnected,
  SocketConnectionResponse,
  SocketRequest,
  SocketStatusResponse,
  UdpBind,
  VSocketType,
} from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import type { ServerClock } from "../src/server-context.js";
import { type Client, barrier, connectPair, errorsOf, newReqId, nextV, pendingV, sendV, useServer } from "./support/virtual-sockets.js";

function request(from: Client, to: Client, type: number, localPort = 40001): number {
  const reqId = newReqId();
  sendV(from, type, SocketRequest, { reqId, peerIp: to.welcome.virtualIp, peerPort: 80, localPort });
  return reqId;
}

describe("handshake timeout", () => {
  const net = useServer({ requestTimeoutMs: 200 });

  it("fails with TIMEOUT when the target never answers, and ignores its late answer", async () => {
    const a = await net.client();
    const b = await net.client();
    const pair = await connectPair(a, b); // a lane to prove later that nothing else reached a
    for (const type of [VSocketType.SOCKET_STATUS_REQUEST, VSocketType.SOCKET_CONNECTION_REQUEST]) {
      const reqId = request(a, b, type, 40002);
      const incoming = await nextV(b, type, SocketRequest);
      expect(await nextV(a, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason: FailReason.TIMEOUT });

      if (type === VSocketType.SOCKET_STATUS_REQUEST) sendV(b, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse, { reqId: incoming.reqId, listening: true });
      else sendV(b, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse, { reqId: incoming.reqId, accepted: true });
      await barrier(b);
      expect(errorsOf(b)).toEqual([]);
      // Stream data from b is queued for a after anything the late answer could have caused.
      sendV(b, VSocketType.ARBITRARY_DATA, ArbitraryData, { connId: pair.connId, seq: type, data: new Uint8Array(0) });
      expect((await nextV(a, VSocketType.ARBITRARY_DATA, ArbitraryData)).seq).toBe(type);
      expect(pendingV(a, VSocketType.SOCKET_STATUS_RESPONSE)).toHaveLength(0);
      expect(pendingV(a, VSocketType.SOCKET_CONNECTED)).toHaveLength(0);
      expect(pendingV(a, VSocketType.REQUEST_FAILED)).toHaveLength(0);
    }
  });
});

/** A clock whose timers only fire when told to, so timer bookkeeping can be checked exactly. */
class ManualClock implements ServerClock {
  private readonly timers = new Map<number, { callback: () => void; ms: number }>();
  private lastId = 0;
  now = (): number => performance.now();
  setTimeout = (callback: () => void, ms: number): unknown => {
    this.timers.set(++this.lastId, { callback, ms });
    return this.lastId;
  };
  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };
  /** Live timers of this duration. */
  live(ms: number): number {
    return [...this.timers.values()].filter((timer) => timer.ms === ms).length;
  }
  /** Fires (and forgets) every live timer of this duration. */
  fire(ms: number): void {
    for (const [id, timer] of [...this.timers]) {
      if (timer.ms !== ms) continue;
      this.timers.delete(id);
      timer.callback();
    }
  }
}

describe("handshake timers", () => {
  // A duration no other timer of the server uses, so the handshake's timers can be told apart.
  const TIMEOUT_MS = 123_457;
  const clock = new ManualClock();
  const net = useServer({ requestTimeoutMs: TIMEOUT_MS, clock });

  it("keeps one timer per pending request and clears it however the request ends", async () => {
    const a = await net.client();
    const b = await net.client();
    const pair = await connectPair(a, b);
    expect(clock.live(TIMEOUT_MS)).toBe(0);

    request(a, b, VSocketType.SOCKET_STATUS_REQUEST);
    const status = await nextV(b, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest);
    expect(clock.live(TIMEOUT_MS)).toBe(1);
    sendV(b, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse, { reqId: status.reqId, listening: false });
    await nextV(a, VSocketType.REQUEST_FAILED, RequestFailed);
    expect(clock.live(TIMEOUT_MS)).toBe(0);

    request(a, b, VSocketType.SOCKET_CONNECTION_REQUEST);
    const incoming = await nextV(b, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest);
    sendV(b, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse, { reqId: incoming.reqId, accepted: false });
    await nextV(a, VSocketType.REQUEST_FAILED, RequestFailed);
    expect(clock.live(TIMEOUT_MS)).toBe(0);

    // Requests both ways, then a leaves: its own request is dropped, b's fails with GONE.
    request(a, b, VSocketType.SOCKET_STATUS_REQUEST);
    const towardA = request(b, a, VSocketType.SOCKET_STATUS_REQUEST);
    await nextV(b, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest);
    await nextV(a, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest);
    expect(clock.live(TIMEOUT_MS)).toBe(2);
    a.ws.terminate();
    expect(await nextV(b, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId: towardA, reason: FailReason.GONE });
    expect((await nextV(b, VSocketType.SOCKET_CLOSED, SocketClosed)).connId).toBe(pair.connId);
    expect(clock.live(TIMEOUT_MS)).toBe(0);
  });

  it("fails the request with TIMEOUT when its timer fires", async () => {
    const a = await net.client();
    const b = await net.client();
    const reqId = request(a, b, VSocketType.SOCKET_CONNECTION_REQUEST);
    const incoming = await nextV(b, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest);
    clock.fire(TIMEOUT_MS);
    expect(await nextV(a, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason: FailReason.TIMEOUT });
    // The late acceptance opens nothing, for either side.
    sendV(b, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse, { reqId: incoming.reqId, accepted: true });
    await barrier(b);
    expect(errorsOf(b)).toEqual([]);
    expect(pendingV(b, VSocketType.SOCKET_CONNECTED)).toHaveLength(0);
  });
});

describe("pending request cap", () => {
  const net = useServer({ maxPendingRequests: 2 });

  it("refuses a request beyond maxPendingRequests with TOO_MANY_PENDING, and accepts again once one is answered", async () => {
    const a = await net.client();
    const b = await net.client();
    request(a, b, VSocketType.SOCKET_STATUS_REQUEST);
    const second = request(a, b, VSocketType.SOCKET_CONNECTION_REQUEST);
    const third = request(a, b, VSocketType.SOCKET_STATUS_REQUEST);
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.TOO_MANY_PENDING, refType: VSocketType.SOCKET_STATUS_REQUEST, refId: third });

    await nextV(b, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest);
    const incoming = await nextV(b, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest);
    sendV(b, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse, { reqId: incoming.reqId, accepted: true });
    expect((await nextV(a, VSocketType.SOCKET_CONNECTED, SocketConnected)).reqId).toBe(second);

    const fourth = request(a, b, VSocketType.SOCKET_STATUS_REQUEST);
    expect(await nextV(b, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest)).toMatchObject({ peerIp: a.welcome.virtualIp });
    await barrier(a);
    expect(errorsOf(a).filter((error) => error.refId === fourth)).toEqual([]);
  });

  it("counts requests per client, not per server", async () => {
    const a = await net.client();
    const c = await net.client();
    const b = await net.client();
    request(a, b, VSocketType.SOCKET_STATUS_REQUEST);
    request(a, b, VSocketType.SOCKET_STATUS_REQUEST);
    request(c, b, VSocketType.SOCKET_STATUS_REQUEST);
    for (let i = 0; i < 3; i++) await nextV(b, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest);
    await barrier(c);
    expect(errorsOf(c)).toEqual([]);
  });
});

describe("streams and UDP bindings per client", () => {
  const net = useServer({ maxStreamsPerSession: 2, maxUdpBindings: 2 });

  it("refuses a third stream: TOO_MANY_STREAMS for the requester, REFUSED when the target is full", async () => {
    const a = await net.client();
    const b = await net.client();
    const c = await net.client();
    await connectPair(a, b, 40001, 80);
    await connectPair(a, b, 40002, 81);
    const reqId = request(a, c, VSocketType.SOCKET_CONNECTION_REQUEST, 40003);
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.TOO_MANY_STREAMS, refId: reqId });
    // b is the full end now: a request from c is refused on b's behalf, b never hears of it.
    const refused = request(c, b, VSocketType.SOCKET_CONNECTION_REQUEST, 40004);
    expect(await nextV(c, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId: refused, reason: FailReason.REFUSED });
    await barrier(b);
    expect(pendingV(b, VSocketType.SOCKET_CONNECTION_REQUEST)).toEqual([]);
  });

  it("refuses binding a third UDP port with TOO_MANY_BINDINGS; rebinding a bound port is fine", async () => {
    const a = await net.client();
    for (const port of [7000, 7001, 7001]) sendV(a, VSocketType.UDP_BIND, UdpBind, { port });
    sendV(a, VSocketType.UDP_BIND, UdpBind, { port: 7002 });
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.TOO_MANY_BINDINGS, refId: 7002 });
    sendV(a, VSocketType.UDP_UNBIND, UdpBind, { port: 7000 });
    sendV(a, VSocketType.UDP_BIND, UdpBind, { port: 7002 });
    await barrier(a);
    expect(errorsOf(a)).toEqual([]);
  });
});
