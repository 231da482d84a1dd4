/**
 * GameMaker's TCP wire format, written here from the documented format (not the engine's codec,
 * packages/engine/src/network/wire, so the tests check one against the other), and a native
 * GameMaker endpoint over node:net. Free of vitest: the e2e specs use it too.
 *
 * Handshake: the server greets with "GM:Studio-Connect\0"; the client answers 0xCAFEBABE
 * 0xDEADB00B 16 <game id>; the server confirms with 0xDEAFBEAD 0xF00DBEEB 12. Every packet after
 * that is a 12-byte header 0xDEADC0DE 12 <payload size> (u32 little-endian) and the payload.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { type Socket, connect } from "node:net";

/** Little-endian u32s, as every GameMaker header field is. */
export function u32s(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => out.writeUInt32LE(value >>> 0, i * 4));
  return out;
}

/** Handshake step 1 (server → client). */
export const GREETING = Buffer.from("GM:Studio-Connect\0", "latin1");
/** Handshake step 2 (client → server), the part a GameMaker server checks: 0xCAFEBABE 0xDEADB00B 16; a 4th u32 (game id) follows. */
export const CLIENT_REPLY_PREFIX = u32s(0xcafebabe, 0xdeadb00b, 16);
/** Handshake step 2 (client → server): 0xCAFEBABE 0xDEADB00B 16 <game id 0>. */
export const CLIENT_REPLY = Buffer.concat([CLIENT_REPLY_PREFIX, u32s(0)]);
/** Handshake step 3 (server → client): 0xDEAFBEAD 0xF00DBEEB 12. */
export const SERVER_CONFIRM = u32s(0xdeafbead, 0xf00dbeeb, 12);
/** A packet header's first u32. */
export const PACKET_MAGIC = 0xdeadc0de;
/** A packet header's size, its second u32. */
export const PACKET_HEADER_SIZE = 12;

/** One GameMaker packet: its header and `payload`. */
export function packet(payload: Uint8Array): Buffer {
  return Buffer.concat([u32s(PACKET_MAGIC, PACKET_HEADER_SIZE, payload.length), payload]);
}

/** Deterministic numbers in [0, 1) (bytes, split points), so a failure reproduces. */
export function pseudoRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** `size` deterministic bytes. */
export function pattern(size: number, seed: number): Buffer {
  const random = pseudoRandom(seed);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** Waits for a condition that events make true (no sleeping), failing after `timeoutMs`. */
export class Waiters {
  private list: Array<() => void> = [];

  wake(): void {
    for (const waiter of this.list.splice(0)) waiter();
  }

  async until(done: () => boolean, what: string | (() => string), timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()} (${timeoutMs} ms)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.list.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/**
 * A native GameMaker endpoint's byte stream over TCP (or TLS, a TLSSocket being a Socket): a
 * client, or a connection a native server accepted. Every byte received is kept, and reads wait
 * until enough has arrived.
 */
export class NativeStream {
  private received = Buffer.alloc(0);
  private readonly waiters = new Waiters();
  /** The other side ended its half, or the connection closed. */
  ended = false;
  /** The socket's error, if it had one. */
  error: (Error & { code?: string }) | undefined;
  /** Resolves once the socket closed. */
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.waiters.wake();
    });
    socket.on("error", (error) => {
      this.error = error;
      this.waiters.wake();
    });
    socket.on("end", () => {
      this.ended = true;
      this.waiters.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.ended = true;
        this.waiters.wake();
        resolve();
      }),
    );
  }

  /** A plain TCP client of 127.0.0.1:`port`, once connected. */
  static connect(port: number): Promise<NativeStream> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        socket.setNoDelay(true);
        resolve(new NativeStream(socket));
      });
    });
  }

  /** Bytes received and not read yet. */
  get pending(): number {
    return this.received.length;
  }

  /** Exactly `count` bytes, once they arrived; fails if the connection ends first. */
  async read(count: number, timeoutMs = 10_000): Promise<Buffer> {
    await this.waiters.until(() => this.received.length >= count || this.ended, () => `${count} bytes (${this.received.length} held)`, timeoutMs);
    if (this.received.length < count) throw new Error(`connection ended after ${this.received.length} of ${count} bytes`);
    const out = Buffer.from(this.received.subarray(0, count));
    this.received = this.received.subarray(count);
    return out;
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (error) => (error ? reject(error) : resolve())));
  }

  /** Writes `bytes` cut at the given sizes, each piece on its own once the previous one left. */
  async writeSplit(bytes: Buffer, sizes: () => number): Promise<void> {
    for (let at = 0; at < bytes.length; ) {
      const size = Math.max(1, Math.min(bytes.length - at, sizes()));
      await this.write(bytes.subarray(at, at + size));
      at += size;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The client's side of GameMaker's handshake; the reply byte by byte when `split`. */
  async handshake(split = false): Promise<void> {
    deepStrictEqual(await this.read(GREETING.length), GREETING, "the greeting");
    if (split) await this.writeSplit(CLIENT_REPLY, () => 1);
    else await this.write(CLIENT_REPLY);
    deepStrictEqual(await this.read(SERVER_CONFIRM.length), SERVER_CONFIRM, "the confirmation");
  }

  /** The server's side of GameMaker's handshake: greeting, the client's 16-byte reply, the 12-byte confirm; gives the game id. */
  async serverHandshake(): Promise<number> {
    await this.write(GREETING);
    const reply = await this.read(16);
    deepStrictEqual(reply.subarray(0, 12), CLIENT_REPLY_PREFIX, "the client's handshake reply");
    await this.write(SERVER_CONFIRM);
    return reply.readUInt32LE(12);
  }

  /** The next packet's payload. */
  async readPacket(timeoutMs = 10_000): Promise<Buffer> {
    const header = await this.read(PACKET_HEADER_SIZE, timeoutMs);
    strictEqual(header.readUInt32LE(0), PACKET_MAGIC, "packet magic");
    strictEqual(header.readUInt32LE(4), PACKET_HEADER_SIZE, "header size");
    return this.read(header.readUInt32LE(8), timeoutMs);
  }

  /** Resolves once the other side ended the connection, with the count of bytes received and not read. */
  async endedByOtherSide(timeoutMs = 10_000): Promise<number> {
    await this.waiters.until(() => this.ended, "the other side to end the connection", timeoutMs);
    return this.received.length;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
