/**
 * Per-connection limits and failure handling over real WebSockets: every refusal is an ERROR
 * frame and/or a documented close code, and a refused client never disturbs the others.
 */
import {
  Channel,
  ChannelUnregister,
  CloseCode,
  ControlType,
  FRAME_HEADER_SIZE,
  Hello,
  PROTOCOL_VERSION,
  Pong,
  Priority,
  ProtocolError,
  SignalKind,
  SignalRelay,
  SignalType,
  encodeFrame,
} from "@gmnet/engine/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { getJson, metric, registerChannel, startServer } from "./support/harness.js";

type Client = Awaited<ReturnType<typeof ProtocolClient.connect>>;

const hello = (client: ProtocolClient, fields: Partial<{ version: number; appKey: string; secret: string; token: string }> = {}): void =>
  client.send(Channel.CONTROL, ControlType.HELLO, Hello.encode({ version: PROTOCOL_VERSION, appKey: "limits", secret: client.secret, token: "", ...fields }));

/** B relays a signal to A; once A has it, everything B caused before has reached A too. */
async function barrier(from: Client, to: Client, pairId: number): Promise<void> {
  from.send(Channel.SIGNAL, SignalType.RELAY, SignalRelay.encode({ peerIp: to.welcome.virtualIp, pairId, kind: SignalKind.CLOSE, data: "barrier" }));
  const frame = await to.next(Channel.SIGNAL, SignalType.RELAY);
  expect(SignalRelay.decode(frame.payload).pairId).toBe(pairId);
}

