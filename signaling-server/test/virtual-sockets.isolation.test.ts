/** Clients of different app keys share a server but must never see or reach each other. */
import {
  ArbitraryData,
  Broadcast,
  Datagram,
  FailReason,
  HostnameClaim,
  HostnameResult,
  ProtocolError,
  RequestFailed,
  ResolveRequest,
  ResolveResponse,
  SocketRequest,
  UdpBind,
  VSocketType,
  formatIpv4,
} from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { barrier, connectPair, newReqId, nextV, pendingV, sendV, useServer } from "./support/virtual-sockets.js";

const net = useServer();

describe("app key isolation", () => {
  it("answers OFFLINE to a connection attempt on another app's address", async () => {
    const inA = await net.client("app-a");
    const inB = await net.client("app-b");
    for (const type of [VSocketType.SOCKET_STATUS_REQUEST, VSocketType.SOCKET_CONNECTION_REQUEST]) {
      const reqId = newReqId();
      sendV(inB, type, SocketRequest, { reqId, peerIp: inA.welcome.virtualIp, peerPort: 80, localPort: 40001 });
      expect(await nextV(inB, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason: FailReason.OFFLINE });
    }
    // Nothing reached app-a: its first request is one from its own app.
    const sameApp = await net.client("app-a");
    sendV(sameApp, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest, { reqId: newReqId(), peerIp: inA.welcome.virtualIp, peerPort: 80, localPort: 40002 });
    expect(await nextV(inA, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest)).toMatchObject({ peerIp: sameApp.welcome.virtualIp });
    expect(pendingV(inA, VSocketType.SOCKET_CONNECTION_REQUEST)).toHaveLength(0);
  });

  it("resolves neither another app's addresses nor its host names, and lets each app claim the same name", async () => {
    const inA = await net.client("app-a");
    const inB = await net.client("app-b");
    const claim = async (name: string, client: typeof inA) => {
      sendV(client, VSocketType.HOSTNAME_CLAIM, HostnameClaim, { reqId: newReqId(), name });
      return (await nextV(client, VSocketType.HOSTNAME_RESULT, HostnameResult)).ok;
    };
    expect(await claim("shared-name", inA)).toBe(true);
    expect(await claim("shared-name", inB)).toBe(true);
    for (const name of [formatIpv4(inA.welcome.virtualIp), "shared-name"]) {
      sendV(inB, VSocketType.RESOLVE_REQUEST, ResolveRequest, { reqId: 1, name });
      expect((await nextV(inB, VSocketType.RESOLVE_RESPONSE, ResolveResponse)).ip).toBe(name === "shared-name" ? inB.welcome.virtualIp : 0);
    }
  });

  it("drops datagrams and broadcasts across app keys", async () => {
    const inA = await net.client("app-a");
    const alsoA = await net.client("app-a");
    const inB = await net.client("app-b");
    const alsoB = await net.client("app-b");
    for (const client of [inA, alsoA, inB]) sendV(client, VSocketType.UDP_BIND, UdpBind, { port: 9000 });
    await Promise.all([barrier(inA), barrier(alsoA), barrier(inB)]);

    sendV(inA, VSocketType.BROADCAST, Broadcast, { port: 9000, localPort: 1, data: Uint8Array.from([1]) });
    sendV(inA, VSocketType.DATAGRAM, Datagram, { peerIp: inB.welcome.virtualIp, peerPort: 9000, localPort: 1, data: Uint8Array.from([2]) });
    expect(await nextV(alsoA, VSocketType.DATAGRAM, Datagram)).toMatchObject({ peerIp: inA.welcome.virtualIp, data: Uint8Array.from([1]) });
    await barrier(inA);
    // Everything inA sent has been handled; the first datagram inB sees must come from its own app.
    sendV(alsoB, VSocketType.DATAGRAM, Datagram, { peerIp: inB.welcome.virtualIp, peerPort: 9000, localPort: 2, data: Uint8Array.from([3]) });
    expect(await nextV(inB, VSocketType.DATAGRAM, Datagram)).toMatchObject({ peerIp: alsoB.welcome.virtualIp, data: Uint8Array.from([3]) });
  });

  it("keeps stream connIds private to their two ends even across apps", async () => {
    const pair = await connectPair(await net.client("app-a"), await net.client("app-a"));
    const inB = await net.client("app-b");
    sendV(inB, VSocketType.ARBITRARY_DATA, ArbitraryData, { connId: pair.connId, seq: 1, data: new Uint8Array([1]) });
    expect(await inB.nextError()).toMatchObject({ code: ProtocolError.UNKNOWN_SOCKET, refId: pair.connId });
  });
});
