/**
 * App channels over real WebSockets: relayed only within one app and to registered members, at
 * the sender's priority with the sender stamped by the server; numbers kept per app after its
 * last member leaves, idle apps' tables forgotten past maxIdleApps, and maxAppChannels.
 */
import {
  Channel,
  ChannelUnregister,
  ControlType,
  Priority,
  ProtocolError,
  SignalKind,
  SignalRelay,
  SignalType,
  ChannelAssigned,
  ChannelData,
  ChannelRegister,
} from "@gmnet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { getJson, registerChannel, startServer } from "./support/harness.js";
import { useServer } from "./support/virtual-sockets.js";

type Client = Awaited<ReturnType<typeof ProtocolClient.connect>>;

/** B relays a signal to A; once A has it, everything B caused before has reached A too. */
async function barrier(from: Client, to: Client, pairId: number): Promise<void> {
  from.send(Channel.SIGNAL, SignalType.RELAY, SignalRelay.encode({ peerIp: to.welcome.virtualIp, pairId, kind: SignalKind.CLOSE, data: "barrier" }));
  const frame = await to.next(Channel.SIGNAL, SignalType.RELAY);
  expect(SignalRelay.decode(frame.payload).pairId).toBe(pairId);
}

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
    expect(got).toMatchObject({ channel, type: 42, priority: Priority.NORMAL });
    // The server stamps the sender's address in front of the payload (ChannelData).
    expect(ChannelData.decode(got.payload)).toEqual({ fromIp: b.welcome.virtualIp, data: new Uint8Array([1, 2, 3]) });

    // C's app has its own channel numbers and members: it hears neither A nor B.
    a.send(channel, 43, new Uint8Array([9]));
    expect(ChannelData.decode((await b.next(channel, 43)).payload)).toEqual({ fromIp: a.welcome.virtualIp, data: new Uint8Array([9]) });
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

  it("relays at the sender's priority, with the sender stamped whatever the payload claims", async () => {
    const channel = await registerChannel(a, "priorities");
    expect(await registerChannel(b, "priorities")).toBe(channel);
    // A payload that starts like a ChannelData naming C: relayed unchanged behind the real sender.
    const forged = new Uint8Array([...new Uint8Array(new Uint32Array([c.welcome.virtualIp]).buffer), 7]);
    for (const priority of [Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW]) a.send(channel, 100 + priority, forged, priority);
    for (const priority of [Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW]) {
      const got = await b.next(channel, 100 + priority);
      expect(got.priority).toBe(priority);
      expect(ChannelData.decode(got.payload)).toEqual({ fromIp: a.welcome.virtualIp, data: forged });
    }
  });

  it("keeps an app's numbers after its last member left", async () => {
    const url = server.address().wsUrl;
    const first = await ProtocolClient.connect(url, { appKey: "kept" });
    const one = await registerChannel(first, "one");
    const two = await registerChannel(first, "two");
    first.close();
    await first.closed();
    await expect.poll(async () => ((await getJson(server, "/healthz")).body as { sessions: number }).sessions).toBe(3);
    const next = await ProtocolClient.connect(url, { appKey: "kept" });
    expect(await registerChannel(next, "two")).toBe(two);
    expect(await registerChannel(next, "one")).toBe(one);
    expect(await registerChannel(next, "three")).toBe(two + 1);
    next.close();
  });
});

describe("idle app tables", () => {
  const net = useServer({ maxIdleApps: 2 });

  it("forgets the table idle longest past maxIdleApps and keeps the most recently idle", async () => {
    const url = net.server.address().wsUrl;
    const sessions = async (): Promise<number> => ((await getJson(net.server, "/healthz")).body as { sessions: number }).sessions;
    const before = await sessions();
    // Three apps, each with two names (so a kept table answers 1001 where a new one says 1000).
    // Each goes idle in turn, and only after the server has seen the previous one go.
    const apps = ["idle-a", "idle-b", "idle-c"];
    for (const appKey of apps) {
      const client = await ProtocolClient.connect(url, { appKey });
      expect(await registerChannel(client, "first")).toBe(Channel.FIRST_APP);
      expect(await registerChannel(client, "second")).toBe(Channel.FIRST_APP + 1);
      client.close();
      await client.closed();
      await expect.poll(sessions).toBe(before);
    }
    // Three idle tables, at most two kept: idle-a (idle longest) is forgotten, b and c are kept.
    const probe = async (appKey: string): Promise<number> => {
      const client = await ProtocolClient.connect(url, { appKey });
      try {
        return await registerChannel(client, "second");
      } finally {
        client.close();
        await client.closed();
        await expect.poll(sessions).toBe(before);
      }
    };
    expect(await probe("idle-c")).toBe(Channel.FIRST_APP + 1);
    expect(await probe("idle-a")).toBe(Channel.FIRST_APP);
  });
});

describe("app channel limit", () => {
  const net = useServer({ maxAppChannels: 2 });

  it("refuses a name past maxAppChannels with an ERROR and a CHANNEL_ASSIGNED of channel 0, in order", async () => {
    const client = await ProtocolClient.connect(net.server.address().wsUrl, { appKey: "small" });
    for (const name of ["a", "b", "c", "a"]) client.send(Channel.CONTROL, ControlType.CHANNEL_REGISTER, ChannelRegister.encode({ name }));
    expect(await client.nextError()).toMatchObject({ code: ProtocolError.TOO_MANY_CHANNELS, refType: ControlType.CHANNEL_REGISTER });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await client.nextMessage(Channel.CONTROL, ControlType.CHANNEL_ASSIGNED, ChannelAssigned));
    expect(answers).toEqual([{ name: "a", channel: 1000 }, { name: "b", channel: 1001 }, { name: "c", channel: 0 }, { name: "a", channel: 1000 }]);
    client.close();
  });
});
