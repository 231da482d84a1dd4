/**
 * Outgoing batching over real WebSockets: by default the frames queued for a client during one
 * turn of the event loop leave as one WebSocket message at the end of that turn; with a tick rate
 * (for all priorities or one) they wait for the tick; High goes before Normal before Low, and
 * Critical frames (errors) never wait. `batching: false` sends every frame on its own at once.
 */
import type { Socket } from "node:net";
import {
  Channel,
  ChannelRegister,
  ControlType,
  Datagram,
  FrameDecoder,
  Priority,
  SignalKind,
  SignalRelay,
  SignalType,
  UdpBind,
  VSocketType,
  encodeFrame,
} from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { registerChannel } from "./support/harness.js";
import { useServer } from "./support/virtual-sockets.js";

type Client = Awaited<ReturnType<typeof ProtocolClient.connect>>;
type Seen = Array<Array<{ channel: number; type: number; priority: number }>>;

/** Records every WebSocket message a client receives from now on, as its list of frames. */
function recordMessages(client: ProtocolClient): Seen {
  const seen: Seen = [];
  const decoder = new FrameDecoder({ maxPayload: 1 << 24 });
  client.ws.on("message", (data: Buffer) => {
    seen.push(decoder.push(new Uint8Array(data)).map(({ channel, type, priority }) => ({ channel, type, priority })));
  });
  return seen;
}

async function pair(server: GmnetServer, appKey: string): Promise<[Client, Client, number]> {
  const url = server.address().wsUrl;
  const [a, b] = await Promise.all([ProtocolClient.connect(url, { appKey }), ProtocolClient.connect(url, { appKey })]);
  const channel = await registerChannel(a, "game");
  expect(await registerChannel(b, "game")).toBe(channel);
  return [a, b, channel];
}

/** Three app-channel frames (Normal) and then one signal (High), as the bytes of one message from `from` to `to`. */
function mixedFrames(to: Client, channel: number): Buffer {
  const game = (n: number) => encodeFrame(channel, 10 + n, Priority.NORMAL, new Uint8Array([n]));
  const signal = encodeFrame(Channel.SIGNAL, SignalType.RELAY, Priority.NORMAL, SignalRelay.encode({ peerIp: to.welcome.virtualIp, pairId: 1, kind: SignalKind.OFFER, data: "{}" }));
  return Buffer.concat([game(1), game(2), game(3), signal]);
}

/** What `to` receives when `from` sends it the mixed frames in one message: its WebSocket messages up to the one with the relay. */
async function receiveMixedBurst(from: Client, to: Client, channel: number): Promise<Seen> {
  const seen = recordMessages(to);
  from.sendRaw(mixedFrames(to, channel));
  await to.next(Channel.SIGNAL, SignalType.RELAY);
  return seen;
}

/**
 * Sends several WebSocket messages in one write to the TCP socket, so the server reads them in
 * one go and handles them in one turn of its event loop.
 */
function sendInOneWrite(client: Client, messages: Uint8Array[]): void {
  const socket = (client.ws as unknown as { _socket: Socket })._socket;
  socket.cork();
  for (const message of messages) client.sendRaw(message);
  socket.uncork();
}

/** The one message a mixed burst arrives as when batched: the High relay first, then the Normal frames in order. */
const mixedBatch = (channel: number) => [
  { channel: Channel.SIGNAL, type: SignalType.RELAY, priority: Priority.HIGH },
  { channel, type: 11, priority: Priority.NORMAL },
  { channel, type: 12, priority: Priority.NORMAL },
  { channel, type: 13, priority: Priority.NORMAL },
];

describe("batching at tickRate 20", () => {
  const net = useServer({ tickRate: 20 });

  it("sends what one tick queued as one WebSocket message, High before Normal", async () => {
    const [a, b, channel] = await pair(net.server, "batch");
    expect(await receiveMixedBurst(b, a, channel)).toEqual([mixedBatch(channel)]);
    a.close();
    b.close();
  });

  it("sends Critical frames at once, ahead of the batch queued before them", async () => {
    const [a, b] = await pair(net.server, "critical");
    const seen = recordMessages(a);
    // CHANNEL_ASSIGNED (High) is queued first; the ERROR caused by the second frame still leaves first.
    a.sendRaw(Buffer.concat([encodeFrame(Channel.CONTROL, ControlType.CHANNEL_REGISTER, Priority.NORMAL, ChannelRegister.encode({ name: "later" })), encodeFrame(700, 1, Priority.NORMAL, new Uint8Array(0))]));
    await a.next(Channel.CONTROL, ControlType.CHANNEL_ASSIGNED);
    expect(seen).toEqual([
      [{ channel: Channel.CONTROL, type: ControlType.ERROR, priority: Priority.CRITICAL }],
      [{ channel: Channel.CONTROL, type: ControlType.CHANNEL_ASSIGNED, priority: Priority.HIGH }],
    ]);
    a.close();
    b.close();
  });
});

