/**
 * A GameMaker-style WebSocket server for integration tests. It is written from the documented
 * wire format with Node Buffers (its constants from the bridge tests' gm-native.ts, written the
 * same way) and deliberately does NOT import src/network/wire/gm-wire.ts, so the codec is checked
 * against an independent implementation rather than against itself.
 *
 * Non-raw mode (the default), per connection:
 *   send "GM:Studio-Connect\0"; read 16 bytes and check the first 12 (0xCAFEBABE, 0xDEADB00B, 16),
 *   closing with 1002 if wrong; send 0xDEAFBEAD 0xF00DBEEB 12; then read packets
 *   (0xDEADC0DE, 12, length, payload) across messages and echo each payload back as a packet.
 * Raw mode: every message is echoed as it is (binary stays binary, text stays text).
 *
 * Tests wait with promises (nextPayload, nextEvent, waitForConnections), never with sleeps; the
 * server listens on 127.0.0.1 port 0, so parallel test files never collide.
 */
import type { AddressInfo } from "node:net";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { CLIENT_REPLY, CLIENT_REPLY_PREFIX, GREETING, PACKET_HEADER_SIZE, PACKET_MAGIC, SERVER_CONFIRM, packet } from "../../../../signaling-server/test/support/gm-native.js";

/** The client's reply: the 12 bytes the server checks, then a game id it does not check. */
const CLIENT_REPLY_SIZE = CLIENT_REPLY.length;

export interface GmTestServerOptions {
  /** Raw mode: no handshake, no framing, every message echoed as is. Default false. */
  raw?: boolean;
  /** Echo what is received. Default true. */
  echo?: boolean;
  /** Replace the step-1 greeting (to test a client against a wrong server). */
  greeting?: Uint8Array;
  /** Replace the step-3 reply (to test a client against a wrong server). */
  serverReply?: Uint8Array;
  /** Non-raw: send this payload as a packet glued to the step-3 reply, in the same message. */
  welcomePayload?: Uint8Array;
  /** Non-raw: a header announcing a larger payload closes the socket with 1009. Default 16 MiB. */
  maxPacketSize?: number;
}

export type GmTestServerEvent =
  /** Non-raw: the client's handshake reply was verified. Raw: the socket opened. */
  | { type: "connection"; id: number }
  /** The client's handshake reply was wrong; the socket is closed with 1002. */
  | { type: "handshake-failed"; id: number; bytes: Uint8Array }
  /** Non-raw: one packet's payload. Raw: one message (`text` tells a text message from a binary one). */
  | { type: "payload"; id: number; payload: Uint8Array; text: boolean }
  /** Non-raw: bytes that do not start with a packet header (the rest of what was buffered, dropped). */
  | { type: "malformed"; id: number; bytes: Uint8Array }
  | { type: "close"; id: number; code: number };

export interface GmTestServer {
  /** ws://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Open connections past the handshake (raw: open connections). */
  readonly connections: number;
  /** Every payload received, in arrival order, from all clients. */
  readonly received: Uint8Array[];
  /** Everything that happened, in order. */
  readonly events: GmTestServerEvent[];
  /** The next received payload not yet returned by nextPayload (a queue over `received`). */
  nextPayload(): Promise<Uint8Array>;
  /**
   * The next event not yet returned by nextEvent (a queue over `events`). With `type`, events of
   * other types before the match are skipped (consumed).
   */
  nextEvent<T extends GmTestServerEvent["type"]>(type?: T): Promise<Extract<GmTestServerEvent, { type: T }>>;
  /** Resolves once at least `count` connections are open. */
  waitForConnections(count: number): Promise<void>;
  /** Sends `payload` as one packet (raw: as one binary message) to every connected client, or to client `to`. Returns how many got it. */
  sendPacket(payload: Uint8Array, to?: number): number;
  /** Sends one message with no framing (a string goes as a text message) to every connected client, or to client `to`. */
  sendBytes(data: Uint8Array | string, to?: number): number;
  /** Closes every client with a close frame; resolves when the server has seen each close. */
  closeAll(code?: number, reason?: string): Promise<void>;
  /** Drops every client without a close frame (like a lost TCP connection); resolves when closed. */
  terminateAll(): Promise<void>;
  /** Terminates every client and stops listening; pending waits reject. */
  close(): Promise<void>;
}

