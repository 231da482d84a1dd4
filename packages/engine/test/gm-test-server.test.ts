/**
 * The GameMaker test server (test/support/gm-test-server.ts) checked on its own, with a plain
 * `ws` client doing the handshake by hand from hex fixtures, so later integration tests can trust it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { packet } from "../../../signaling-server/test/support/gm-native.js";
import { type GmTestServer, type GmTestServerOptions, startGmTestServer } from "./support/gm-test-server.js";

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
const fromHex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ""), "hex");

const GREETING_HEX = "47 4d 3a 53 74 75 64 69 6f 2d 43 6f 6e 6e 65 63 74 00";
const CLIENT_REPLY_HEX = "be ba fe ca 0b b0 ad de 10 00 00 00 00 00 00 00";
const SERVER_REPLY_HEX = "ad be af de eb be 0d f0 0c 00 00 00";
const PACKET_010203_HEX = "de c0 ad de 0c 00 00 00 03 00 00 00 01 02 03";

interface Message {
  bytes: Buffer;
  binary: boolean;
}

/** A plain ws client whose messages are read as a queue of promises. */
interface Client {
  ws: WebSocket;
  next(): Promise<Message>;
  closed: Promise<{ code: number; reason: string }>;
}

const servers: GmTestServer[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options?: GmTestServerOptions): Promise<GmTestServer> {
  const server = await startGmTestServer(options);
  servers.push(server);
  return server;
}

async function connect(url: string): Promise<Client> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const queue: Message[] = [];
  const waiting: ((m: Message) => void)[] = [];
  ws.on("message", (data, binary) => {
    const message = { bytes: Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), binary };
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    ws,
    next: () => {
      const message = queue.shift();
      return message ? Promise.resolve(message) : new Promise((resolve) => waiting.push(resolve));
    },
    closed,
  };
}

/** Connects and completes the GameMaker handshake by hand. */
async function handshake(server: GmTestServer): Promise<Client> {
  const client = await connect(server.url);
  expect(hex((await client.next()).bytes)).toBe(GREETING_HEX);
  client.ws.send(fromHex(CLIENT_REPLY_HEX));
  const reply = await client.next();
  expect(reply.binary).toBe(true);
  expect(hex(reply.bytes)).toBe(SERVER_REPLY_HEX);
  return client;
}