describe("batching: false", () => {
  const net = useServer({ batching: false });

  it("sends every frame at once, in its own message and in the order caused", async () => {
    const [a, b, channel] = await pair(net.server, "instant");
    expect(a.welcome.tickRate).toBe(0);
    expect(await receiveMixedBurst(b, a, channel)).toEqual([
      [{ channel, type: 11, priority: Priority.NORMAL }],
      [{ channel, type: 12, priority: Priority.NORMAL }],
      [{ channel, type: 13, priority: Priority.NORMAL }],
      [{ channel: Channel.SIGNAL, type: SignalType.RELAY, priority: Priority.HIGH }],
    ]);
    a.close();
    b.close();
  });
});

describe("batching by default: at the end of the turn", () => {
  const net = useServer();

  it("sends the frames one incoming message causes as one WebSocket message, without waiting for a tick", async () => {
    const [a, b, channel] = await pair(net.server, "turn");
    expect(a.welcome.tickRate).toBe(0);
    expect(await receiveMixedBurst(b, a, channel)).toEqual([mixedBatch(channel)]);
    a.close();
    b.close();
  });

  it("sends the frames of several messages handled in one turn as one WebSocket message", async () => {
    const [a, b, channel] = await pair(net.server, "turns");
    const seen = recordMessages(a);
    const game = (n: number) => encodeFrame(channel, 20 + n, Priority.NORMAL, new Uint8Array([n]));
    sendInOneWrite(b, [game(1), game(2), mixedFrames(a, channel)]);
    await a.next(Channel.SIGNAL, SignalType.RELAY);
    expect(seen).toEqual([
      [
        { channel: Channel.SIGNAL, type: SignalType.RELAY, priority: Priority.HIGH },
        { channel, type: 21, priority: Priority.NORMAL },
        { channel, type: 22, priority: Priority.NORMAL },
        { channel, type: 11, priority: Priority.NORMAL },
        { channel, type: 12, priority: Priority.NORMAL },
        { channel, type: 13, priority: Priority.NORMAL },
      ],
    ]);
    a.close();
    b.close();
  });
});

describe("a tick rate for one priority (lowTickRate 20)", () => {
  const net = useServer({ lowTickRate: 20 });

  it("sends Normal frames at the end of the turn and datagrams (Low) together on the next tick", async () => {
    const [a, b, channel] = await pair(net.server, "low-tick");
    a.send(Channel.VSOCKET, VSocketType.UDP_BIND, UdpBind.encode({ port: 7000 }));
    await registerChannel(a, "game"); // the bind is in effect
    const seen = recordMessages(a);
    const datagram = (n: number) =>
      encodeFrame(Channel.VSOCKET, VSocketType.DATAGRAM, Priority.LOW, Datagram.encode({ peerIp: a.welcome.virtualIp, peerPort: 7000, localPort: 1, data: new Uint8Array([n]) }));
    b.sendRaw(Buffer.concat([datagram(1), encodeFrame(channel, 5, Priority.NORMAL, new Uint8Array([5])), datagram(2)]));
    await a.next(channel, 5);
    await a.next(Channel.VSOCKET, VSocketType.DATAGRAM);
    // Had the datagrams gone at the end of the turn they would share the Normal frame's message;
    // had the Normal frame waited for the tick, the datagrams would share its.
    expect(seen).toEqual([
      [{ channel, type: 5, priority: Priority.NORMAL }],
      [
        { channel: Channel.VSOCKET, type: VSocketType.DATAGRAM, priority: Priority.LOW },
        { channel: Channel.VSOCKET, type: VSocketType.DATAGRAM, priority: Priority.LOW },
      ],
    ]);
    a.close();
    b.close();
  });
});