/** A list read as a queue by promises: items stay in `items`, `next()` walks a cursor over them. */
class Feed<T> {
  readonly items: T[] = [];
  private cursor = 0;
  private waiters: { accept: (item: T) => boolean; resolve: (item: T) => void; reject: (error: Error) => void }[] = [];
  private closed: Error | undefined;

  push(item: T): void {
    this.items.push(item);
    const waiter = this.waiters[0];
    if (!waiter) return;
    this.cursor++;
    if (waiter.accept(item)) {
      this.waiters.shift();
      waiter.resolve(item);
    }
  }

  next(accept: (item: T) => boolean = () => true): Promise<T> {
    if (this.waiters.length === 0) {
      while (this.cursor < this.items.length) {
        const item = this.items[this.cursor++]!;
        if (accept(item)) return Promise.resolve(item);
      }
    }
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => this.waiters.push({ accept, resolve, reject }));
  }

  close(error: Error): void {
    this.closed = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

interface Client {
  id: number;
  socket: WebSocket;
  /** Past the handshake (raw: always). */
  ready: boolean;
  /** Refused (bad handshake, too large): being closed, later messages are ignored. */
  refused: boolean;
  /** Bytes received and not yet parsed. */
  pending: Buffer;
  closed: Promise<void>;
}

export async function startGmTestServer(options: GmTestServerOptions = {}): Promise<GmTestServer> {
  const raw = options.raw ?? false;
  const echo = options.echo ?? true;
  const greeting = options.greeting ? Buffer.from(options.greeting) : GREETING;
  const serverReply = options.serverReply ? Buffer.from(options.serverReply) : SERVER_CONFIRM;
  const maxPacketSize = options.maxPacketSize ?? 16 * 1024 * 1024;

  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  const port = (wss.address() as AddressInfo).port;

  const clients = new Map<number, Client>();
  const payloads = new Feed<Uint8Array>();
  const events = new Feed<GmTestServerEvent>();
  const connectionWaiters: { count: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  let nextId = 1;
  let connections = 0;

  const record = (event: GmTestServerEvent): void => {
    if (event.type === "payload") payloads.push(event.payload);
    events.push(event);
    for (const waiter of [...connectionWaiters]) {
      if (connections >= waiter.count) {
        connectionWaiters.splice(connectionWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };

  const refuse = (client: Client, code: number, reason: string): void => {
    client.refused = true;
    client.pending = Buffer.alloc(0);
    client.socket.close(code, reason);
  };

  const becomeReady = (client: Client): void => {
    client.ready = true;
    connections++;
    record({ type: "connection", id: client.id });
  };

  /** Non-raw: consume the 16-byte handshake reply; returns false if the client was refused. */
  const readHandshake = (client: Client): boolean => {
    const checked = Math.min(client.pending.length, CLIENT_REPLY_PREFIX.length);
    if (!client.pending.subarray(0, checked).equals(CLIENT_REPLY_PREFIX.subarray(0, checked))) {
      record({ type: "handshake-failed", id: client.id, bytes: Uint8Array.from(client.pending) });
      refuse(client, 1002, "bad GameMaker handshake");
      return false;
    }
    if (client.pending.length < CLIENT_REPLY_SIZE) return false;
    client.pending = client.pending.subarray(CLIENT_REPLY_SIZE);
    const welcome = options.welcomePayload ? Buffer.concat([serverReply, packet(options.welcomePayload)]) : serverReply;
    client.socket.send(welcome, { binary: true });
    becomeReady(client);
    return true;
  };

  /** Non-raw: take every whole packet off `pending`. */
  const readPackets = (client: Client): void => {
    for (;;) {
      const p = client.pending;
      const badMagic = p.length >= 4 && p.readUInt32LE(0) !== PACKET_MAGIC;
      const badHeaderSize = p.length >= 8 && p.readUInt32LE(4) !== PACKET_HEADER_SIZE;
      if (badMagic || badHeaderSize) {
        // Like GameMaker: the rest is one raw buffer; the next message starts afresh.
        record({ type: "malformed", id: client.id, bytes: Uint8Array.from(p) });
        client.pending = Buffer.alloc(0);
        return;
      }
      if (p.length < PACKET_HEADER_SIZE) return;
      const length = p.readUInt32LE(8);
      if (length > maxPacketSize) {
        refuse(client, 1009, "packet too large");
        return;
      }
      if (p.length < PACKET_HEADER_SIZE + length) return;
      const payload = Uint8Array.from(p.subarray(PACKET_HEADER_SIZE, PACKET_HEADER_SIZE + length));
      client.pending = p.subarray(PACKET_HEADER_SIZE + length);
      record({ type: "payload", id: client.id, payload, text: false });
      if (echo) client.socket.send(packet(payload), { binary: true });
    }
  };

  wss.on("connection", (socket) => {
    const id = nextId++;
    let onClosed!: () => void;
    const client: Client = { id, socket, ready: false, refused: false, pending: Buffer.alloc(0), closed: new Promise((resolve) => (onClosed = resolve)) };
    clients.set(id, client);

    socket.on("close", (code) => {
      clients.delete(id);
      if (client.ready) connections--;
      record({ type: "close", id, code });
      onClosed();
    });
    socket.on("error", () => {
      // A broken client shows up as its close event; nothing else to do in a test server.
    });
    socket.on("message", (data, isBinary) => {
      if (client.refused) return;
      const bytes = toBuffer(data);
      if (raw) {
        record({ type: "payload", id, payload: Uint8Array.from(bytes), text: !isBinary });
        if (echo) socket.send(bytes, { binary: isBinary });
        return;
      }
      client.pending = client.pending.length === 0 ? bytes : Buffer.concat([client.pending, bytes]);
      if (!client.ready && !readHandshake(client)) return;
      readPackets(client);
    });

    if (raw) becomeReady(client);
    else socket.send(greeting, { binary: true });
  });

  const targets = (to: number | undefined): Client[] => [...clients.values()].filter((c) => c.ready && (to === undefined || c.id === to));

  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    received: payloads.items,
    events: events.items,
    nextPayload: () => payloads.next(),
    nextEvent: <T extends GmTestServerEvent["type"]>(type?: T) =>
      events.next((e) => type === undefined || e.type === type) as Promise<Extract<GmTestServerEvent, { type: T }>>,
    waitForConnections(count) {
      if (connections >= count) return Promise.resolve();
      return new Promise((resolve, reject) => connectionWaiters.push({ count, resolve, reject }));
    },
    sendPacket(payload, to) {
      const message = raw ? Buffer.from(payload) : packet(payload);
      const list = targets(to);
      for (const c of list) c.socket.send(message, { binary: true });
      return list.length;
    },
    sendBytes(data, to) {
      const list = targets(to);
      for (const c of list) c.socket.send(typeof data === "string" ? data : Buffer.from(data), { binary: typeof data !== "string" });
      return list.length;
    },
    async closeAll(code = 1000, reason = "") {
      const list = [...clients.values()];
      for (const c of list) c.socket.close(code, reason);
      await Promise.all(list.map((c) => c.closed));
    },
    async terminateAll() {
      const list = [...clients.values()];
      for (const c of list) c.socket.terminate();
      await Promise.all(list.map((c) => c.closed));
    },
    async close() {
      const list = [...clients.values()];
      for (const c of list) c.socket.terminate();
      await Promise.all(list.map((c) => c.closed));
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
      const closed = new Error("GM test server closed");
      payloads.close(closed);
      events.close(closed);
      for (const waiter of connectionWaiters.splice(0)) waiter.reject(closed);
    },
  };
}
