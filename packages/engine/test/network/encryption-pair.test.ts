/**
 * Pair-mode end-to-end encryption (network_encryption_pair; docs/NETWORK.md "Encryption",
 * PROTOCOL.md §18) through the real server on port 0: engines agree a key per stream and per
 * peer with ephemeral ECDH P-256 + HKDF, the relay sees only key messages and sealed bytes, the
 * shared key (which every copy of the game has) opens none of them, and a mismatch never reaches
 * a script. node:crypto is the oracle: it derives the pair key from the public keys seen on the
 * wire and one end's private key, and opens the recorded frames with it.
 *
 * To get a private key, crypto.subtle.generateKey is wrapped (in this test only) so that the key
 * pairs the engines make are extractable and recorded; the engine itself has no test hook.
 */
import { createDecipheriv, createECDH, hkdfSync } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { ARBITRARY_DATA_HEADER, Channel, Datagram, VSocketType, arbitraryDataConnId, parseIpv4 } from "@gmnet/protocol";
import { APP, KEY, aad, broadcastArrives, echoedInOrder, markedMessages, oracleKey, pattern, sendBytes, useTestNetwork } from "./sealed-oracle.js";
import { EventLog, bufferOf, text } from "./support.js";

const net = useTestNetwork();

/** The shared-mode key (and pair mode's HKDF salt), as node:crypto derives it. */
const sharedKey = oracleKey(KEY, APP);

/** Records every ECDH key pair the engines make, made extractable so the test can read a private key. */
function recordKeyPairs(): CryptoKeyPair[] {
  const recorded: CryptoKeyPair[] = [];
  const subtle = globalThis.crypto.subtle;
  const original = subtle.generateKey.bind(subtle) as (algorithm: unknown, extractable: boolean, usages: KeyUsage[]) => Promise<CryptoKeyPair | CryptoKey>;
  const spy = vi.spyOn(subtle, "generateKey").mockImplementation((async (algorithm: unknown, _extractable: boolean, usages: KeyUsage[]) => {
    const made = await original(algorithm, true, usages);
    if ("privateKey" in made) recorded.push(made);
    return made;
  }) as never);
  net.onCleanup(() => spy.mockRestore());
  return recorded;
}

/** The private scalar of the recorded key pair whose public key is `publicRaw`. */
async function privateKeyOf(recorded: CryptoKeyPair[], publicRaw: Buffer): Promise<Buffer> {
  for (const pair of recorded) {
    const raw = Buffer.from(await globalThis.crypto.subtle.exportKey("raw", pair.publicKey));
    if (raw.equals(publicRaw)) return Buffer.from((await globalThis.crypto.subtle.exportKey("jwk", pair.privateKey)).d!, "base64url");
  }
  throw new Error("no recorded key pair has that public key");
}

/** The pair key as documented: HKDF-SHA-256(ECDH secret, salt = shared key bits, info = label · keys sorted · their owners' IPs). */
function oraclePairKey(ownPrivate: Buffer, ownPublic: Buffer, ownIp: number, peerPublic: Buffer, peerIp: number): Buffer {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(ownPrivate);
  const secret = ecdh.computeSecret(peerPublic);
  const ownFirst = Buffer.compare(ownPublic, peerPublic) <= 0;
  const ips = Buffer.alloc(8);
  ips.writeUInt32LE(ownFirst ? ownIp : peerIp, 0);
  ips.writeUInt32LE(ownFirst ? peerIp : ownIp, 4);
  const info = Buffer.concat([Buffer.from("gmnet-e2e-pair-v1"), ownFirst ? ownPublic : peerPublic, ownFirst ? peerPublic : ownPublic, ips]);
  return Buffer.from(hkdfSync("sha256", secret, sharedKey, info, 32));
}


/** Opens a sealed message (head = 1 for stream frames, 9 with a sequence number); throws when it does not authenticate. */
function oracleOpen(key: Buffer, sealed: Buffer, additional: Buffer, head: number): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(head, head + 12));
  decipher.setAAD(additional);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(head + 12, sealed.length - 16)), decipher.final()]);
}

