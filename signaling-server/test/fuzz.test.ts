/**
 * Garbage in, never a crash: arbitrary bytes from fresh connections, and arbitrary frames from
 * authenticated ones, must leave the server running and its other clients served. A crash would
 * surface as an uncaught exception in this process, failing the run.
 */
import { Channel, ChannelData, ControlType, FRAME_HEADER_SIZE, Priority, SignalKind, SignalRelay, SignalType, encodeFrame } from "@gmnet/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { eventually, getJson, metric, registerChannel, startServer } from "./support/harness.js";

type Client = Awaited<ReturnType<typeof ProtocolClient.connect>>;

let server: GmnetServer;
let url: string;
let watcherA: Client;
let watcherB: Client;
let channel: number;
let probe = 0;

beforeAll(async () => {
  server = await startServer({ maxFrameSize: 4096, maxMessageSize: 16384 });
  url = server.address().wsUrl;
  [watcherA, watcherB] = await Promise.all([ProtocolClient.connect(url, { appKey: "fuzz" }), ProtocolClient.connect(url, { appKey: "fuzz" })]);
  channel = await registerChannel(watcherA, "watch");
  await registerChannel(watcherB, "watch");
});
afterAll(() => server.close());

/** The bystanders still get each other's frames and signals. */
async function bystandersServed(): Promise<void> {
  probe++;
  // Type 999: the fuzzed frames on this channel use types 0–25.
  watcherA.send(channel, 999, new Uint8Array([probe & 255]));
  expect(ChannelData.decode((await watcherB.next(channel, 999)).payload)).toEqual({ fromIp: watcherA.welcome.virtualIp, data: new Uint8Array([probe & 255]) });
  watcherB.send(Channel.SIGNAL, SignalType.RELAY, SignalRelay.encode({ peerIp: watcherA.welcome.virtualIp, pairId: probe, kind: SignalKind.CANDIDATE, data: "{}" }));
  expect(SignalRelay.decode((await watcherA.next(Channel.SIGNAL, SignalType.RELAY)).payload).pairId).toBe(probe);
}

/** Sends each message, then closes and waits for the end: everything sent was processed first. */
async function sendAndFinish(client: ProtocolClient, messages: Uint8Array[]): Promise<void> {
  for (const message of messages) if (client.ws.readyState === client.ws.OPEN) client.sendRaw(message);
  if (client.ws.readyState === client.ws.OPEN) client.close();
  await client.closed();
}

describe("garbage from unauthenticated connections", () => {
  it("never crashes the server", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 3 }), async (messages) => {
        const client = new ProtocolClient(url);
        await client.opened();
        await sendAndFinish(client, messages);
      }),
      { numRuns: 60 },
    );
    await bystandersServed();
  });

  it("never crashes the server when the garbage has valid frame headers", async () => {
    const frame = fc
      .record({ channel: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 1000), fc.integer({ min: 0, max: 0xffff })), type: fc.integer({ min: 0, max: 30 }), payload: fc.uint8Array({ maxLength: 300 }) })
      .map(({ channel, type, payload }) => encodeFrame(channel, type, Priority.NORMAL, payload));
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 4 }), async (frames) => {
        const client = new ProtocolClient(url);
        await client.opened();
        await sendAndFinish(client, [Buffer.concat(frames)]);
      }),
      { numRuns: 60 },
    );
    await bystandersServed();
  });
});

describe("garbage from authenticated connections", () => {
  it("never crashes the server and never disturbs other clients", async () => {
    // Frames aimed at real handlers: system channels and their packet types, plus the app channel.
    const frame = fc
      .record({
        channel: fc.constantFrom(Channel.CONTROL, Channel.VSOCKET, Channel.SIGNAL, Channel.MASTER, Channel.STATS, 1000, 1001, 9999),
        type: fc.integer({ min: 0, max: 25 }),
        payload: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 4, maxLength: 4096 - FRAME_HEADER_SIZE })),
      })
      // The client's own Hello would only be refused; a second one is tested elsewhere.
      .filter(({ channel, type }) => !(channel === Channel.CONTROL && type === ControlType.HELLO))
      .map(({ channel, type, payload }) => encodeFrame(channel, type, Priority.NORMAL, payload));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(frame, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }), async (messages) => {
        const client = await ProtocolClient.connect(url, { appKey: "fuzz" });
        await registerChannel(client, "watch");
        await sendAndFinish(
          client,
          messages.map((frames) => Buffer.concat(frames)),
        );
      }),
      { numRuns: 60 },
    );
    await bystandersServed();
    // The fuzzing clients' sessions all end (the server may see each close a moment after the client).
    await eventually(
      async () => ((await getJson(server, "/healthz")).body as { sessions: number }).sessions === 2,
      () => bystandersServed(),
    );
    // No handler threw: every bad frame was refused with an ERROR, not an internal error (1011).
    expect(await metric(server, "gmnet_disconnects_total", { cause: "internal-error" })).toBe(0);
  });
});
