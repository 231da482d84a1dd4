/** Established streams: relaying ARBITRARY_DATA in order, closing from either side, peers vanishing. */
import { ArbitraryData, CloseReason, ProtocolError, SocketClosed, VSocketType, encodeFrame, Channel, Priority } from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { type Client, type Pair, barrier, connectPair, errorsOf, nextV, pendingV, sendData, sendV, useServer } from "./support/virtual-sockets.js";

const net = useServer();

/** `count` distinct payloads of varying length, so reordering or truncation shows. */
function payloads(count: number, salt: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => Uint8Array.from({ length: 1 + ((i * 37) % 300) }, (_, j) => (i * 7 + j + salt) & 255));
}

async function expectUnknownSocket(client: Client, connId: number): Promise<void> {
  sendData(client, connId, 99, new Uint8Array([1, 2, 3]));
  expect(await client.nextError()).toMatchObject({ code: ProtocolError.UNKNOWN_SOCKET, refChannel: Channel.VSOCKET, refType: VSocketType.ARBITRARY_DATA, refId: connId });
}

describe("stream data", () => {
  it("relays 200 messages each way, in order and byte for byte", async () => {
    const pair = await connectPair(await net.client(), await net.client());
    const fromA = payloads(200, 1);
    const fromB = payloads(200, 2);
    for (let i = 0; i < 200; i++) {
      sendData(pair.a, pair.connId, i + 1, fromA[i]!);
      sendData(pair.b, pair.connId, i + 1, fromB[i]!);
    }
    for (const [receiver, sent] of [[pair.b, fromA], [pair.a, fromB]] as const) {
      for (let i = 0; i < 200; i++) {
        const frame = await receiver.next(Channel.VSOCKET, VSocketType.ARBITRARY_DATA);
        expect(ArbitraryData.decode(frame.payload)).toEqual({ connId: pair.connId, seq: i + 1, data: sent[i] });
      }
    }
  });

  it("forwards the sender's payload unchanged, whatever its seq", async () => {
    const pair = await connectPair(await net.client(), await net.client());
    const payload = ArbitraryData.encode({ connId: pair.connId, seq: 0xfffffffe, data: new Uint8Array(0) });
    pair.a.send(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, payload);
    const frame = await pair.b.next(Channel.VSOCKET, VSocketType.ARBITRARY_DATA);
    expect(frame.payload).toEqual(payload);
    expect(frame.priority).toBe(Priority.NORMAL);
  });

  it("refuses data on a connId the sender is not part of with UNKNOWN_SOCKET, and relays none of it", async () => {
    const pair = await connectPair(await net.client(), await net.client());
    const stranger = await net.client();
    await expectUnknownSocket(stranger, pair.connId);
    await expectUnknownSocket(stranger, 0x7fff_0000);
    sendData(pair.a, pair.connId, 1, new Uint8Array([7]));
    expect(await nextV(pair.b, VSocketType.ARBITRARY_DATA, ArbitraryData)).toMatchObject({ seq: 1, data: new Uint8Array([7]) });
    expect(pendingV(pair.b, VSocketType.ARBITRARY_DATA)).toHaveLength(0);
  });

  it("refuses data shorter than its 8-byte header with MALFORMED_PAYLOAD and stays usable", async () => {
    const pair = await connectPair(await net.client(), await net.client());
    pair.a.send(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, new Uint8Array(7));
    expect(await pair.a.nextError()).toMatchObject({ code: ProtocolError.MALFORMED_PAYLOAD, refType: VSocketType.ARBITRARY_DATA });
    sendData(pair.a, pair.connId, 1, new Uint8Array([9]));
    expect(await nextV(pair.b, VSocketType.ARBITRARY_DATA, ArbitraryData)).toMatchObject({ connId: pair.connId, seq: 1 });
  });

  it("relays data batched with other frames in one WebSocket message", async () => {
    const pair = await connectPair(await net.client(), await net.client());
    const frames = [1, 2, 3].map((seq) => encodeFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, Priority.NORMAL, ArbitraryData.encode({ connId: pair.connId, seq, data: new Uint8Array([seq]) })));
    pair.a.sendRaw(Buffer.concat(frames));
    for (const seq of [1, 2, 3]) expect((await nextV(pair.b, VSocketType.ARBITRARY_DATA, ArbitraryData)).seq).toBe(seq);
  });
});

