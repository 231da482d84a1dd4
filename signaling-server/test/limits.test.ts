/**
 * Per-connection limits and failure handling over real WebSockets: every refusal is an ERROR
 * frame and/or a documented close code, and a refused client never disturbs the others. App
 * channels' limits are in app-channels.test.ts, slow consumers in slow-consumers.test.ts.
 */
import {
  Channel,
  CloseCode,
  ControlType,
  Hello,
  LlmType,
  McpType,
  PROTOCOL_VERSION,
  Pong,
  Priority,
  ProtocolError,
  SignalKind,
  SignalRelay,
  SignalType,
  encodeFrame,
  ChannelData,
} from "@gmnet/protocol";
import { createHash, randomBytes } from "node:crypto";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { getJson, metric, registerChannel, startServer } from "./support/harness.js";

const hello = (client: ProtocolClient, fields: Partial<{ version: number; appKey: string; secret: string; token: string }> = {}): void =>
  client.send(Channel.CONTROL, ControlType.HELLO, Hello.encode({ version: PROTOCOL_VERSION, appKey: "limits", secret: client.secret, token: "", ...fields }));

describe("connection limits", () => {
  let server: GmnetServer;
  let url: string;
  beforeAll(async () => {
    server = await startServer({
      maxFrameSize: 1024,
      maxMessageSize: 4096,
      helloTimeoutMs: 100,
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
      // MCP: TOOL_REGISTERED and CALL are the server's to send; channels past the LLM range are nobody's.
      [Channel.MCP, McpType.TOOL_REGISTERED, ProtocolError.UNKNOWN_PACKET_TYPE],
      [Channel.FIRST_LLM, LlmType.CALL, ProtocolError.UNKNOWN_PACKET_TYPE],
      [Channel.LAST_LLM + 1, 1, ProtocolError.UNKNOWN_CHANNEL],
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

describe("flow control by bytes", () => {
  const rate = 64 * 1024;
  let server: GmnetServer;
  let url: string;
  beforeAll(async () => {
    // The bucket holds 2 s worth: 128 KiB. A message may be at most one burst.
    server = await startServer({ rateLimitBytes: rate, maxMessageSize: 64 * 1024, maxFrameSize: 16 * 1024 });
    url = server.address().wsUrl;
  });
  afterAll(() => server.close());

  it("reads a client over rateLimitBytes slower instead of disconnecting it, and handles all its frames in order", async () => {
    const [a, b] = await Promise.all([ProtocolClient.connect(url, { appKey: "flow" }), ProtocolClient.connect(url, { appKey: "flow" })]);
    const channel = await registerChannel(a, "bulk");
    expect(await registerChannel(b, "bulk")).toBe(channel);
    const throttled = await metric(server, "gmnet_throttled_total");
    // 60 messages of 4 KiB: about 250 KiB, twice the bucket.
    const count = 60;
    for (let i = 0; i < count; i++) a.send(channel, i, new Uint8Array(4096).fill(i));
    for (let i = 0; i < count; i++) {
      const frame = await b.next(channel, i);
      expect(ChannelData.decode(frame.payload)).toEqual({ fromIp: a.welcome.virtualIp, data: new Uint8Array(4096).fill(i) });
    }
    expect(b.frames.filter((frame) => frame.channel === channel)).toEqual([]);
    expect(await metric(server, "gmnet_throttled_total")).toBeGreaterThan(throttled);
    // Still connected and served.
    expect(await registerChannel(a, "after-the-flood")).toBeGreaterThanOrEqual(Channel.FIRST_APP);
    expect(a.closeCode).toBeUndefined();
    expect(await metric(server, "gmnet_disconnects_total", { cause: "rate-limited" })).toBe(0);
    a.close();
    b.close();
  });

  it("counts 64 bytes for every message, so a flood of empty messages is slowed down too", async () => {
    const client = await ProtocolClient.connect(url);
    const throttled = await metric(server, "gmnet_throttled_total");
    // 1000 × 64 bytes fit in the 128 KiB bucket…
    for (let i = 0; i < 1000; i++) client.sendRaw(new Uint8Array(0));
    expect(await registerChannel(client, "probe")).toBeGreaterThanOrEqual(Channel.FIRST_APP);
    expect(await metric(server, "gmnet_throttled_total")).toBe(throttled);
    // …3000 more do not.
    for (let i = 0; i < 3000; i++) client.sendRaw(new Uint8Array(0));
    expect(await registerChannel(client, "probe")).toBeGreaterThanOrEqual(Channel.FIRST_APP);
    expect(await metric(server, "gmnet_throttled_total")).toBeGreaterThan(throttled);
    expect(client.closeCode).toBeUndefined();
    client.close();
  });
});

/**
 * Upgrades a raw TCP connection to a WebSocket by hand, writes `frame` once the 101 arrived, and
 * resolves with the code in the server's close frame (undefined if the TCP connection ended without one).
 */
function closeCodeAfterRawFrame(server: GmnetServer, frame: Buffer): Promise<number | undefined> {
  const { host, port } = server.address();
  const key = randomBytes(16).toString("base64");
  const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let received = Buffer.alloc(0);
    let upgraded = false;
    const done = (code: number | undefined): void => {
      socket.destroy();
      resolve(code);
    };
    socket.on("error", reject);
    socket.on("close", () => done(undefined));
    socket.on("connect", () => {
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!upgraded) {
        const end = received.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = received.subarray(0, end).toString("latin1");
        if (!head.startsWith("HTTP/1.1 101") || !head.includes(`Sec-WebSocket-Accept: ${accept}`)) {
          reject(new Error(`no WebSocket upgrade: ${head}`));
          socket.destroy();
          return;
        }
        upgraded = true;
        received = received.subarray(end + 4);
        socket.write(frame);
      }
      // Server frames are unmasked: FIN/RSV/opcode, 7-bit length (126: 16-bit, 127: 64-bit follows).
      while (received.length >= 2) {
        const short = received[1]! & 0x7f;
        const headerSize = short === 126 ? 4 : short === 127 ? 10 : 2;
        if (received.length < headerSize) return;
        const length = short === 126 ? received.readUInt16BE(2) : short === 127 ? Number(received.readBigUInt64BE(2)) : short;
        if (received.length < headerSize + length) return;
        const opcode = received[0]! & 0x0f;
        const payload = received.subarray(headerSize, headerSize + length);
        received = received.subarray(headerSize + length);
        if (opcode === 0x8) return done(payload.length >= 2 ? payload.readUInt16BE(0) : undefined);
      }
    });
  });
}

/** A client frame (FIN set) with the given first-byte extras, masked with a random key unless `mask` is false. */
function clientFrame(opcode: number, payload: Buffer, { rsv1 = false, mask = true } = {}): Buffer {
  const first = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  if (!mask) return Buffer.concat([Buffer.from([first, payload.length]), payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ key[i % 4]!));
  return Buffer.concat([Buffer.from([first, 0x80 | payload.length]), key, masked]);
}

describe("WebSocket-layer violations (answered by ws itself)", () => {
  let server: GmnetServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it.each([
    ["an unmasked client frame", 1002, clientFrame(0x2, Buffer.from([1, 2, 3]), { mask: false })],
    ["a frame with RSV1 set (no extension negotiated)", 1002, clientFrame(0x2, Buffer.from([1, 2, 3]), { rsv1: true })],
    ["a text frame that is not valid UTF-8", 1007, clientFrame(0x1, Buffer.from([0xc3, 0x28]))],
  ])("closes %s with %i", async (_name, code, frame) => {
    expect(await closeCodeAfterRawFrame(server, frame)).toBe(code);
  });

  it("passes a well-formed masked frame over the same hand-made upgrade on to gmnet", async () => {
    // The control for the cases above: 3 bytes are no gmnet frame, so gmnet itself answers 4502.
    expect(await closeCodeAfterRawFrame(server, clientFrame(0x2, Buffer.from([1, 2, 3])))).toBe(CloseCode.PROTOCOL_ERROR);
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
