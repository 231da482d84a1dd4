/** The relayed connect handshake: status check, connection request, refusals, stamping, participants. */
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
  VSocketType,
} from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { type Client, barrier, connectPair, errorsOf, newReqId, nextV, pendingV, sendV, useServer } from "./support/virtual-sockets.js";

const net = useServer();

/** Sends a SOCKET_STATUS_REQUEST (or CONNECTION_REQUEST) from `from` to `to`:peerPort; returns its reqId. */
function request(from: Client, to: number, type: number, peerPort = 80, localPort = 40001): number {
  const reqId = newReqId();
  sendV(from, type, SocketRequest, { reqId, peerIp: to, peerPort, localPort });
  return reqId;
}

/** `target` takes the next SOCKET_STATUS_REQUEST and answers whether it listens; the request as it came. */
async function answerStatus(target: Client, listening: boolean) {
  const status = await nextV(target, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest);
  sendV(target, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse, { reqId: status.reqId, listening });
  return status;
}

/** `target` takes the next SOCKET_CONNECTION_REQUEST and accepts or refuses it; the request as it came. */
async function answerConnection(target: Client, accepted: boolean) {
  const incoming = await nextV(target, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest);
  sendV(target, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse, { reqId: incoming.reqId, accepted });
  return incoming;
}

describe("virtual socket handshake", () => {
  it("connects two clients, telling each end the other's real address and the same connId", async () => {
    const [a, b] = await net.pair();
    const statusId = request(a, b.welcome.virtualIp, VSocketType.SOCKET_STATUS_REQUEST, 6510, 50123);
    const status = await answerStatus(b, true);
    // The target sees who asks (stamped), from which port, and for which of its own ports.
    expect(status).toMatchObject({ peerIp: a.welcome.virtualIp, peerPort: 50123, localPort: 6510 });
    expect(status.reqId).not.toBe(statusId);
    expect(await nextV(a, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse)).toEqual({ reqId: statusId, listening: true });

    const connectId = request(a, b.welcome.virtualIp, VSocketType.SOCKET_CONNECTION_REQUEST, 6510, 50123);
    const incoming = await answerConnection(b, true);
    expect(incoming).toMatchObject({ peerIp: a.welcome.virtualIp, peerPort: 50123, localPort: 6510 });
    expect(incoming.reqId).not.toBe(status.reqId);

    const atA = await nextV(a, VSocketType.SOCKET_CONNECTED, SocketConnected);
    const atB = await nextV(b, VSocketType.SOCKET_CONNECTED, SocketConnected);
    expect(atA).toEqual({ reqId: connectId, connId: atA.connId, peerIp: b.welcome.virtualIp, peerPort: 6510, localPort: 50123 });
    expect(atB).toEqual({ reqId: incoming.reqId, connId: atA.connId, peerIp: a.welcome.virtualIp, peerPort: 50123, localPort: 6510 });
    expect(atA.connId).not.toBe(0);
  });

  it("gives every connection its own connId", async () => {
    const [a, b] = await net.pair();
    const first = await connectPair(a, b, 40001, 80);
    const second = await connectPair(a, b, 40002, 80);
    const third = await connectPair(b, a, 40003, 81);
    expect(new Set([first.connId, second.connId, third.connId]).size).toBe(3);
  });

  it("fails with REFUSED when the target denies the connection", async () => {
    const [a, b] = await net.pair();
    const reqId = request(a, b.welcome.virtualIp, VSocketType.SOCKET_CONNECTION_REQUEST);
    await answerConnection(b, false);
    expect(await nextV(a, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason: FailReason.REFUSED });
    expect(pendingV(a, VSocketType.SOCKET_CONNECTED)).toHaveLength(0);
  });

  it("fails with OFFLINE when nobody holds the target address", async () => {
    const [a, b] = await net.pair();
    const address = b.welcome.virtualIp;
    // b's stream to a ends when b leaves: a hears it, so the server has removed b by then.
    const pair = await connectPair(b, a);
    b.close();
    expect((await nextV(a, VSocketType.SOCKET_CLOSED, SocketClosed)).connId).toBe(pair.connId);
    for (const type of [VSocketType.SOCKET_STATUS_REQUEST, VSocketType.SOCKET_CONNECTION_REQUEST]) {
      const reqId = request(a, address, type);
      expect(await nextV(a, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason: FailReason.OFFLINE });
    }
    const reqId = request(a, 0x0afffffe, VSocketType.SOCKET_STATUS_REQUEST);
    expect(await nextV(a, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason: FailReason.OFFLINE });
  });

  it("fails with NOT_LISTENING when the target has nothing on that port", async () => {
    const [a, b] = await net.pair();
    const reqId = request(a, b.welcome.virtualIp, VSocketType.SOCKET_STATUS_REQUEST, 9999);
    await answerStatus(b, false);
    expect(await nextV(a, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason: FailReason.NOT_LISTENING });
    expect(pendingV(a, VSocketType.SOCKET_STATUS_RESPONSE)).toHaveLength(0);
  });

  it("fails with GONE when the target leaves during the handshake", async () => {
    const [a, b] = await net.pair();
    const reqId = request(a, b.welcome.virtualIp, VSocketType.SOCKET_CONNECTION_REQUEST);
    await nextV(b, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest);
    b.ws.terminate();
    expect(await nextV(a, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason: FailReason.GONE });
  });

  it("drops a request whose requester left, so the target's late answer goes nowhere and is no error", async () => {
    const [a, b] = await net.pair();
    const pair = await connectPair(a, b);
    request(a, b.welcome.virtualIp, VSocketType.SOCKET_CONNECTION_REQUEST, 81, 40002);
    const incoming = await nextV(b, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest);
    a.ws.terminate();
    expect((await nextV(b, VSocketType.SOCKET_CLOSED, SocketClosed)).connId).toBe(pair.connId);
    sendV(b, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse, { reqId: incoming.reqId, accepted: true });
    await barrier(b);
    expect(errorsOf(b)).toEqual([]);
    expect(pendingV(b, VSocketType.SOCKET_CONNECTED)).toHaveLength(0);
  });

  it("refuses a connection to the client's own address (loopback is the engine's job)", async () => {
    const a = await net.client();
    const reqId = request(a, a.welcome.virtualIp, VSocketType.SOCKET_STATUS_REQUEST);
    expect(await nextV(a, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason: FailReason.REFUSED });
  });

  it("refuses port 0 on either side with INVALID_PORT naming the request", async () => {
    const [a, b] = await net.pair();
    const toZero = request(a, b.welcome.virtualIp, VSocketType.SOCKET_STATUS_REQUEST, 0, 40001);
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.INVALID_PORT, refType: VSocketType.SOCKET_STATUS_REQUEST, refId: toZero });
    const fromZero = request(a, b.welcome.virtualIp, VSocketType.SOCKET_CONNECTION_REQUEST, 80, 0);
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.INVALID_PORT, refType: VSocketType.SOCKET_CONNECTION_REQUEST, refId: fromZero });
    // Neither reached b: the first request b sees is the next, valid one.
    request(a, b.welcome.virtualIp, VSocketType.SOCKET_STATUS_REQUEST, 80, 40009);
    expect((await nextV(b, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest)).peerPort).toBe(40009);
    expect(pendingV(b, VSocketType.SOCKET_CONNECTION_REQUEST)).toHaveLength(0);
  });

  it("lets the requester send data at once: the target gets SOCKET_CONNECTED before that data", async () => {
    const [a, b] = await net.pair();
    request(a, b.welcome.virtualIp, VSocketType.SOCKET_CONNECTION_REQUEST);
    await answerConnection(b, true);
    const { connId } = await nextV(a, VSocketType.SOCKET_CONNECTED, SocketConnected);
    sendV(a, VSocketType.ARBITRARY_DATA, ArbitraryData, { connId, seq: 1, data: new Uint8Array([42]) });
    expect(await nextV(b, VSocketType.ARBITRARY_DATA, ArbitraryData)).toMatchObject({ connId, seq: 1 });
    // Checked before any further message can be read: both frames share the stream's priority
    // lane, so the announcement is already there when the data is.
    expect(pendingV(b, VSocketType.SOCKET_CONNECTED).map((frame) => SocketConnected.decode(frame.payload).connId)).toEqual([connId]);
  });
});