describe("gm test server: non-raw", () => {
  it("listens on 127.0.0.1 on a free port", async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`);
    expect(server.connections).toBe(0);
  });

  it("does the handshake, records a packet's payload and echoes it as a packet", async () => {
    const server = await start();
    const client = await handshake(server);
    await server.waitForConnections(1);
    expect(server.connections).toBe(1);
    expect(await server.nextEvent()).toEqual({ type: "connection", id: 1 });

    client.ws.send(fromHex(PACKET_010203_HEX));
    expect(hex(await server.nextPayload())).toBe("01 02 03");
    const echo = await client.next();
    expect(echo.binary).toBe(true);
    expect(hex(echo.bytes)).toBe(PACKET_010203_HEX);
    expect(server.received.map(hex)).toEqual(["01 02 03"]);
    expect(await server.nextEvent("payload")).toEqual({ type: "payload", id: 1, payload: Uint8Array.from([1, 2, 3]), text: false });
  });

  it("reads a handshake and packets split across messages and glued together", async () => {
    const server = await start();
    const client = await connect(server.url);
    await client.next();
    client.ws.send(fromHex("be ba fe ca 0b b0"));
    client.ws.send(fromHex("ad de 10 00 00 00 2a 00 00 00 de c0 ad de"));
    expect(hex((await client.next()).bytes)).toBe(SERVER_REPLY_HEX);
    client.ws.send(fromHex("0c 00 00 00 02 00 00 00 aa"));
    client.ws.send(fromHex(`bb ${PACKET_010203_HEX} de c0 ad de 0c 00 00 00 00 00 00 00`));
    expect(hex(await server.nextPayload())).toBe("aa bb");
    expect(hex(await server.nextPayload())).toBe("01 02 03");
    expect(hex(await server.nextPayload())).toBe("");
    expect(hex((await client.next()).bytes)).toBe("de c0 ad de 0c 00 00 00 02 00 00 00 aa bb");
    expect(hex((await client.next()).bytes)).toBe(PACKET_010203_HEX);
    expect(hex((await client.next()).bytes)).toBe("de c0 ad de 0c 00 00 00 00 00 00 00");
  });

  it("closes a client with a wrong handshake reply with 1002", async () => {
    const server = await start();
    const client = await connect(server.url);
    await client.next();
    client.ws.send(fromHex("be ba fe ca 0b b0 ad de 0c 00 00 00 00 00 00 00"));
    expect((await client.closed).code).toBe(1002);
    const failed = await server.nextEvent("handshake-failed");
    expect(hex(failed.bytes)).toBe("be ba fe ca 0b b0 ad de 0c 00 00 00 00 00 00 00");
    expect(await server.nextEvent()).toEqual({ type: "close", id: 1, code: 1002 });
    expect(server.connections).toBe(0);
  });

  it("reports a message without a header as malformed and decodes the next message", async () => {
    const server = await start();
    const client = await handshake(server);
    client.ws.send(Buffer.from("hello"));
    const malformed = await server.nextEvent("malformed");
    expect(hex(malformed.bytes)).toBe("68 65 6c 6c 6f");
    client.ws.send(fromHex(PACKET_010203_HEX));
    expect(hex(await server.nextPayload())).toBe("01 02 03");
  });

  it("can glue a first packet to the handshake reply", async () => {
    const server = await start({ welcomePayload: fromHex("0a 0b") });
    const client = await connect(server.url);
    await client.next();
    client.ws.send(fromHex(CLIENT_REPLY_HEX));
    expect(hex((await client.next()).bytes)).toBe(`${SERVER_REPLY_HEX} de c0 ad de 0c 00 00 00 02 00 00 00 0a 0b`);
  });

  it("can play a wrong server", async () => {
    const server = await start({ greeting: Buffer.from("nope"), serverReply: fromHex("00") });
    const client = await connect(server.url);
    expect((await client.next()).bytes.toString()).toBe("nope");
    client.ws.send(fromHex(CLIENT_REPLY_HEX));
    expect(hex((await client.next()).bytes)).toBe("00");
  });

  it("sends a packet or unframed bytes to every connected client, or to one", async () => {
    const server = await start({ echo: false });
    const a = await handshake(server);
    const b = await handshake(server);
    await server.waitForConnections(2);
    expect(server.sendPacket(fromHex("01 02 03"))).toBe(2);
    expect(hex((await a.next()).bytes)).toBe(PACKET_010203_HEX);
    expect(hex((await b.next()).bytes)).toBe(PACKET_010203_HEX);
    expect(server.sendBytes(fromHex("ff"), 2)).toBe(1);
    expect(hex((await b.next()).bytes)).toBe("ff");
    expect(server.sendBytes("text")).toBe(2);
    expect(await a.next()).toEqual({ bytes: Buffer.from("text"), binary: false });
  });

  it("does not echo when echo is off", async () => {
    const server = await start({ echo: false });
    const client = await handshake(server);
    client.ws.send(fromHex(PACKET_010203_HEX));
    await server.nextPayload();
    server.sendBytes(fromHex("99"));
    // The first message after the packet is the marker, not an echo.
    expect(hex((await client.next()).bytes)).toBe("99");
  });

  it("closes every client with a close frame, or drops them", async () => {
    const server = await start();
    const a = await handshake(server);
    const b = await handshake(server);
    await server.waitForConnections(2);
    await server.closeAll(4000, "bye");
    expect(await a.closed).toEqual({ code: 4000, reason: "bye" });
    expect(await b.closed).toEqual({ code: 4000, reason: "bye" });
    expect(server.connections).toBe(0);
    expect(server.events.filter((e) => e.type === "close").map((e) => e.id).sort()).toEqual([1, 2]);

    const c = await handshake(server);
    await server.waitForConnections(1);
    await server.terminateAll();
    expect((await c.closed).code).toBe(1006);
    expect(server.connections).toBe(0);
  });

  it("closes a client announcing a packet over maxPacketSize with 1009", async () => {
    const server = await start({ maxPacketSize: 2 });
    const client = await handshake(server);
    client.ws.send(packet(fromHex("01 02 03")));
    expect((await client.closed).code).toBe(1009);
  });

  it("rejects pending waits when closed", async () => {
    const server = await startGmTestServer();
    const pending = server.nextPayload();
    const connections = server.waitForConnections(1);
    await server.close();
    await expect(pending).rejects.toThrow(/closed/);
    await expect(connections).rejects.toThrow(/closed/);
  });
});

describe("gm test server: raw", () => {
  it("sends no greeting and echoes binary as binary and text as text", async () => {
    const server = await start({ raw: true });
    const client = await connect(server.url);
    await server.waitForConnections(1);
    client.ws.send(fromHex("01 02 03"));
    expect(await client.next()).toEqual({ bytes: fromHex("01 02 03"), binary: true });
    client.ws.send("hello");
    expect(await client.next()).toEqual({ bytes: Buffer.from("hello"), binary: false });
    expect(server.received.map(hex)).toEqual(["01 02 03", "68 65 6c 6c 6f"]);
    expect(await server.nextEvent("payload")).toMatchObject({ text: false });
    expect(await server.nextEvent("payload")).toMatchObject({ text: true });
  });

  it("sends packets as plain binary messages", async () => {
    const server = await start({ raw: true });
    const client = await connect(server.url);
    await server.waitForConnections(1);
    expect(server.sendPacket(fromHex("01 02"))).toBe(1);
    expect(await client.next()).toEqual({ bytes: fromHex("01 02"), binary: true });
  });
});
