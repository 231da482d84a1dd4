/**
 * What the encryption tests check the engine against, written from PROTOCOL.md §18 with
 * node:crypto (the independent oracle), and the small helpers both test files use.
 */
import { pbkdf2Sync } from "node:crypto";
import { afterEach, expect } from "vitest";
import type { Engine } from "../../src/index.js";
import { type EventLog, type TestNetwork, bufferOf, startNetwork, text } from "./support.js";

/** The app key and the shared secret of both suites' engines. */
export const APP = "test-app";
export const KEY = "correct horse battery staple";

/**
 * The running test's network, started by start() (a test that needs none starts none); after the
 * test, what was given to onCleanup() runs, then the network closes.
 */
export function useTestNetwork() {
  let network: TestNetwork | undefined;
  const cleanups: Array<() => void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    await network?.close();
    network = undefined;
  });
  return {
    async start(): Promise<TestNetwork> {
      network = await startNetwork();
      return network;
    },
    get current(): TestNetwork {
      if (network === undefined) throw new Error("the test has not started its network");
      return network;
    },
    onCleanup(cleanup: () => void): void {
      cleanups.push(cleanup);
    },
  };
}

/** The shared-mode key, as node:crypto derives it from the documented parameters. */
export const oracleKey = (secret: string, appKey: string): Buffer => pbkdf2Sync(secret, `gmnet-e2e-v1:${appKey}`, 100_000, 32, "sha256");

/** The documented 18 bytes of additional data. */
export function aad(version: number, kind: number, senderIp: number, seq: bigint, a: number, b: number): Buffer {
  const out = Buffer.alloc(18);
  out[0] = version;
  out[1] = kind;
  out.writeUInt32LE(senderIp >>> 0, 2);
  out.writeBigUInt64LE(seq, 6);
  out.writeUInt16LE(a, 14);
  out.writeUInt16LE(b, 16);
  return out;
}

/** `size` bytes that differ with `seed` (a linear congruential sequence), so a lost or moved byte shows. */
export function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Sends `bytes` on a stream socket as a packet (or raw). */
export function sendBytes(gm: Engine, socket: number, bytes: Uint8Array, raw = false): number {
  const buffer = bufferOf(gm, bytes);
  try {
    return raw ? gm.network_send_raw(socket, buffer, bytes.length) : gm.network_send_packet(socket, buffer, bytes.length);
  } finally {
    gm.buffer_delete(buffer);
  }
}

/** `pattern` messages of `sizes` (seeded by their index), each long enough one starting with `marker`, so plaintext on the wire shows. */
export function markedMessages(sizes: readonly number[], marker: Uint8Array): Uint8Array[] {
  return sizes.map((size, i) => {
    const bytes = pattern(size, i);
    if (size >= marker.length) bytes.set(marker, 0);
    return bytes;
  });
}

interface StreamEnd {
  gm: Engine;
  log: EventLog;
}

/**
 * The client sends `messages` on `socket`; each arrives whole and in order at the host, whose
 * `peer` socket echoes it at once (so the other direction carries them too), and each echo
 * comes back to the client in order.
 */
export async function echoedInOrder(host: StreamEnd, peer: number, client: StreamEnd, socket: number, messages: readonly Uint8Array[]): Promise<void> {
  for (const message of messages) expect(sendBytes(client.gm, socket, message)).toBe(message.length);
  for (const [i, message] of messages.entries()) {
    const got = await host.log.next({ type: host.gm.network_type_data });
    expect(got.size, `message ${i}`).toBe(message.length);
    expect(Buffer.from(got.bytes!).equals(Buffer.from(message)), `message ${i}`).toBe(true);
    expect(sendBytes(host.gm, peer, got.bytes!)).toBe(message.length);
  }
  for (const [i, message] of messages.entries()) {
    const got = await client.log.next({ type: client.gm.network_type_data });
    expect(Buffer.from(got.bytes!).equals(Buffer.from(message)), `echo ${i}`).toBe(true);
  }
}

interface UdpEnd extends StreamEnd {
  socket: number;
  port: number;
  ip: string;
}

/**
 * Datagrams from `from` to `to` until one arrives: then `to`'s binding is in place, on its node
 * too. With several nodes the binding is announced to the others asynchronously (no answer tells
 * the binder), so a broadcast sent at once could meet a node that does not know of it yet — as a
 * datagram may be lost; each send waits for the next event, no fixed sleeps.
 */
export async function udpReachable(from: UdpEnd, to: UdpEnd, maxSends = 100): Promise<void> {
  const buffer = bufferOf(from.gm, "ready?");
  try {
    for (let i = 0; i < maxSends; i++) {
      expect(from.gm.network_send_udp(from.socket, to.ip, to.port, buffer, 6)).toBe(6);
      const arrived = await to.log.next((event) => event.type === to.gm.network_type_data && text(event.bytes) === "ready?", 100).catch(() => undefined);
      if (arrived !== undefined) return;
    }
    throw new Error(`no datagram reached ${to.ip}:${to.port} in ${maxSends} sends`);
  } finally {
    from.gm.buffer_delete(buffer);
  }
}

/** `from` broadcasts "to everyone" to `to`'s port (once `to` is reachable), and `to` gets it from `from`'s address and port. */
export async function broadcastArrives(from: UdpEnd, to: UdpEnd): Promise<void> {
  await udpReachable(from, to);
  const buffer = bufferOf(from.gm, "to everyone");
  expect(from.gm.network_send_broadcast(from.socket, to.port, buffer, 11)).toBe(11);
  from.gm.buffer_delete(buffer);
  const got = await to.log.next((event) => event.type === to.gm.network_type_data && text(event.bytes) === "to everyone");
  expect(got).toMatchObject({ ip: from.ip, port: from.port, size: 11 });
  expect(text(got.bytes)).toBe("to everyone");
}
