/**
 * End-to-end payload encryption (docs/NETWORK.md "Encryption", PROTOCOL.md §18) through the real
 * server on port 0: engines with the same shared key talk, the server (and a raw protocol client
 * that reads what it relays) sees only sealed bytes, and a wrong key, plaintext, a forged sender
 * or a replay never reaches a script. node:crypto is the independent oracle for the key and format.
 *
 * Over 400 lines on purpose: one concern, end-to-end encryption, followed through each path it
 * seals (app channels, virtual TCP, UDP) with the same keys, oracle and raw reader.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { Channel, ChannelAssigned, ChannelData, ChannelRegister, ControlType, FrameDecoder, Hello, VSocketType, PROTOCOL_VERSION, Priority, Welcome, concatFrames, encodeFrame, formatIpv4, parseIpv4 } from "@gmnet/protocol";
import type { Engine } from "../../src/index.js";
import { deriveKeyBits } from "../../src/network/e2e.js";
import { APP, KEY, aad, broadcastArrives, echoedInOrder, markedMessages, oracleKey as sharedOracleKey, pattern, sendBytes, useTestNetwork } from "./sealed-oracle.js";
import { EventLog, type TestNetwork, bufferOf, text } from "./support.js";

const net = useTestNetwork();

const oracleKey = (secret: string, appKey = APP): Buffer => sharedOracleKey(secret, appKey);


/** A datagram or channel message sealed by node:crypto in the documented format. */
function oracleSeal(key: Buffer, additional: Buffer, seq: bigint, plain: Uint8Array): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(additional);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  const head = Buffer.alloc(9);
  head[0] = 1;
  head.writeBigUInt64LE(seq, 1);
  return Buffer.concat([head, nonce, body, cipher.getAuthTag()]);
}

/** Opens a sealed datagram or channel message with node:crypto; throws when it does not authenticate. */
function oracleOpen(key: Buffer, sealed: Uint8Array, kind: number, senderIp: number, a: number, b: number): Buffer {
  const bytes = Buffer.from(sealed);
  const seq = bytes.readBigUInt64LE(1);
  const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(9, 21));
  decipher.setAAD(aad(1, kind, senderIp, seq, a, b));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(21, bytes.length - 16)), decipher.final()]);
}

interface Player {
  gm: Engine;
  log: EventLog;
  ip: string;
  channel: number;
}

/** An engine that sets `key` (undefined: no encryption), turns encryption on and registers "lobby". */
async function join(network: TestNetwork, key: string | undefined): Promise<Player> {
  const gm = network.engine();
  const log = new EventLog(gm);
  if (key !== undefined) {
    const request = gm.network_set_config(gm.network_config_encryption_key, key);
    expect(await log.next({ type: gm.network_type_encryption, id: request }, 10_000)).toMatchObject({ succeeded: 1 });
    expect(gm.network_set_config(gm.network_config_encryption, gm.network_encryption_shared)).toBe(0);
  }
  const id = gm.network_channel_register("lobby");
  const up = await log.next({ type: gm.network_type_up });
  const answer = await log.next({ type: gm.network_type_channel, id });
  return { gm, log, ip: up.ip as string, channel: answer.channel as number };
}

function send(player: Player, type: number, content: string): number {
  const buffer = bufferOf(player.gm, content);
  try {
    return player.gm.network_channel_send(player.channel, type, buffer, new TextEncoder().encode(content).length);
  } finally {
    player.gm.buffer_delete(buffer);
  }
}