describe("closing a stream", () => {
  async function closeFrom(pair: Pair, closer: Client, other: Client): Promise<void> {
    sendV(closer, VSocketType.SOCKET_CLOSED, SocketClosed, { connId: pair.connId, reason: CloseReason.PEER_GONE });
    // A reason the closer may not give (PEER_GONE is the server's to say) is an orderly close to the peer.
    expect(await nextV(other, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: pair.connId, reason: CloseReason.CLOSED });
    await expectUnknownSocket(closer, pair.connId);
    await expectUnknownSocket(other, pair.connId);
    // Closing again, from either end, is normal and silent.
    sendV(closer, VSocketType.SOCKET_CLOSED, SocketClosed, { connId: pair.connId, reason: CloseReason.CLOSED });
    sendV(other, VSocketType.SOCKET_CLOSED, SocketClosed, { connId: pair.connId, reason: CloseReason.CLOSED });
    await barrier(closer);
    await barrier(other);
    expect([...errorsOf(closer), ...errorsOf(other)]).toEqual([]);
    expect(pendingV(closer, VSocketType.SOCKET_CLOSED)).toHaveLength(0);
  }

  it("closes from the requester's side", async () => {
    const pair = await connectPair(await net.client(), await net.client());
    await closeFrom(pair, pair.a, pair.b);
  });

  it("closes from the target's side", async () => {
    const pair = await connectPair(await net.client(), await net.client());
    await closeFrom(pair, pair.b, pair.a);
  });

  it("passes on MESSAGE_TOO_LARGE and HANDSHAKE_FAILED, the reasons a closer may give (what it refused itself)", async () => {
    for (const reason of [5, 6]) {
      const pair = await connectPair(await net.client(), await net.client());
      sendV(pair.b, VSocketType.SOCKET_CLOSED, SocketClosed, { connId: pair.connId, reason });
      expect(await nextV(pair.a, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: pair.connId, reason });
    }
    expect([CloseReason.MESSAGE_TOO_LARGE, CloseReason.HANDSHAKE_FAILED]).toEqual([5, 6]);
  });

  it("turns SHUTDOWN and unknown reasons claimed by a closer into CLOSED", async () => {
    for (const claimed of [CloseReason.SHUTDOWN, CloseReason.NOT_RECOVERED, 200]) {
      const pair = await connectPair(await net.client(), await net.client());
      sendV(pair.a, VSocketType.SOCKET_CLOSED, SocketClosed, { connId: pair.connId, reason: claimed });
      expect(await nextV(pair.b, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: pair.connId, reason: CloseReason.CLOSED });
    }
  });

  it("delivers data sent before the close, then the close", async () => {
    const pair = await connectPair(await net.client(), await net.client());
    for (let seq = 1; seq <= 5; seq++) sendData(pair.a, pair.connId, seq, new Uint8Array([seq]));
    sendV(pair.a, VSocketType.SOCKET_CLOSED, SocketClosed, { connId: pair.connId, reason: CloseReason.CLOSED });
    await nextV(pair.b, VSocketType.SOCKET_CLOSED, SocketClosed);
    // The close was read only after all five data frames had arrived.
    expect(pendingV(pair.b, VSocketType.ARBITRARY_DATA).map((frame) => ArbitraryData.decode(frame.payload).seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it("does not let a third client close someone else's stream", async () => {
    const pair = await connectPair(await net.client(), await net.client());
    const stranger = await net.client();
    sendV(stranger, VSocketType.SOCKET_CLOSED, SocketClosed, { connId: pair.connId, reason: CloseReason.CLOSED });
    await barrier(stranger);
    expect(errorsOf(stranger)).toEqual([]);
    sendData(pair.a, pair.connId, 1, new Uint8Array([1]));
    expect(await nextV(pair.b, VSocketType.ARBITRARY_DATA, ArbitraryData)).toMatchObject({ connId: pair.connId, seq: 1 });
    // A SOCKET_CLOSED would have been queued before that data on the same lane.
    expect(pendingV(pair.b, VSocketType.SOCKET_CLOSED)).toHaveLength(0);
    expect(pendingV(pair.a, VSocketType.SOCKET_CLOSED)).toHaveLength(0);
  });

  it("tells the peer PEER_GONE when the other end's connection dies, for each stream between them", async () => {
    const a = await net.client();
    const b = await net.client();
    const one = await connectPair(a, b, 40001, 80);
    const two = await connectPair(b, a, 40002, 81);
    const third = await net.client();
    const unrelated = await connectPair(a, third, 40003, 82);
    b.ws.terminate();
    const closed = [await nextV(a, VSocketType.SOCKET_CLOSED, SocketClosed), await nextV(a, VSocketType.SOCKET_CLOSED, SocketClosed)];
    expect(closed.sort((x, y) => x.connId - y.connId)).toEqual(
      [one.connId, two.connId].sort((x, y) => x - y).map((connId) => ({ connId, reason: CloseReason.PEER_GONE })),
    );
    await expectUnknownSocket(a, one.connId);
    // a's other stream is untouched.
    sendData(a, unrelated.connId, 1, new Uint8Array([5]));
    expect(await nextV(third, VSocketType.ARBITRARY_DATA, ArbitraryData)).toMatchObject({ connId: unrelated.connId });
  });

  it("tells the peer PEER_GONE after an orderly disconnect too", async () => {
    const pair = await connectPair(await net.client(), await net.client());
    pair.a.close();
    expect(await nextV(pair.b, VSocketType.SOCKET_CLOSED, SocketClosed)).toEqual({ connId: pair.connId, reason: CloseReason.PEER_GONE });
  });
});

describe("server shutdown", () => {
  const own = useServer();

  it("tells a stream's surviving end SHUTDOWN as the server closes its connections", async () => {
    const pair = await connectPair(await own.client(), await own.client());
    await own.server.close();
    await Promise.all([pair.a.closed(), pair.b.closed()]);
    // Sessions are closed one after the other: the first to go notifies the other, which is
    // still open; the notice to the first is no longer sent.
    const notices = [...pendingV(pair.a, VSocketType.SOCKET_CLOSED), ...pendingV(pair.b, VSocketType.SOCKET_CLOSED)];
    expect(notices.map((frame) => SocketClosed.decode(frame.payload))).toEqual([{ connId: pair.connId, reason: CloseReason.SHUTDOWN }]);
  });
});