describe("connection limits", () => {
  let server: GmnetServer;
  let url: string;
  beforeAll(async () => {
    server = await startServer({
      maxFrameSize: 1024,
      maxMessageSize: 4096,
      helloTimeoutMs: 100,
      rateLimit: 50,
      allowedOrigins: ["https://good.example"],
    });
    url = server.address().wsUrl;
  });
  afterAll(() => server.close());

  it("closes a connection that sends no Hello in time with 4005", async () => {
    const client = new ProtocolClient(url);
    await client.opened();
    expect(await client.closed()).toBe(CloseCode.HELLO_TIMEOUT);
    expect(await metric(server, "gmnet_disconnects_total", { cause: "hello-timeout" })).toBeGreaterThanOrEqual(1);
  });

  it("answers a first frame that is not a Hello with NOT_AUTHENTICATED and 4501", async () => {
    const client = new ProtocolClient(url);
    await client.opened();
    client.send(Channel.CONTROL, ControlType.CHANNEL_REGISTER, new Uint8Array([0, 0]));
    expect(await client.nextError()).toMatchObject({ code: ProtocolError.NOT_AUTHENTICATED, refChannel: Channel.CONTROL, refType: ControlType.CHANNEL_REGISTER });
    expect(await client.closed()).toBe(CloseCode.BAD_HELLO);
  });

  it.each([
    ["a malformed Hello", (client: ProtocolClient) => client.send(Channel.CONTROL, ControlType.HELLO, new Uint8Array([1, 0, 0]))],
    ["a bad app key", (client: ProtocolClient) => hello(client, { appKey: "no spaces allowed" })],
    ["a short secret", (client: ProtocolClient) => hello(client, { secret: "short" })],
  ])("refuses %s with BAD_HELLO and 4501", async (_name, send) => {
    const client = new ProtocolClient(url);
    await client.opened();
    send(client);
    expect((await client.nextError()).code).toBe(ProtocolError.BAD_HELLO);
    expect(await client.closed()).toBe(CloseCode.BAD_HELLO);
  });

  it("closes a text message with 4502", async () => {
    const client = await ProtocolClient.connect(url);
    client.sendRaw("hello?");
    expect((await client.nextError()).code).toBe(ProtocolError.MALFORMED_FRAME);
    expect(await client.closed()).toBe(CloseCode.PROTOCOL_ERROR);
  });

  it("closes framing errors with MALFORMED_FRAME and 4502", async () => {
    const badPriority = encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.NORMAL, Pong.encode({ nonce: 1 }));
    badPriority[4] = 9;
    const cutShort = encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.NORMAL, Pong.encode({ nonce: 1 })).subarray(0, 14);
    for (const bytes of [badPriority, cutShort, new Uint8Array(5)]) {
      const client = await ProtocolClient.connect(url);
      client.sendRaw(bytes);
      expect((await client.nextError()).code).toBe(ProtocolError.MALFORMED_FRAME);
      expect(await client.closed()).toBe(CloseCode.PROTOCOL_ERROR);
    }
  });

  it("refuses a frame larger than maxFrameSize with FRAME_TOO_LARGE and 4502", async () => {
    const client = await ProtocolClient.connect(url);
    client.send(3000, 1, new Uint8Array(1025));
    expect((await client.nextError()).code).toBe(ProtocolError.FRAME_TOO_LARGE);
    expect(await client.closed()).toBe(CloseCode.PROTOCOL_ERROR);
  });

  it("accepts a frame of exactly maxFrameSize", async () => {
    const client = await ProtocolClient.connect(url);
    client.send(3000, 1, new Uint8Array(1024));
    expect((await client.nextError()).code).toBe(ProtocolError.UNKNOWN_CHANNEL);
    expect(client.closeCode).toBeUndefined();
    client.close();
  });

  it("closes a WebSocket message larger than maxMessageSize with 1009", async () => {
    const client = await ProtocolClient.connect(url);
    client.sendRaw(new Uint8Array(4097));
    expect(await client.closed()).toBe(1009);
  });

  it("closes a client over the frame rate with RATE_LIMITED and 4004", async () => {
    const client = await ProtocolClient.connect(url);
    // rateLimit 50 allows a burst of 100 frames; send 150 in one message.
    const pong = encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.NORMAL, Pong.encode({ nonce: 0 }));
    client.sendRaw(Buffer.concat(Array.from({ length: 150 }, () => pong)));
    expect((await client.nextError()).code).toBe(ProtocolError.RATE_LIMITED);
    expect(await client.closed()).toBe(CloseCode.RATE_LIMITED);
    expect(await metric(server, "gmnet_disconnects_total", { cause: "rate-limited" })).toBe(1);
  });

  it("counts empty messages against the rate limit", async () => {
    const client = await ProtocolClient.connect(url);
    for (let i = 0; i < 150; i++) client.sendRaw(new Uint8Array(0));
    expect((await client.nextError()).code).toBe(ProtocolError.RATE_LIMITED);
    expect(await client.closed()).toBe(CloseCode.RATE_LIMITED);
  });

  it("replaces the older connection of an identity with 4003", async () => {
    const first = await ProtocolClient.connect(url);
    const second = await ProtocolClient.connect(url, { secret: first.secret });
    expect(await first.closed()).toBe(CloseCode.REPLACED);
    expect(second.welcome.virtualIp).toBe(first.welcome.virtualIp);
    expect(await registerChannel(second, "still-works")).toBeGreaterThanOrEqual(Channel.FIRST_APP);
    expect(await metric(server, "gmnet_disconnects_total", { cause: "replaced" })).toBe(1);
    second.close();
  });

  it("closes a page from an origin outside allowedOrigins with 4503 and welcomes an allowed one", async () => {
    const evil = new ProtocolClient(url, { origin: "https://evil.example" });
    expect(await evil.closed()).toBe(CloseCode.ORIGIN_NOT_ALLOWED);
    const good = await ProtocolClient.connect(url, { origin: "https://good.example" });
    expect(good.welcome.version).toBe(PROTOCOL_VERSION);
    good.close();
  });

  it("answers unknown channels and packet types with ERROR and keeps the connection usable", async () => {
    const client = await ProtocolClient.connect(url);
    const cases: Array<[number, number, number]> = [
      [500, 1, ProtocolError.UNKNOWN_CHANNEL],
      [Channel.CONTROL, 99, ProtocolError.UNKNOWN_PACKET_TYPE],
      [Channel.SIGNAL, 50, ProtocolError.UNKNOWN_PACKET_TYPE],
      [Channel.MASTER, 50, ProtocolError.UNKNOWN_PACKET_TYPE],
      [Channel.FIRST_APP + 77, 1, ProtocolError.UNKNOWN_CHANNEL],
      [Channel.CONTROL, ControlType.HELLO, ProtocolError.ALREADY_AUTHENTICATED],
    ];
    for (const [channel, type, code] of cases) {
      client.send(channel, type, channel === Channel.CONTROL && type === ControlType.HELLO ? Hello.encode({ version: 1, appKey: "a", secret: client.secret, token: "" }) : new Uint8Array(3));
      expect(await client.nextError()).toMatchObject({ code, refChannel: channel, refType: type });
    }
    expect(await registerChannel(client, "after-errors")).toBeGreaterThanOrEqual(Channel.FIRST_APP);
    expect(client.closeCode).toBeUndefined();
    client.close();
  });
});

