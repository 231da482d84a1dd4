/**
 * Multi-node through Redis (PROTOCOL.md §15): three servers in this process share a private
 * PostgreSQL (identities) and a private Redis (routes, liveness, node streams); clients on
 * different nodes reach each other by virtual IP. Streams open, carry data both ways in order and
 * close both ways; datagrams cross nodes stamped with the sender's address; an address whose node
 * is gone answers OFFLINE as a single node would. Every wait is a condition.
 */
import {
  ArbitraryData,
  Broadcast,
  Channel,
  ChannelAssigned,
  ChannelData,
  ChannelRegister,
  ChannelUnregister,
  CloseReason,
  ControlType,
  Datagram,
  FailReason,
  ProtocolError,
  RequestFailed,
  SocketClosed,
  SocketConnectionResponse,
  SocketRequest,
  SocketStatusResponse,
  UdpBind,
  VSocketType,
  formatIpv4,
} from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { nodeOfId } from "../src/cluster/node-ids.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { useCluster } from "./support/test-cluster.js";
import { type Client, barrier, claim, connectPair, newReqId, nextV, resolve, sendData, sendV } from "./support/virtual-sockets.js";

const cluster = useCluster({ database: "gmnet_cluster", nodes: [1, 2, 3], appKey: "cluster-app" });
const { nodes, clientOn, startNode } = cluster;

/** Distinct payloads of varying size (1 byte to 40 KiB), so reordering or truncation shows. */
function payloads(count: number, salt: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => Uint8Array.from({ length: 1 + ((i * 977) % 40_000) }, (_, j) => (i * 7 + j + salt) & 255));
}

async function requestFails(from: Client, peerIp: number, reason: number): Promise<void> {
  const reqId = newReqId();
  sendV(from, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest, { reqId, peerIp, peerPort: 80, localPort: 40001 });
  expect(await nextV(from, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason });
}

describe("streams across nodes", () => {
  it("connects node 3 to node 1 by virtual IP and relays many packets both ways, in order", async () => {
    const server = await clientOn(nodes[0]!);
    const client = await clientOn(nodes[2]!);
    const pair = await connectPair(client, server, 40001, 6510);
    // The node that received the accepting answer (node 1, the listener's) allocated the connId.
    expect(nodeOfId(pair.connId)).toBe(1);
    const fromClient = payloads(150, 1);
    const fromServer = payloads(150, 2);
    for (let i = 0; i < 150; i++) {
      sendData(client, pair.connId, i + 1, fromClient[i]!);
      sendData(server, pair.connId, i + 1, fromServer[i]!);
    }
    for (const [receiver, sent] of [[server, fromClient], [client, fromServer]] as const) {
      for (let i = 0; i < sent.length; i++) {
        const { connId, seq, data } = ArbitraryData.decode((await receiver.next(Channel.VSOCKET, VSocketType.ARBITRARY_DATA)).payload);
        expect({ connId, seq }).toEqual({ connId: pair.connId, seq: i + 1 });
        // Compared as bytes: a deep equality of 40 KiB arrays element by element takes seconds.
        expect(Buffer.compare(data, sent[i]!)).toBe(0);
      }
    }
  });

  it("stamps the requester's address and relays a refusal and a status answer", async () => {
    const server = await clientOn(nodes[0]!);
    const client = await clientOn(nodes[1]!);
    // The requester's node stamps its address and port; the target's node relays them as they came.
    const reqId = newReqId();
    sendV(client, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest, { reqId, peerIp: server.welcome.virtualIp, peerPort: 80, localPort: 40002 });
    const asked = await nextV(server, VSocketType.SOCKET_STATUS_REQUEST, SocketRequest);
    expect(asked).toMatchObject({ peerIp: client.welcome.virtualIp, peerPort: 40002, localPort: 80 });
    expect(nodeOfId(asked.reqId)).toBe(2);
    sendV(server, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse, { reqId: asked.reqId, listening: false });
    expect(await nextV(client, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId, reason: FailReason.NOT_LISTENING });

    const connectId = newReqId();
    sendV(client, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest, { reqId: connectId, peerIp: server.welcome.virtualIp, peerPort: 80, localPort: 40002 });
    const incoming = await nextV(server, VSocketType.SOCKET_CONNECTION_REQUEST, SocketRequest);
    sendV(server, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse, { reqId: incoming.reqId, accepted: false });
    expect(await nextV(client, VSocketType.REQUEST_FAILED, RequestFailed)).toEqual({ reqId: connectId, reason: FailReason.REFUSED });
  });

  it("closes from either end: SOCKET_CLOSED CLOSED, and PEER_GONE when a session leaves", async () => {
    const server = await clientOn(nodes[0]!);
    const client = await clientOn(nodes[2]!);
    const first = await connectPair(client, server, 40003, 6510);
    sendData(client, first.connId, 1, new Uint8Array([1, 2, 3]));
    sendV(client, VSocketType.SOCKET_CLOSED, SocketClosed, { connId: first.connId, reason: CloseReason.CLOSED });
    // The data sent before the close arrives before it.
    expect(await nextV(server, VSocketType.ARBITRARY_DATA, ArbitraryData)).toMatchObject({ connId: first.connId, seq: 1 });
    expect(await nextV(server, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: first.connId, reason: CloseReason.CLOSED });

    const second = await connectPair(client, server, 40004, 6510);
    sendV(server, VSocketType.SOCKET_CLOSED, SocketClosed, { connId: second.connId, reason: CloseReason.CLOSED });
    expect(await nextV(client, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: second.connId, reason: CloseReason.CLOSED });

    const third = await connectPair(client, server, 40005, 6510);
    server.close();
    expect(await nextV(client, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: third.connId, reason: CloseReason.PEER_GONE });
    // Its route went with it: the address is offline now.
    await requestFails(client, server.welcome.virtualIp, FailReason.OFFLINE);
  });
});