/** The `ws` WebSocket with a tap that records every VSOCKET frame the engine sends: its type and payload. */
function tappedWebSocket() {
  const frames: Array<{ type: number; payload: Buffer }> = [];
  class TappedWebSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      if (data instanceof Uint8Array) {
        const bytes = Buffer.from(data);
        for (let at = 0; at + 12 <= bytes.length; at += 12 + bytes.readUInt32LE(at + 8)) {
          if (bytes.readUInt16LE(at) === Channel.VSOCKET) frames.push({ type: bytes.readUInt16LE(at + 2), payload: Buffer.from(bytes.subarray(at + 12, at + 12 + bytes.readUInt32LE(at + 8))) });
        }
      }
      (super.send.bind(this) as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  return { frames, WebSocket: TappedWebSocket as unknown as typeof WebSocket };
}
type Frames = ReturnType<typeof tappedWebSocket>["frames"];

/** The ARBITRARY_DATA payloads (after the 8-byte header) an engine sent on `connId`, in order. */
const streamFrames = (frames: Frames, connId: number): Buffer[] =>
  frames.filter((frame) => frame.type === VSocketType.ARBITRARY_DATA && arbitraryDataConnId(frame.payload) === connId).map((frame) => frame.payload.subarray(ARBITRARY_DATA_HEADER));
const connIds = (frames: Frames): number[] => [...new Set(frames.filter((frame) => frame.type === VSocketType.ARBITRARY_DATA).map((frame) => arbitraryDataConnId(frame.payload)))];



/** An engine on the test network, tapped, with encryption `mode` (0 none) and the shared secret. */
async function engine(mode: number, webrtc = true) {
  const ws = tappedWebSocket();
  const gm = net.current.engine({ WebSocket: ws.WebSocket as never });
  const log = new EventLog(gm);
  if (!webrtc) gm.network_set_config(gm.network_config_enable_webrtc, 0);
  if (mode !== 0) {
    const request = gm.network_set_config(gm.network_config_encryption_key, KEY);
    expect(gm.network_set_config(gm.network_config_encryption, mode)).toBe(0);
    expect(await log.next({ type: gm.network_type_encryption, id: request }, 10_000)).toMatchObject({ succeeded: 1 });
  }
  return { gm, log, frames: ws.frames };
}

/** A host listening on `port` in mode `modes[0]`, and a client in mode `modes[1]` connecting to it. */
async function streamPair(modes: [number, number], raw = false, port = 6700) {
  const [h, c] = await Promise.all([engine(modes[0]), engine(modes[1])]);
  const server = raw ? h.gm.network_create_server_raw(h.gm.network_socket_tcp, port, 4) : h.gm.network_create_server(h.gm.network_socket_tcp, port, 4);
  const up = await h.log.next({ type: h.gm.network_type_up });
  const connect = (): number => {
    const socket = c.gm.network_create_socket(c.gm.network_socket_tcp);
    expect(raw ? c.gm.network_connect_raw_async(socket, up.ip as string, port) : c.gm.network_connect_async(socket, up.ip as string, port)).toBe(0);
    return socket;
  };
  const socket = connect();
  return { h, c, server, socket, connect, hostIp: parseIpv4(up.ip as string)! };
}

const KEY_MESSAGE = (kind: number, flags: number) => (bytes: Buffer) => bytes.length === 68 && bytes[0] === 2 && bytes[1] === kind && bytes[2] === flags && bytes[3] === 0x04;

describe("pair-mode encryption: settings", () => {
  it("has network_encryption_pair 2, which needs the key first", async () => {
    const network = await net.start();
    const gm = network.engine();
    const log = new EventLog(gm);
    expect(gm.network_encryption_pair).toBe(2);
    expect(() => gm.network_set_config(gm.network_config_encryption, gm.network_encryption_pair)).toThrow(/encryption_key/);
    expect(() => gm.network_set_config(gm.network_config_encryption, 3)).toThrow();
    const request = gm.network_set_config(gm.network_config_encryption_key, KEY);
    expect(gm.network_set_config(gm.network_config_encryption, gm.network_encryption_pair)).toBe(0);
    expect(gm.network_get_config(gm.network_config_encryption)).toBe(2);
    expect(await log.next({ type: gm.network_type_encryption, id: request }, 10_000)).toMatchObject({ succeeded: 1 });
  });
});

describe("pair-mode encryption: virtual TCP streams", () => {
  it("exchanges keys in-band, carries 1 B to 64 KiB in order both ways, and only the pair can open what the relay sees", async () => {
    await net.start();
    const recorded = recordKeyPairs();
    const { h, c, socket, connect, hostIp } = await streamPair([2, 2]);
    expect(await c.log.next({ type: c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    const peer = (await h.log.next({ type: h.gm.network_type_connect })).socket as number;
    const clientIp = parseIpv4((await c.log.next({ type: c.gm.network_type_up })).ip as string)!;
    const marker = new TextEncoder().encode("PAIR-PLAINTEXT-MARKER-THAT-MUST-NOT-LEAVE-THE-ENGINE");
    const sizes = [1, 2, 3, 16, 100, 1000, 4096, 16_384, 30_000, 65_535, 65_536, ...Array.from({ length: 9 }, (_, i) => 1 + ((i * 7919) % 65_536))];
    await echoedInOrder(h, peer, c, socket, markedMessages(sizes, marker));

    // On the wire: each end's first frame is its key frame, every later one version 3, no plaintext.
    const [connId] = connIds(c.frames);
    const fromClient = streamFrames(c.frames, connId!);
    const fromHost = streamFrames(h.frames, connId!);
    expect(KEY_MESSAGE(1, 0)(fromClient[0]!)).toBe(true);
    expect(KEY_MESSAGE(1, 0)(fromHost[0]!)).toBe(true);
    for (const frame of [...fromClient.slice(1), ...fromHost.slice(1)]) {
      expect(frame[0]).toBe(3);
      expect(frame.includes(Buffer.from(marker))).toBe(false);
    }
    const clientPublic = fromClient[0]!.subarray(3);
    const hostPublic = fromHost[0]!.subarray(3);

    // The oracle: node:crypto derives the pair key from the two public keys on the wire and the
    // client's private key, and opens every frame of both directions with it.
    const key = oraclePairKey(await privateKeyOf(recorded, clientPublic), clientPublic, clientIp, hostPublic, hostIp);
    const lo = connId! & 0xffff;
    const hi = connId! >>> 16;
    const opened = Buffer.concat(fromClient.slice(1).map((frame, i) => oracleOpen(key, frame, aad(3, 1, clientIp, BigInt(i + 1), lo, hi), 1)));
    expect(opened.includes(Buffer.from(marker))).toBe(true);
    expect(opened.length).toBeGreaterThan(sizes.reduce((sum, size) => sum + size, 0));
    const echoed = Buffer.concat(fromHost.slice(1).map((frame, i) => oracleOpen(key, frame, aad(3, 1, hostIp, BigInt(i + 1), lo, hi), 1)));
    expect(echoed.includes(Buffer.from(marker))).toBe(true);
    // The same derivation from the host's side gives the same key.
    expect(oraclePairKey(await privateKeyOf(recorded, hostPublic), hostPublic, hostIp, clientPublic, clientIp).equals(key)).toBe(true);

    // A third copy of the game knows the secret, hence the shared key: it opens none of the frames.
    for (const [i, frame] of fromClient.slice(1).entries()) {
      expect(() => oracleOpen(sharedKey, frame, aad(3, 1, clientIp, BigInt(i + 1), lo, hi), 1)).toThrow();
      expect(() => oracleOpen(sharedKey, frame, aad(1, 1, clientIp, BigInt(i + 1), lo, hi), 1)).toThrow();
    }

    // A second stream between the same engines has fresh key pairs and another key.
    const second = connect();
    expect(await c.log.next({ type: c.gm.network_type_non_blocking_connect, id: second })).toMatchObject({ succeeded: 1 });
    expect(sendBytes(c.gm, second, marker)).toBe(marker.length);
    expect(Buffer.from((await h.log.next({ type: h.gm.network_type_data })).bytes!).equals(Buffer.from(marker))).toBe(true);
    const connId2 = connIds(c.frames).find((id) => id !== connId)!;
    const client2 = streamFrames(c.frames, connId2);
    const host2 = streamFrames(h.frames, connId2);
    expect(KEY_MESSAGE(1, 0)(client2[0]!) && KEY_MESSAGE(1, 0)(host2[0]!)).toBe(true);
    expect(client2[0]!.subarray(3).equals(clientPublic)).toBe(false);
    expect(host2[0]!.subarray(3).equals(hostPublic)).toBe(false);
    const key2 = oraclePairKey(await privateKeyOf(recorded, client2[0]!.subarray(3)), client2[0]!.subarray(3), clientIp, host2[0]!.subarray(3), hostIp);
    expect(key2.equals(key)).toBe(false);
    const plain2 = Buffer.concat(client2.slice(1).map((frame, i) => oracleOpen(key2, frame, aad(3, 1, clientIp, BigInt(i + 1), connId2 & 0xffff, connId2 >>> 16), 1)));
    expect(plain2.includes(Buffer.from(marker))).toBe(true);
    expect(() => oracleOpen(key, client2[1]!, aad(3, 1, clientIp, 1n, connId2 & 0xffff, connId2 >>> 16), 1)).toThrow();
  });

  it("holds what the script sends before the exchange finishes, in order, and still sends it when the socket is closed at once", async () => {
    await net.start();
    const { h, c, socket } = await streamPair([2, 2], true, 6704);
    // Raw mode: the connect succeeds as soon as the server connects the pair, before the key frames.
    expect(await c.log.next({ type: c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    for (let i = 0; i < 5; i++) expect(sendBytes(c.gm, socket, new TextEncoder().encode(`early ${i};`), true)).toBe(8);
    c.gm.network_destroy(socket);
    let received = "";
    while (received.length < 40) received += text((await h.log.next({ type: h.gm.network_type_data })).bytes);
    expect(received).toBe("early 0;early 1;early 2;early 3;early 4;");
    expect(await h.log.next({ type: h.gm.network_type_disconnect })).toMatchObject({ error: "E_NETWORK_CLOSED" });
  });

  it("ends the stream with E_NETWORK_DECRYPT when one end is in pair mode and the other is not", async () => {
    await net.start();
    // Raw mode, the host in pair mode, the client shared: the client's first frame is no key frame.
    const one = await streamPair([2, 1], true, 6701);
    expect(await one.c.log.next({ type: one.c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    await one.h.log.next({ type: one.h.gm.network_type_connect });
    expect(sendBytes(one.c.gm, one.socket, new TextEncoder().encode("sealed with the shared key"), true)).toBe(26);
    expect(await one.h.log.next({ type: one.h.gm.network_type_disconnect })).toMatchObject({ id: one.server, error: "E_NETWORK_DECRYPT" });
    // The shared-mode client cannot open the host's key frame either.
    expect(await one.c.log.next({ type: one.c.gm.network_type_disconnect })).toMatchObject({ id: one.socket });
    expect(one.h.log.seen.filter((event) => event.type === one.h.gm.network_type_data)).toHaveLength(0);
    expect(one.c.log.seen.filter((event) => event.type === one.c.gm.network_type_data)).toHaveLength(0);

    // GameMaker mode, the client in pair mode, the host shared: the host's sealed greeting fails the connect.
    const two = await streamPair([1, 2], false, 6702);
    expect(await two.c.log.next({ type: two.c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 0, error: "E_NETWORK_DECRYPT" });

    // Raw mode, the host in pair mode, the client without encryption: its plaintext is refused.
    const three = await streamPair([2, 0], true, 6703);
    expect(await three.c.log.next({ type: three.c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    await three.h.log.next({ type: three.h.gm.network_type_connect });
    expect(sendBytes(three.c.gm, three.socket, new TextEncoder().encode("in the clear"), true)).toBe(12);
    expect(await three.h.log.next({ type: three.h.gm.network_type_disconnect })).toMatchObject({ id: three.server, error: "E_NETWORK_DECRYPT" });
    expect(three.h.log.seen.filter((event) => event.type === three.h.gm.network_type_data)).toHaveLength(0);
  });
});

describe("pair-mode encryption: app channels", () => {
  it("keeps the shared key for app channels (one-to-many)", async () => {
    await net.start();
    const [a, b] = await Promise.all([engine(2), engine(2)]);
    const [ida, idb] = [a.gm.network_channel_register("lobby"), b.gm.network_channel_register("lobby")];
    const channel = (await a.log.next({ type: a.gm.network_type_channel, id: ida })).channel as number;
    await b.log.next({ type: b.gm.network_type_channel, id: idb });
    const buffer = bufferOf(a.gm, "hello lobby");
    expect(a.gm.network_channel_send(channel, 5, buffer, 11)).toBe(11);
    a.gm.buffer_delete(buffer);
    expect(text((await b.log.next({ type: b.gm.network_type_channel_data, packet_type: 5 })).bytes)).toBe("hello lobby");
  });
});

describe("pair-mode encryption: UDP", () => {
  async function udpPeer(port: number) {
    const peer = await engine(2, false);
    const socket = peer.gm.network_create_socket_ext(peer.gm.network_socket_udp, port);
    const up = await peer.log.next({ type: peer.gm.network_type_up });
    return { ...peer, socket, port, ip: up.ip as string };
  }
  type UdpPeer = Awaited<ReturnType<typeof udpPeer>>;

  const sendUdp = (from: UdpPeer, to: UdpPeer, content: string | Uint8Array): number => {
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
    const buffer = bufferOf(from.gm, bytes);
    try {
      return from.gm.network_send_udp_raw(from.socket, to.ip, to.port, buffer, bytes.length);
    } finally {
      from.gm.buffer_delete(buffer);
    }
  };

  it("holds datagrams until the key datagrams are exchanged, then delivers them in order, sealed under the pair key", async () => {
    await net.start();
    const recorded = recordKeyPairs();
    const [a, b] = await Promise.all([udpPeer(7400), udpPeer(7401)]);
    const marker = "UDP-PAIR-PLAINTEXT-MARKER";
    // Sent at once: held until B's key is known, then sent in order.
    for (let i = 0; i < 20; i++) expect(sendUdp(a, b, `${marker} ${i}`)).toBe(`${marker} ${i}`.length);
    const big = pattern(65_507 - 37, 3);
    expect(sendUdp(a, b, big)).toBe(big.length);
    for (let i = 0; i < 20; i++) {
      const got = await b.log.next({ type: b.gm.network_type_data });
      expect(got).toMatchObject({ ip: a.ip, port: a.port, via: "relay" });
      expect(text(got.bytes)).toBe(`${marker} ${i}`);
    }
    expect(Buffer.from((await b.log.next({ type: b.gm.network_type_data })).bytes!).equals(Buffer.from(big))).toBe(true);
    for (let i = 0; i < 10; i++) expect(sendUdp(b, a, `reply ${i}`)).toBe(`reply ${i}`.length);
    for (let i = 0; i < 10; i++) expect(text((await a.log.next({ type: a.gm.network_type_data })).bytes)).toBe(`reply ${i}`);
    expect(a.gm.network_get_stats(-1)).toMatchObject({ decrypt_failures: 0, replays_dropped: 0 });
    expect(b.gm.network_get_stats(-1)).toMatchObject({ decrypt_failures: 0, replays_dropped: 0 });

    // On the wire: A's first datagram is its key datagram asking for an answer, B's the answer;
    // the rest are version 3 and carry no plaintext.
    const datagrams = (frames: Frames) => frames.filter((frame) => frame.type === VSocketType.DATAGRAM).map((frame) => Datagram.decode(frame.payload));
    const fromA = datagrams(a.frames);
    const fromB = datagrams(b.frames);
    expect(KEY_MESSAGE(2, 1)(Buffer.from(fromA[0]!.data))).toBe(true);
    expect(fromB.some((datagram) => KEY_MESSAGE(2, 0)(Buffer.from(datagram.data)))).toBe(true);
    const sealedFromA = fromA.map((datagram) => Buffer.from(datagram.data)).filter((data) => data[0] !== 2);
    expect(sealedFromA).toHaveLength(21);
    for (const data of sealedFromA) {
      expect(data[0]).toBe(3);
      expect(data.includes(Buffer.from(marker))).toBe(false);
    }
    const aPublic = Buffer.from(fromA[0]!.data).subarray(3);
    const bPublic = Buffer.from(fromB.find((datagram) => datagram.data[0] === 2)!.data).subarray(3);
    const aIp = parseIpv4(a.ip)!;
    const bIp = parseIpv4(b.ip)!;
    const key = oraclePairKey(await privateKeyOf(recorded, aPublic), aPublic, aIp, bPublic, bIp);
    const first = sealedFromA[0]!;
    const seq = first.readBigUInt64LE(1);
    expect(oracleOpen(key, first, aad(3, 2, aIp, seq, a.port, b.port), 9).toString()).toBe(`${marker} 0`);
    // The shared key (every copy of the game has it) does not open it.
    expect(() => oracleOpen(sharedKey, first, aad(3, 2, aIp, seq, a.port, b.port), 9)).toThrow();
    expect(() => oracleOpen(sharedKey, first, aad(1, 2, aIp, seq, a.port, b.port), 9)).toThrow();
  });

  it("keeps the shared key for broadcasts (one-to-many)", async () => {
    await net.start();
    const [a, b] = await Promise.all([udpPeer(7410), udpPeer(7411)]);
    await broadcastArrives(a, b);
    const sent = a.frames.filter((frame) => frame.type === VSocketType.BROADCAST);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.payload.includes(Buffer.from("to everyone"))).toBe(false);
  });
});