/** A raw protocol client on the "lobby" channel: it reads what the server relays and sends what a test wants. */
async function rawClient(url: string) {
  const socket = new WebSocket(url);
  const decoder = new FrameDecoder({ maxPayload: 1 << 20 });
  const frames: Array<{ channel: number; type: number; payload: Uint8Array }> = [];
  let ip = 0;
  let channel = 0;
  const waiters = new Set<() => void>();
  socket.on("message", (data: Buffer) => {
    for (const frame of decoder.push(new Uint8Array(data))) {
      if (frame.channel === Channel.CONTROL && frame.type === ControlType.WELCOME) ip = Welcome.decode(frame.payload).virtualIp;
      else if (frame.channel === Channel.CONTROL && frame.type === ControlType.CHANNEL_ASSIGNED) channel = ChannelAssigned.decode(frame.payload).channel;
      else if (frame.channel === Channel.CONTROL && frame.type === ControlType.PING) socket.send(encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.CRITICAL, frame.payload));
      else if (frame.channel >= Channel.FIRST_APP) frames.push({ channel: frame.channel, type: frame.type, payload: frame.payload.slice() });
    }
    for (const wake of [...waiters]) wake();
  });
  socket.on("error", () => {});
  net.onCleanup(() => socket.terminate());
  const until = async (done: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`raw client: no ${what}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          waiters.delete(wake);
          resolve();
        };
        waiters.add(wake);
        setTimeout(wake, 50);
      });
    }
  };
  await new Promise<void>((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  socket.send(
    concatFrames([
      encodeFrame(Channel.CONTROL, ControlType.HELLO, Priority.CRITICAL, Hello.encode({ version: PROTOCOL_VERSION, appKey: APP, secret: randomBytes(24).toString("base64url"), token: "" })),
      encodeFrame(Channel.CONTROL, ControlType.CHANNEL_REGISTER, Priority.HIGH, ChannelRegister.encode({ name: "lobby" })),
    ]),
  );
  await until(() => ip !== 0 && channel !== 0, "WELCOME and CHANNEL_ASSIGNED");
  return {
    get ip() {
      return ip;
    },
    channel,
    frames,
    /** The next app frame of `type`, as the server relayed it: fromIp and the data. */
    async next(type: number) {
      await until(() => frames.some((frame) => frame.type === type), `frame of type ${type}`);
      const at = frames.findIndex((frame) => frame.type === type);
      return ChannelData.decode(frames.splice(at, 1)[0]!.payload);
    },
    send(type: number, data: Uint8Array): void {
      socket.send(encodeFrame(channel, type, Priority.NORMAL, data));
    },
  };
}

describe("end-to-end encryption: settings and key", () => {
  it("derives the key node:crypto's pbkdf2Sync derives from the documented parameters", async () => {
    expect(Buffer.from(await deriveKeyBits(KEY, APP))).toEqual(oracleKey(KEY));
    expect(Buffer.from(await deriveKeyBits(KEY, "other-app"))).toEqual(oracleKey(KEY, "other-app"));
  });

  it("validates the settings and never reads the secret back", async () => {
    const network = await net.start();
    const gm = network.engine();
    const log = new EventLog(gm);
    expect([gm.network_config_encryption, gm.network_config_encryption_key, gm.network_encryption_none, gm.network_encryption_shared, gm.network_type_encryption]).toEqual([111, 112, 0, 1, 108]);
    expect(gm.network_get_config(gm.network_config_encryption)).toBe(0);
    expect(gm.network_get_config(gm.network_config_encryption_key)).toBe("");
    expect(() => gm.network_set_config(gm.network_config_encryption, 1)).toThrow(/encryption_key/);
    expect(() => gm.network_set_config(gm.network_config_encryption_key, "short")).toThrow(/8 characters/);
    expect(() => gm.network_set_config(gm.network_config_encryption, 2)).toThrow();
    const request = gm.network_set_config(gm.network_config_encryption_key, KEY);
    expect(request).toBeGreaterThan(0);
    expect(gm.network_get_config(gm.network_config_encryption_key)).not.toContain(KEY);
    expect(gm.network_get_config(gm.network_config_encryption_key)).not.toBe("");
    expect(gm.network_set_config(gm.network_config_encryption, 1)).toBe(0);
    expect(gm.network_get_config(gm.network_config_encryption)).toBe(1);
    expect(await log.next({ type: gm.network_type_encryption, id: request }, 10_000)).toMatchObject({ succeeded: 1 });
    expect(gm.network_get_stats(-1)).toMatchObject({ decrypt_failures: 0, replays_dropped: 0 });
  });
});

describe("end-to-end encryption: app channels", () => {
  it("relays only sealed bytes; a wrong key, plaintext, a forged sender and a replay never reach the script", async () => {
    const network = await net.start();
    const [a, b, c] = await Promise.all([join(network, KEY), join(network, KEY), join(network, "another shared key")]);
    const raw = await rawClient(network.url);
    const key = oracleKey(KEY);
    const secret = "attack at dawn, bring snacks";

    expect(send(a, 7, secret)).toBe(secret.length);
    const got = await b.log.next({ type: b.gm.network_type_channel_data, packet_type: 7 });
    expect(got).toMatchObject({ channel: a.channel, name: "lobby", ip: a.ip, size: secret.length });
    expect(text(got.bytes)).toBe(secret);

    // What the server relayed: the sealed format, never the plaintext, and node:crypto opens it.
    const relayed = await raw.next(7);
    expect(formatIpv4(relayed.fromIp)).toBe(a.ip);
    const sealed = Buffer.from(relayed.data);
    expect(sealed.includes(Buffer.from(secret))).toBe(false);
    expect(sealed[0]).toBe(1);
    expect(sealed.length).toBe(1 + 8 + 12 + secret.length + 16);
    expect(oracleOpen(key, sealed, 3, parseIpv4(a.ip)!, a.channel, 7).toString()).toBe(secret);

    // Another key: no data event, a report with E_NETWORK_DECRYPT, and the counter.
    const report = await c.log.next({ type: c.gm.network_type_encryption, id: -1 });
    expect(report).toMatchObject({ succeeded: 0, error: "E_NETWORK_DECRYPT", kind: "channel", ip: a.ip, channel: a.channel });
    expect(c.gm.network_get_stats(-1)!.decrypt_failures).toBeGreaterThanOrEqual(1);
    expect(c.log.seen.filter((event) => event.type === c.gm.network_type_channel_data)).toHaveLength(0);

    // From the raw client: plaintext, A's sealed bytes under the raw client's address (a forged
    // sender), a message node:crypto sealed correctly, then the same message again (a replay).
    raw.send(8, new TextEncoder().encode("plain text"));
    raw.send(8, sealed);
    const good = oracleSeal(key, aad(1, 3, raw.ip, 5n, raw.channel, 9), 5n, new TextEncoder().encode("sealed by node"));
    raw.send(9, good);
    raw.send(9, good);
    const marker = oracleSeal(key, aad(1, 3, raw.ip, 6n, raw.channel, 10), 6n, new TextEncoder().encode("marker"));
    raw.send(10, marker);

    const fromNode = await b.log.next({ type: b.gm.network_type_channel_data, packet_type: 9 });
    expect(fromNode).toMatchObject({ ip: formatIpv4(raw.ip) });
    expect(text(fromNode.bytes)).toBe("sealed by node");
    // Messages are opened in order: once the marker is in, everything before it was handled.
    expect(text((await b.log.next({ type: b.gm.network_type_channel_data, packet_type: 10 })).bytes)).toBe("marker");
    expect(b.log.seen.filter((event) => event.type === b.gm.network_type_channel_data).map((event) => event.packet_type)).toEqual([7, 9, 10]);
    expect(b.gm.network_get_stats(-1)).toMatchObject({ decrypt_failures: 2, replays_dropped: 1 });
    // Reported at most once per peer per second: one report for the raw client's three drops.
    const reports = b.log.seen.filter((event) => event.type === b.gm.network_type_encryption && event.id === -1);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ error: "E_NETWORK_DECRYPT", ip: formatIpv4(raw.ip), kind: "channel" });

    // An engine without encryption gets sealed bytes from A only as data it cannot read — and its
    // own plaintext is refused by A and B.
    const d = await join(network, undefined);
    expect(send(d, 11, "in the clear")).toBe(12);
    await a.log.next({ type: a.gm.network_type_encryption, id: -1, ip: d.ip });
    expect(a.log.seen.filter((event) => event.type === a.gm.network_type_channel_data && event.ip === d.ip)).toHaveLength(0);
  });
});

/**
 * The `ws` WebSocket with a tap on what the engine sends the server: it records every message;
 * when `tamper` is armed it flips the last byte (inside the GCM tag) of the next ARBITRARY_DATA
 * payload it sends, and when `duplicate` is armed it sends the next DATAGRAM frame twice, as a man
 * in the middle would.
 */
function tappedWebSocket() {
  const tap = { sent: [] as Buffer[], tamper: false, tampered: 0, duplicate: false, duplicated: 0 };
  class TappedWebSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      const send = super.send.bind(this) as (...args: unknown[]) => void;
      let bytes = data instanceof Uint8Array ? Buffer.from(data) : undefined;
      let again: Buffer | undefined;
      if (bytes !== undefined) {
        tap.sent.push(bytes);
        for (let at = 0; at + 12 <= bytes.length && (tap.tamper || tap.duplicate); at += 12 + bytes.readUInt32LE(at + 8)) {
          const length = bytes.readUInt32LE(at + 8);
          const channel = bytes.readUInt16LE(at);
          const type = bytes.readUInt16LE(at + 2);
          if (tap.tamper && channel === Channel.VSOCKET && type === VSocketType.ARBITRARY_DATA && length > 8) {
            bytes = Buffer.from(bytes);
            bytes[at + 12 + length - 1]! ^= 0x01;
            tap.tamper = false;
            tap.tampered++;
          } else if (tap.duplicate && channel === Channel.VSOCKET && type === VSocketType.DATAGRAM) {
            again = Buffer.from(bytes.subarray(at, at + 12 + length));
            tap.duplicate = false;
            tap.duplicated++;
          }
        }
      }
      send(bytes ?? data, ...rest);
      if (again !== undefined) send(again);
    }
  }
  return { tap, WebSocket: TappedWebSocket as unknown as typeof WebSocket };
}


async function encrypting(gm: Engine, log: EventLog, key: string): Promise<void> {
  const request = gm.network_set_config(gm.network_config_encryption_key, key);
  gm.network_set_config(gm.network_config_encryption, gm.network_encryption_shared);
  expect(await log.next({ type: gm.network_type_encryption, id: request }, 10_000)).toMatchObject({ succeeded: 1 });
}


/** A host listening on `port` and a client connected to it, each with `keys` (undefined: no encryption). */
async function streamPair(keys: [string | undefined, string | undefined], raw = false, port = 6600) {
  const hostWs = tappedWebSocket();
  const clientWs = tappedWebSocket();
  const h = { gm: net.current.engine({ WebSocket: hostWs.WebSocket as never }), tap: hostWs.tap } as { gm: Engine; tap: typeof hostWs.tap; log: EventLog };
  h.log = new EventLog(h.gm);
  const c = { gm: net.current.engine({ WebSocket: clientWs.WebSocket as never }), tap: clientWs.tap } as typeof h;
  c.log = new EventLog(c.gm);
  if (keys[0] !== undefined) await encrypting(h.gm, h.log, keys[0]);
  if (keys[1] !== undefined) await encrypting(c.gm, c.log, keys[1]);
  const server = raw ? h.gm.network_create_server_raw(h.gm.network_socket_tcp, port, 4) : h.gm.network_create_server(h.gm.network_socket_tcp, port, 4);
  const up = await h.log.next({ type: h.gm.network_type_up });
  const socket = c.gm.network_create_socket(c.gm.network_socket_tcp);
  expect(raw ? c.gm.network_connect_raw_async(socket, up.ip as string, port) : c.gm.network_connect_async(socket, up.ip as string, port)).toBe(0);
  return { h, c, server, socket, hostIp: up.ip as string };
}

describe("end-to-end encryption: virtual TCP streams", () => {
  it("carries many messages of 1 B to 64 KiB in order both ways, and the server only sees ciphertext", async () => {
    await net.start();
    const { h, c, socket } = await streamPair([KEY, KEY]);
    expect(await c.log.next({ type: c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    const peer = (await h.log.next({ type: h.gm.network_type_connect })).socket as number;
    const marker = new TextEncoder().encode("PLAINTEXT-MARKER-THAT-MUST-NOT-LEAVE-THE-ENGINE");
    const sizes = [1, 2, 3, 16, 100, 1000, 4096, 16_383, 16_384, 30_000, 65_535, 65_536, ...Array.from({ length: 28 }, (_, i) => 1 + ((i * 7919) % 65_536))];
    const messages = markedMessages(sizes, marker);
    await echoedInOrder(h, peer, c, socket, messages);
    for (const tap of [c.tap, h.tap]) expect(tap.sent.some((bytes) => bytes.includes(Buffer.from(marker)))).toBe(false);
    expect(c.tap.sent.reduce((sum, bytes) => sum + bytes.length, 0)).toBeGreaterThan(sizes.reduce((sum, size) => sum + size, 0));
    expect(c.gm.network_get_stats(socket)).toMatchObject({ packets_sent: messages.length, packets_received: messages.length });
  });

  it("ends the stream with E_NETWORK_DECRYPT when a frame was tampered with, and the script never sees it", async () => {
    await net.start();
    const { h, c, server, socket } = await streamPair([KEY, KEY]);
    expect(await c.log.next({ type: c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    const peer = (await h.log.next({ type: h.gm.network_type_connect })).socket as number;
    expect(sendBytes(c.gm, socket, new TextEncoder().encode("first"))).toBe(5);
    expect(text((await h.log.next({ type: h.gm.network_type_data })).bytes)).toBe("first");
    c.tap.tamper = true;
    expect(sendBytes(c.gm, socket, new TextEncoder().encode("tampered"))).toBe(8);
    expect(sendBytes(c.gm, socket, new TextEncoder().encode("after"))).toBe(5);
    const gone = await h.log.next({ type: h.gm.network_type_disconnect });
    expect(gone).toMatchObject({ id: server, socket: peer, error: "E_NETWORK_DECRYPT" });
    expect(c.tap.tampered).toBe(1);
    expect(await c.log.next({ type: c.gm.network_type_disconnect })).toMatchObject({ id: socket, error: "E_NETWORK_CLOSED" });
    expect(h.log.seen.filter((event) => event.type === h.gm.network_type_data)).toHaveLength(1);
  });

  it("ends the stream with E_NETWORK_DECRYPT when only one end encrypts, or the keys differ", async () => {
    await net.start();
    // Raw mode, the host encrypts and the client does not: the client's plaintext is refused.
    const one = await streamPair([KEY, undefined], true, 6601);
    expect(await one.c.log.next({ type: one.c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    await one.h.log.next({ type: one.h.gm.network_type_connect });
    expect(sendBytes(one.c.gm, one.socket, new TextEncoder().encode("in the clear"), true)).toBe(12);
    expect(await one.h.log.next({ type: one.h.gm.network_type_disconnect })).toMatchObject({ id: one.server, error: "E_NETWORK_DECRYPT" });
    expect(one.h.log.seen.filter((event) => event.type === one.h.gm.network_type_data)).toHaveLength(0);

    // GameMaker mode, the client encrypts and the host does not: the host's plaintext greeting fails the connect.
    const two = await streamPair([undefined, KEY], false, 6602);
    expect(await two.c.log.next({ type: two.c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 0, error: "E_NETWORK_DECRYPT" });

    // Both encrypt, with different keys.
    const three = await streamPair([KEY, "a different shared key"], false, 6603);
    expect(await three.c.log.next({ type: three.c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 0, error: "E_NETWORK_DECRYPT" });
  });
});

describe("end-to-end encryption: UDP", () => {
  /** A UDP socket on `port` in an engine with `key` (undefined: no encryption). */
  async function udpPeer(port: number, key: string | undefined, webrtc: boolean) {
    const ws = tappedWebSocket();
    const gm = net.current.engine({ WebSocket: ws.WebSocket as never });
    const log = new EventLog(gm);
    if (!webrtc) gm.network_set_config(gm.network_config_enable_webrtc, 0);
    if (key !== undefined) await encrypting(gm, log, key);
    const socket = gm.network_create_socket_ext(gm.network_socket_udp, port);
    const up = await log.next({ type: gm.network_type_up });
    return { gm, log, socket, port, ip: up.ip as string, tap: ws.tap };
  }
  type UdpPeer = Awaited<ReturnType<typeof udpPeer>>;

  const sendUdp = (from: UdpPeer, to: UdpPeer, content: string | Uint8Array, raw = false): number => {
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
    const buffer = bufferOf(from.gm, bytes);
    try {
      return raw ? from.gm.network_send_udp_raw(from.socket, to.ip, to.port, buffer, bytes.length) : from.gm.network_send_udp(from.socket, to.ip, to.port, buffer, bytes.length);
    } finally {
      from.gm.buffer_delete(buffer);
    }
  };

  it("seals relayed datagrams; another key, plaintext and a replayed datagram are dropped and counted", async () => {
    await net.start();
    const [a, b, c, d] = await Promise.all([udpPeer(7300, KEY, false), udpPeer(7301, KEY, false), udpPeer(7302, "a different shared key", false), udpPeer(7303, undefined, false)]);
    const marker = "UDP-PLAINTEXT-MARKER-NEVER-ON-THE-WIRE";
    expect(sendUdp(a, b, marker)).toBe(marker.length);
    const got = await b.log.next({ type: b.gm.network_type_data });
    expect(got).toMatchObject({ id: b.socket, ip: a.ip, port: a.port, via: "relay", size: marker.length });
    expect(text(got.bytes)).toBe(marker);
    // Raw datagrams, many and large, in both directions.
    const big = pattern(65_507 - 37, 1);
    expect(sendUdp(a, b, big, true)).toBe(big.length);
    expect(sendUdp(a, b, pattern(65_507 - 36, 2), true)).toBe(-2);
    expect(Buffer.from((await b.log.next({ type: b.gm.network_type_data })).bytes!).equals(Buffer.from(big))).toBe(true);
    for (let i = 0; i < 20; i++) expect(sendUdp(b, a, `reply ${i}`)).toBe(`reply ${i}`.length);
    for (let i = 0; i < 20; i++) expect(text((await a.log.next({ type: a.gm.network_type_data })).bytes)).toBe(`reply ${i}`);
    expect(a.tap.sent.some((bytes) => bytes.includes(Buffer.from(marker)))).toBe(false);

    // A replayed datagram (the same frame sent twice on A's connection): dropped as a replay.
    a.tap.duplicate = true;
    expect(sendUdp(a, b, "once")).toBe(4);
    // Another key, and plaintext from an engine that does not encrypt.
    expect(sendUdp(c, b, "wrong key")).toBe(9);
    expect(sendUdp(d, b, "plain")).toBe(5);
    const fromC = await b.log.next({ type: b.gm.network_type_encryption, ip: c.ip });
    expect(fromC).toMatchObject({ id: -1, succeeded: 0, error: "E_NETWORK_DECRYPT", kind: "datagram", port: c.port });
    await b.log.next({ type: b.gm.network_type_encryption, ip: d.ip });
    await b.log.next({ type: b.gm.network_type_encryption, ip: a.ip });
    expect(a.tap.duplicated).toBe(1);
    expect(text((await b.log.next({ type: b.gm.network_type_data })).bytes)).toBe("once");
    expect(b.gm.network_get_stats(-1)).toMatchObject({ decrypt_failures: 2, replays_dropped: 1 });
    expect(b.log.seen.filter((event) => event.type === b.gm.network_type_data).map((event) => text(event.bytes)).filter((t) => t === "once" || t === "plain" || t === "wrong key")).toEqual(["once"]);
    // The engine without encryption gets only ciphertext from an encrypting one, never A's plaintext.
    expect(sendUdp(a, d, marker)).toBe(marker.length);
    const atD = await d.log.next({ type: d.gm.network_type_data });
    expect(text(atD.bytes)).not.toContain(marker);
    expect(atD.size).toBe(marker.length + 12 + 37);
  });

  it("seals broadcasts", async () => {
    await net.start();
    const [a, b] = await Promise.all([udpPeer(7310, KEY, false), udpPeer(7311, KEY, false)]);
    await broadcastArrives(a, b);
    expect(a.tap.sent.some((bytes) => bytes.includes(Buffer.from("to everyone")))).toBe(false);
  });

  it("seals datagrams over a WebRTC DataChannel as well", async () => {
    await net.start();
    const [a, b] = await Promise.all([udpPeer(7320, KEY, true), udpPeer(7321, KEY, true)]);
    let direct: Awaited<ReturnType<EventLog["next"]>> | undefined;
    for (let i = 0; i < 200 && direct === undefined; i++) {
      expect(sendUdp(a, b, `datagram ${i}`)).toBe(`datagram ${i}`.length);
      try {
        direct = await b.log.next((event) => event.type === b.gm.network_type_data && event.via === "p2p", 100);
      } catch {
        // not yet: send the next one
      }
    }
    expect(direct).toMatchObject({ ip: a.ip, port: a.port });
    expect(text(direct!.bytes)).toMatch(/^datagram \d+$/);
    expect(b.gm.network_get_stats(-1)).toMatchObject({ decrypt_failures: 0, replays_dropped: 0 });
    expect(b.log.seen.filter((event) => event.type === b.gm.network_type_encryption && event.id === -1)).toHaveLength(0);
  });
});