describe("datagrams across nodes", () => {
  it("delivers datagrams both ways, stamped with the sender's address", async () => {
    const a = await clientOn(nodes[0]!);
    const b = await clientOn(nodes[1]!);
    sendV(a, VSocketType.UDP_BIND, UdpBind, { port: 7000 });
    sendV(b, VSocketType.UDP_BIND, UdpBind, { port: 7001 });
    await Promise.all([barrier(a), barrier(b)]);
    for (let i = 0; i < 20; i++) {
      sendV(b, VSocketType.DATAGRAM, Datagram, { peerIp: a.welcome.virtualIp, peerPort: 7000, localPort: 7001, data: new Uint8Array([i, 1]) });
      sendV(a, VSocketType.DATAGRAM, Datagram, { peerIp: b.welcome.virtualIp, peerPort: 7001, localPort: 7000, data: new Uint8Array([i, 2]) });
    }
    for (let i = 0; i < 20; i++) {
      expect(await nextV(a, VSocketType.DATAGRAM, Datagram)).toEqual({ peerIp: b.welcome.virtualIp, peerPort: 7001, localPort: 7000, data: new Uint8Array([i, 1]) });
      expect(await nextV(b, VSocketType.DATAGRAM, Datagram)).toEqual({ peerIp: a.welcome.virtualIp, peerPort: 7000, localPort: 7001, data: new Uint8Array([i, 2]) });
    }
  });
});

describe("host names across nodes", () => {
  it("shares claims: another node's live holder keeps its name, RESOLVE finds it, and leaving frees it", async () => {
    const holder = await clientOn(nodes[0]!);
    const other = await clientOn(nodes[2]!);
    const third = await clientOn(nodes[1]!);
    expect(await claim(holder, "Shared-Arena")).toBe(true);
    expect(await claim(other, "shared-arena")).toBe(false);
    expect(await claim(third, "SHARED-ARENA")).toBe(false);
    expect(await resolve(other, "shared-arena")).toBe(holder.welcome.virtualIp);
    expect(await resolve(other, formatIpv4(holder.welcome.virtualIp))).toBe(holder.welcome.virtualIp);
    expect(await resolve(other, "nobody-here")).toBe(0);

    // Changing names gives the old one up.
    expect(await claim(holder, "shared-arena-2")).toBe(true);
    expect(await claim(third, "shared-arena")).toBe(true);
    expect(await resolve(other, "shared-arena")).toBe(third.welcome.virtualIp);

    // The holder leaving releases the claim (its PEER_GONE comes after the release was written).
    const pair = await connectPair(other, third, 40007, 6510);
    third.close();
    expect(await nextV(other, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: pair.connId, reason: CloseReason.PEER_GONE });
    for (let tries = 0; (await resolve(other, "shared-arena")) !== 0; tries++) expect(tries).toBeLessThan(1000);
    expect(await claim(other, "shared-arena")).toBe(true);
  });

  it("frees a name held by a dead node", async () => {
    const client = await clientOn(nodes[1]!);
    await cluster.redis.call("SET", `gmnet:route:cluster-app:${0x0a7f_0003}`, "201/crashed-session", "PX", 60_000);
    await cluster.redis.call("HSET", "gmnet:names:cluster-app", "ghost-town", `201/crashed-session/${0x0a7f_0003}`);
    expect(await resolve(client, "ghost-town")).toBe(0);
    expect(await claim(client, "ghost-town")).toBe(true);
    expect(await resolve(client, "ghost-town")).toBe(client.welcome.virtualIp);
  });
});

async function register(client: Client, name: string): Promise<number> {
  client.send(Channel.CONTROL, ControlType.CHANNEL_REGISTER, ChannelRegister.encode({ name }));
  const assigned = ChannelAssigned.decode((await client.next(Channel.CONTROL, ControlType.CHANNEL_ASSIGNED)).payload);
  expect(assigned.name).toBe(name);
  return assigned.channel;
}

