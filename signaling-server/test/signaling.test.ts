import { createHmac } from "node:crypto";
import {
  Channel,
  CloseCode,
  IceServers,
  IceServersRequest,
  Priority,
  ProtocolError,
  SignalKind,
  SignalRelay,
  SignalType,
  encodeFrame,
  formatIpv4,
  parseIpv4,
} from "@gmnet/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { iceServersFor } from "../src/services/signaling.js";
import { ProtocolClient } from "./support/protocol-client.js";
import { startServer } from "./support/harness.js";
import { useServer } from "./support/virtual-sockets.js";

type Client = Awaited<ReturnType<typeof ProtocolClient.connect>>;

const relay = (client: ProtocolClient, peerIp: number, pairId: number, kind: number, data: string): void =>
  client.send(Channel.SIGNAL, SignalType.RELAY, SignalRelay.encode({ peerIp, pairId, kind, data }));

const nextRelay = async (client: ProtocolClient) => {
  const frame = await client.next(Channel.SIGNAL, SignalType.RELAY);
  return { ...SignalRelay.decode(frame.payload), priority: frame.priority };
};

const iceServers = async (client: ProtocolClient, reqId: number) => {
  client.send(Channel.SIGNAL, SignalType.ICE_SERVERS_REQUEST, IceServersRequest.encode({ reqId }));
  const reply = await client.nextMessage(Channel.SIGNAL, SignalType.ICE_SERVERS, IceServers);
  expect(reply.reqId).toBe(reqId);
  return JSON.parse(reply.json) as Array<{ urls: string | string[]; username?: string; credential?: string }>;
};

/** An address outside the virtual network, so no client can hold it. */
const NOBODY = parseIpv4("192.168.77.1")!;

describe("signaling relay", () => {
  const net = useServer({ signalRateLimit: 1000 });
  let a: Client;
  let b: Client;
  let other: Client;

  beforeAll(async () => {
    const url = net.server.address().wsUrl;
    [a, b, other] = await Promise.all([
      ProtocolClient.connect(url, { appKey: "sig-app" }),
      ProtocolClient.connect(url, { appKey: "sig-app" }),
      ProtocolClient.connect(url, { appKey: "other-app" }),
    ]);
  });

  it("relays both ways at high priority, stamping the sender's virtual IP", async () => {
    relay(a, b.welcome.virtualIp, 7, SignalKind.OFFER, '{"type":"offer","sdp":"v=0"}');
    const offer = await nextRelay(b);
    expect(offer).toEqual({ peerIp: a.welcome.virtualIp, pairId: 7, kind: SignalKind.OFFER, data: '{"type":"offer","sdp":"v=0"}', priority: Priority.HIGH });

    relay(b, a.welcome.virtualIp, 7, SignalKind.ANSWER, '{"type":"answer","sdp":"v=0"}');
    const answer = await nextRelay(a);
    expect(answer).toEqual({ peerIp: b.welcome.virtualIp, pairId: 7, kind: SignalKind.ANSWER, data: '{"type":"answer","sdp":"v=0"}', priority: Priority.HIGH });

    for (const kind of [SignalKind.CANDIDATE, SignalKind.RENEGOTIATE, SignalKind.CLOSE]) {
      relay(a, b.welcome.virtualIp, 8, kind, "{}");
      expect((await nextRelay(b)).kind).toBe(kind);
    }
  });

  it("refuses a target that is offline with NOT_A_PARTICIPANT, refId = pairId", async () => {
    relay(a, NOBODY, 31, SignalKind.OFFER, "{}");
    const error = await a.nextError();
    expect(error).toMatchObject({ code: ProtocolError.NOT_A_PARTICIPANT, refChannel: Channel.SIGNAL, refType: SignalType.RELAY, refId: 31 });
  });

  it("never relays to another app key, answering as if the address were offline", async () => {
    relay(a, other.welcome.virtualIp, 32, SignalKind.OFFER, "{}");
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.NOT_A_PARTICIPANT, refId: 32 });
    // The relay would have been queued for `other` before A's error was sent; a round trip of
    // its own proves nothing is on the way.
    await iceServers(other, 1);
    expect(other.frames.filter((frame) => frame.channel === Channel.SIGNAL && frame.type === SignalType.RELAY)).toEqual([]);
  });

  it("refuses unknown signal kinds with MALFORMED_PAYLOAD and relays nothing", async () => {
    for (const kind of [0, 6, 255]) {
      relay(a, b.welcome.virtualIp, 40 + kind, kind, "{}");
      expect(await a.nextError()).toMatchObject({ code: ProtocolError.MALFORMED_PAYLOAD, refChannel: Channel.SIGNAL, refId: 40 + kind });
    }
    relay(a, b.welcome.virtualIp, 99, SignalKind.CLOSE, "barrier");
    expect((await nextRelay(b)).pairId).toBe(99);
    expect(b.frames.filter((frame) => frame.channel === Channel.SIGNAL)).toEqual([]);
  });

  it("answers a malformed payload with MALFORMED_PAYLOAD and keeps the connection", async () => {
    a.send(Channel.SIGNAL, SignalType.RELAY, new Uint8Array([1, 2, 3]));
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.MALFORMED_PAYLOAD, refChannel: Channel.SIGNAL, refType: SignalType.RELAY });
    a.send(Channel.SIGNAL, SignalType.ICE_SERVERS_REQUEST, new Uint8Array(5));
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.MALFORMED_PAYLOAD, refType: SignalType.ICE_SERVERS_REQUEST });
    expect(await iceServers(a, 2)).toEqual([]);
  });

  it("refuses relays to a client that has left", async () => {
    const leaving = await ProtocolClient.connect(net.server.address().wsUrl, { appKey: "sig-app" });
    // A protocol error makes the server drop the session before it sends the close frame.
    leaving.sendRaw("not binary");
    expect(await leaving.closed()).toBe(CloseCode.PROTOCOL_ERROR);
    relay(a, leaving.welcome.virtualIp, 50, SignalKind.OFFER, "{}");
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.NOT_A_PARTICIPANT, refId: 50 });
  });
});