describe("only the target answers a request", () => {
  it("refuses a status answer from a third client or from the requester with NOT_A_PARTICIPANT", async () => {
    const [a, b] = await net.pair();
    const c = await net.client();
    const reqId = request(a, b.welcome.virtualIp, VSocketType.SOCKET_STATUS_REQUEST);
    const status = await nextV(b, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest);
    for (const intruder of [c, a]) {
      sendV(intruder, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse, { reqId: status.reqId, listening: false });
      expect(await intruder.nextError()).toMatchObject({ code: ProtocolError.NOT_A_PARTICIPANT, refType: VSocketType.SOCKET_STATUS_RESPONSE, refId: status.reqId });
    }
    // The forged "not listening" counted for nothing: the real answer still decides.
    sendV(b, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse, { reqId: status.reqId, listening: true });
    expect(await nextV(a, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse)).toEqual({ reqId, listening: true });
    expect(pendingV(a, VSocketType.REQUEST_FAILED)).toHaveLength(0);
  });

  it("refuses a forged acceptance, so no stream opens until the target answers", async () => {
    const [a, b] = await net.pair();
    const c = await net.client();
    const reqId = request(a, b.welcome.virtualIp, VSocketType.SOCKET_CONNECTION_REQUEST);
    const incoming = await nextV(b, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest);
    sendV(c, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse, { reqId: incoming.reqId, accepted: true });
    expect(await c.nextError()).toMatchObject({ code: ProtocolError.NOT_A_PARTICIPANT, refId: incoming.reqId });
    sendV(b, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse, { reqId: incoming.reqId, accepted: false });
    expect(await nextV(a, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason: FailReason.REFUSED });
    expect(pendingV(a, VSocketType.SOCKET_CONNECTED)).toHaveLength(0);
    expect(pendingV(c, VSocketType.SOCKET_CONNECTED)).toHaveLength(0);
  });

  it("ignores an answer of the wrong kind from the target, leaving the request open", async () => {
    const [a, b] = await net.pair();
    const reqId = request(a, b.welcome.virtualIp, VSocketType.SOCKET_CONNECTION_REQUEST);
    const incoming = await nextV(b, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest);
    sendV(b, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse, { reqId: incoming.reqId, listening: false });
    sendV(b, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse, { reqId: incoming.reqId, accepted: true });
    const connected = await nextV(a, VSocketType.SOCKET_CONNECTED, SocketConnected);
    expect(connected.reqId).toBe(reqId);
    expect(pendingV(a, VSocketType.REQUEST_FAILED)).toHaveLength(0);
  });

});