describe("app channels across nodes", () => {
  it("allocates numbers once for the app key, within the limit, and relays to members on other nodes only", async () => {
    const appKey = "channels-app";
    const [a, b, c] = await Promise.all(nodes.map((node) => clientOn(node, { appKey })));
    expect(await register(a!, "one")).toBe(1000);
    expect(await register(b!, "two")).toBe(1001);
    expect(await register(c!, "one")).toBe(1000);
    expect(await register(b!, "one")).toBe(1000);
    // The default limit holds for the app key across nodes.
    for (let i = 2; i < 256; i++) await register(i % 2 === 0 ? a! : c!, `filler-${i}`);
    expect(await register(b!, "one-too-many")).toBe(0);
    expect((await b!.nextError()).code).toBe(ProtocolError.TOO_MANY_CHANNELS);

    a!.send(1000, 5, new Uint8Array([1, 2, 3]));
    for (const receiver of [b!, c!]) expect(ChannelData.decode((await receiver.next(1000, 5)).payload)).toEqual({ fromIp: a!.welcome.virtualIp, data: new Uint8Array([1, 2, 3]) });
    // After C left the channel (its node has no member left), only B hears A.
    c!.send(Channel.CONTROL, ControlType.CHANNEL_UNREGISTER, ChannelUnregister.encode({ channel: 1000 }));
    for (let tries = 0; ((await cluster.redis.call("SMEMBERS", `gmnet:chnodes:${appKey}:1000`)) as string[]).includes("3"); tries++) expect(tries).toBeLessThan(1000);
    a!.send(1000, 6, new Uint8Array([4]));
    expect(ChannelData.decode((await b!.next(1000, 6)).payload)).toEqual({ fromIp: a!.welcome.virtualIp, data: new Uint8Array([4]) });
    await barrier(c!);
    expect(c!.frames.some((frame) => frame.channel === 1000 && frame.type === 6)).toBe(false);
  });
});

describe("broadcast across nodes", () => {
  it("reaches sessions bound on other nodes, stamped by the sender's node, and stops after the last unbinds", async () => {
    const appKey = "broadcast-app";
    const [a, b, c] = await Promise.all(nodes.map((node) => clientOn(node, { appKey })));
    for (const client of [a!, c!]) sendV(client, VSocketType.UDP_BIND, UdpBind, { port: 7600 });
    await Promise.all([barrier(a!), barrier(c!)]);
    const key = `gmnet:udpnodes:${appKey}:7600`;
    for (let tries = 0; ((await cluster.redis.call("SMEMBERS", key)) as string[]).length < 2; tries++) expect(tries).toBeLessThan(1000);
    sendV(b!, VSocketType.BROADCAST, Broadcast, { port: 7600, localPort: 7601, data: new Uint8Array([9, 9]) });
    for (const receiver of [a!, c!]) {
      expect(await nextV(receiver, VSocketType.DATAGRAM, Datagram)).toEqual({ peerIp: b!.welcome.virtualIp, peerPort: 7601, localPort: 7600, data: new Uint8Array([9, 9]) });
    }
    // C's node forgets the port once C unbinds it.
    sendV(c!, VSocketType.UDP_UNBIND, UdpBind, { port: 7600 });
    await barrier(c!);
    for (let tries = 0; ((await cluster.redis.call("SMEMBERS", key)) as string[]).includes("3"); tries++) expect(tries).toBeLessThan(1000);
  });
});

describe("offline across nodes", () => {
  it("answers OFFLINE for an address nobody holds and for one whose node's liveness expired", async () => {
    const client = await clientOn(nodes[1]!);
    await requestFails(client, 0x0a7f_0001, FailReason.OFFLINE);
    // A route left by a node whose liveness key is gone (a crashed node): offline.
    await cluster.redis.call("SET", `gmnet:route:cluster-app:${0x0a7f_0002}`, "200/crashed-session", "PX", 60_000);
    await requestFails(client, 0x0a7f_0002, FailReason.OFFLINE);
  });

  it("answers OFFLINE for an address whose node was closed, after its streams ended with SHUTDOWN", async () => {
    const fourth = await startNode(4);
    const there = await ProtocolClient.connect(fourth.address().wsUrl, { appKey: "cluster-app" });
    await barrier(there);
    const client = await clientOn(nodes[0]!);
    const pair = await connectPair(client, there, 40006, 6510);
    await fourth.close();
    expect(await nextV(client, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: pair.connId, reason: CloseReason.SHUTDOWN });
    await requestFails(client, there.welcome.virtualIp, FailReason.OFFLINE);
    expect(await cluster.redis.call("EXISTS", "gmnet:node:4")).toBe(0);
  });

  it("keeps app keys apart across nodes", async () => {
    const other = await clientOn(nodes[0]!, { appKey: "other-app" });
    const client = await clientOn(nodes[2]!);
    await requestFails(client, other.welcome.virtualIp, FailReason.OFFLINE);
  });
});