describe("signaling rate limit", () => {
  const net = useServer({ signalRateLimit: 5 });

  it("answers relays beyond the per-session budget with RATE_LIMITED and keeps the connection", async () => {
    const url = net.server.address().wsUrl;
    const [a, b] = await Promise.all([ProtocolClient.connect(url, { appKey: "rl" }), ProtocolClient.connect(url, { appKey: "rl" })]);
    // Seven relays in one message: the bucket holds five.
    const frames = Array.from({ length: 7 }, (_, i) =>
      encodeFrame(Channel.SIGNAL, SignalType.RELAY, Priority.NORMAL, SignalRelay.encode({ peerIp: b.welcome.virtualIp, pairId: i + 1, kind: SignalKind.CANDIDATE, data: "{}" })),
    );
    a.sendRaw(Buffer.concat(frames));
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.RATE_LIMITED, refChannel: Channel.SIGNAL, refId: 6 });
    expect(await a.nextError()).toMatchObject({ code: ProtocolError.RATE_LIMITED, refId: 7 });
    const delivered = [];
    for (let i = 0; i < 5; i++) delivered.push((await nextRelay(b)).pairId);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    // Other signaling still works, and the limit is per session: B can still signal A.
    expect(await iceServers(a, 9)).toEqual([]);
    relay(b, a.welcome.virtualIp, 77, SignalKind.ANSWER, "{}");
    expect((await nextRelay(a)).pairId).toBe(77);
    expect(a.closeCode).toBeUndefined();
  });
});

describe("ICE servers", () => {
  const configured = [
    { urls: "stun:stun.example:3478" },
    { urls: ["turn:turn.example:3478?transport=udp", "turns:turn.example:5349"] },
    { urls: "turn:static.example:3478", username: "configured", credential: "static" },
  ];

  it("gives TURN entries coturn REST credentials: username expiry:virtualIp, credential base64(HMAC-SHA1)", async () => {
    const secret = "coturn-static-auth-secret";
    const server = await startServer({ iceServers: configured, turnSecret: secret, turnCredentialTtlSeconds: 600 });
    try {
      const client = await ProtocolClient.connect(server.address().wsUrl);
      const before = Math.floor(Date.now() / 1000);
      const list = await iceServers(client, 1234);
      const after = Math.floor(Date.now() / 1000);
      expect(list[0]).toEqual({ urls: "stun:stun.example:3478" });
      for (const entry of [list[1]!, list[2]!]) {
        const [expiry, user] = entry.username!.split(":");
        expect(user).toBe(formatIpv4(client.welcome.virtualIp));
        expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
        expect(Number(expiry)).toBeLessThanOrEqual(after + 600);
        expect(entry.credential).toBe(createHmac("sha1", secret).update(entry.username!).digest("base64"));
      }
      expect(list[1]!.urls).toEqual(configured[1]!.urls);
      expect(list[2]!.username).not.toBe("configured");
      client.close();
    } finally {
      await server.close();
    }
  });

  it("sends the configured list untouched when no TURN secret is set", async () => {
    const server = await startServer({ iceServers: configured });
    try {
      const client = await ProtocolClient.connect(server.address().wsUrl);
      expect(await iceServers(client, 5)).toEqual(configured);
      client.close();
    } finally {
      await server.close();
    }
  });

  it("computes credentials from the clock it is given", () => {
    const list = iceServersFor({ iceServers: configured, turnSecret: "k", turnCredentialTtlSeconds: 3600 }, parseIpv4("10.1.2.3")!, 1_700_000_000_500);
    const username = "1700003600:10.1.2.3";
    expect(list[1]).toEqual({ ...configured[1], username, credential: createHmac("sha1", "k").update(username).digest("base64") });
    expect(list[0]).toBe(configured[0]);
  });
});