describe("app channels", () => {
  let server: GmnetServer;
  let a: Client;
  let b: Client;
  let c: Client;
  beforeAll(async () => {
    server = await startServer();
    const url = server.address().wsUrl;
    [a, b, c] = await Promise.all([
      ProtocolClient.connect(url, { appKey: "chat-app" }),
      ProtocolClient.connect(url, { appKey: "chat-app" }),
      ProtocolClient.connect(url, { appKey: "another-app" }),
    ]);
  });
  afterAll(() => server.close());

  it("relays between clients of one app that registered the channel, never across apps", async () => {
    const channel = await registerChannel(a, "lobby");
    expect(await registerChannel(b, "lobby")).toBe(channel);
    expect(await registerChannel(a, "second")).toBe(channel + 1);
    const theirs = await registerChannel(c, "lobby");

    b.send(channel, 42, new Uint8Array([1, 2, 3]));
    const got = await a.next(channel, 42);
    expect(got).toMatchObject({ channel, type: 42, priority: Priority.NORMAL, payload: new Uint8Array([1, 2, 3]) });

    // C's app has its own channel numbers and members: it hears neither A nor B.
    a.send(channel, 43, new Uint8Array([9]));
    expect((await b.next(channel, 43)).payload).toEqual(new Uint8Array([9]));
    c.send(theirs, 44, new Uint8Array([7]));
    await registerChannel(c, "round-trip");
    await barrier(a, b, 1);
    await barrier(b, a, 2);
    expect(c.frames).toEqual([]);
    expect(a.frames.filter((frame) => frame.channel >= Channel.FIRST_APP)).toEqual([]);
    expect(b.frames.filter((frame) => frame.channel >= Channel.FIRST_APP)).toEqual([]);
  });

  it("stops relaying to a client that unregistered, and refuses its sends", async () => {
    const channel = await registerChannel(a, "lobby");
    a.send(Channel.CONTROL, ControlType.CHANNEL_UNREGISTER, ChannelUnregister.encode({ channel }));
    b.send(channel, 1, new Uint8Array([5]));
    a.send(channel, 1, new Uint8Array([6]));
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.UNKNOWN_CHANNEL, refChannel: channel });
    await barrier(b, a, 3);
    expect(a.frames.filter((frame) => frame.channel === channel)).toEqual([]);
  });
});

describe("heartbeat", () => {
  let server: GmnetServer;
  beforeAll(async () => {
    server = await startServer({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 100 });
  });
  afterAll(() => server.close());

  it("cuts a client that does not answer pings, keeps one that does, and forgets the silent one's session", async () => {
    const url = server.address().wsUrl;
    const [silent, alive] = await Promise.all([ProtocolClient.connect(url, { answerPings: false }), ProtocolClient.connect(url)]);
    expect(silent.welcome).toMatchObject({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 100 });

    await silent.next(Channel.CONTROL, ControlType.PING);
    // No close handshake: the server terminates the TCP connection.
    expect(await silent.closed()).toBe(1006);
    expect(await metric(server, "gmnet_disconnects_total", { cause: "heartbeat" })).toBe(1);
    alive.send(Channel.SIGNAL, SignalType.RELAY, SignalRelay.encode({ peerIp: silent.welcome.virtualIp, pairId: 5, kind: SignalKind.OFFER, data: "{}" }));
    expect(await alive.nextError()).toMatchObject({ code: ProtocolError.NOT_A_PARTICIPANT, refId: 5 });

    // The answering client stays across several ping rounds.
    for (let round = 0; round < 4; round++) await alive.next(Channel.CONTROL, ControlType.PING);
    expect(alive.closeCode).toBeUndefined();
    expect((await getJson(server, "/healthz")).body).toMatchObject({ sessions: 1, connections: 1 });
    alive.close();
  });
});

describe("slow consumer", () => {
  const maxQueuedBytes = 64 * 1024;
  let server: GmnetServer;
  beforeAll(async () => {
    server = await startServer({ maxQueuedBytes, maxFrameSize: 16 * 1024, rateLimit: 100_000 });
  });
  afterAll(() => server.close());

  it("disconnects a client that stops reading, and stops holding data for it", async () => {
    const url = server.address().wsUrl;
    const [victim, flooder] = await Promise.all([ProtocolClient.connect(url, { appKey: "flood" }), ProtocolClient.connect(url, { appKey: "flood" })]);
    const channel = await registerChannel(victim, "firehose");
    expect(await registerChannel(flooder, "firehose")).toBe(channel);
    victim.ws.pause();

    const frame = encodeFrame(channel, 1, Priority.NORMAL, new Uint8Array(16 * 1024 - FRAME_HEADER_SIZE));
    const chunk = Buffer.concat(Array.from({ length: 60 }, () => frame));
    let sent = 0;
    const cut = async () => (await metric(server, "gmnet_disconnects_total", { cause: "slow-consumer" })) === 1;
    // Kernel socket buffers take the first few megabytes; the cap applies to what is left.
    while (!(await cut())) {
      expect(sent, "the server kept accepting data for a client that reads nothing").toBeLessThan(128 * 1024 * 1024);
      flooder.sendRaw(chunk);
      sent += chunk.length;
      await registerChannel(flooder, "firehose"); // the server has processed the chunk
    }

    // From now on the flood goes nowhere: the server forwards nothing more to the dead client.
    const before = await metric(server, "gmnet_bytes_sent_total");
    for (let i = 0; i < 4; i++) flooder.sendRaw(chunk);
    await registerChannel(flooder, "firehose");
    expect((await metric(server, "gmnet_bytes_sent_total")) - before).toBeLessThan(1024);

    victim.ws.resume();
    expect(await victim.closed()).toBe(1006);
    expect(flooder.closeCode).toBeUndefined();
    expect((await getJson(server, "/healthz")).body).toMatchObject({ sessions: 1 });
    flooder.close();
  });
});
