/**
 * Outgoing batching over real WebSockets: frames queued for a client within one tick leave as
 * one WebSocket message, High before Normal before Low; Critical frames (errors) never wait.
 */
import {
  Channel,
  ChannelRegister,
  ControlType,
  FrameDecoder,
  Priority,
  SignalKind,
  SignalRelay,
  SignalType,
  encodeFrame,
} from "@gmnet/engine/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { registerChannel, startServer } from "./support/harness.js";

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

/** Three app-channel frames (Normal) and then one signal (High), all in one message from `from` to `to`. */
function mixedBurst(from: Client, to: Client, channel: number): void {
  const game = (n: number) => encodeFrame(channel, 10 + n, Priority.NORMAL, new Uint8Array([n]));
  const signal = encodeFrame(Channel.SIGNAL, SignalType.RELAY, Priority.NORMAL, SignalRelay.encode({ peerIp: to.welcome.virtualIp, pairId: 1, kind: SignalKind.OFFER, data: "{}" }));
  from.sendRaw(Buffer.concat([game(1), game(2), game(3), signal]));
}

describe("batching at tickRate 20", () => {
  let server: GmnetServer;
  beforeAll(async () => {
    server = await startServer({ tickRate: 20 });
  });
  afterAll(() => server.close());

  it("sends what one tick queued as one WebSocket message, High before Normal", async () => {
    const [a, b, channel] = await pair(server, "batch");
    const seen = recordMessages(a);
    mixedBurst(b, a, channel);
    await a.next(Channel.SIGNAL, SignalType.RELAY);
    expect(seen).toEqual([
      [
        { channel: Channel.SIGNAL, type: SignalType.RELAY, priority: Priority.HIGH },
        { channel, type: 11, priority: Priority.NORMAL },
        { channel, type: 12, priority: Priority.NORMAL },
        { channel, type: 13, priority: Priority.NORMAL },
      ],
    ]);
    a.close();
    b.close();
  });

  it("sends Critical frames at once, ahead of the batch queued before them", async () => {
    const [a, b] = await pair(server, "critical");
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

describe("tickRate 0", () => {
  let server: GmnetServer;
  beforeAll(async () => {
    server = await startServer({ tickRate: 0 });
  });
  afterAll(() => server.close());

  it("sends every frame at once, in its own message and in the order caused", async () => {
    const [a, b, channel] = await pair(server, "instant");
    expect(a.welcome.tickRate).toBe(0);
    const seen = recordMessages(a);
    mixedBurst(b, a, channel);
    await a.next(Channel.SIGNAL, SignalType.RELAY);
    expect(seen).toEqual([
      [{ channel, type: 11, priority: Priority.NORMAL }],
      [{ channel, type: 12, priority: Priority.NORMAL }],
      [{ channel, type: 13, priority: Priority.NORMAL }],
      [{ channel: Channel.SIGNAL, type: SignalType.RELAY, priority: Priority.HIGH }],
    ]);
    a.close();
    b.close();
  });
});
