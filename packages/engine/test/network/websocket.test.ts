/**
 * ws / wss sockets against real WebSocket servers: GameMaker's wire format against an
 * independent test server written from the documented format (test/support/gm-test-server.ts),
 * raw binary and text messages, and the failures a game must see as events.
 */
import { type AddressInfo, type Socket, createServer as createTcpServer } from "node:net";
import { WebSocket } from "ws";
import { describe, expect, it } from "vitest";
import { webSocketUrl } from "../../src/network/stream-connect.js";
import { type Engine, createEngine, createMemoryStorage } from "../../src/index.js";
import { useCleanup } from "../../../../signaling-server/test/support/cleanup.js";
import { freePort } from "../../../../signaling-server/test/support/free-port.js";
import { type GmTestServer, startGmTestServer } from "../support/gm-test-server.js";
import { EventLog, bufferOf, text } from "./support.js";

const afterTest = useCleanup();

function engine(): { gm: Engine; log: EventLog } {
  const gm = createEngine({ storage: createMemoryStorage(), network: { WebSocket } });
  afterTest(() => gm.network_shutdown());
  return { gm, log: new EventLog(gm) };
}

async function gmServer(options: Parameters<typeof startGmTestServer>[0] = {}): Promise<GmTestServer> {
  const server = await startGmTestServer(options);
  afterTest(() => server.close());
  return server;
}

/** An engine with a ws socket connected (raw) to a raw test server. */
async function connectedRaw() {
  const server = await gmServer({ raw: true });
  const { gm, log } = engine();
  const socket = gm.network_create_socket(gm.network_socket_ws);
  gm.network_connect_raw(socket, "127.0.0.1", server.port);
  await log.next({ type: gm.network_type_non_blocking_connect, succeeded: 1 });
  return { server, gm, log, socket };
}

describe("ws sockets speaking GameMaker's wire format", () => {
  it("does the GM:Studio-Connect handshake, then frames packets both ways", async () => {
    const server = await gmServer();
    const { gm, log } = engine();
    const socket = gm.network_create_socket(gm.network_socket_ws);
    expect(gm.network_connect(socket, "127.0.0.1", server.port)).toBe(0);
    expect(await log.next({ type: gm.network_type_non_blocking_connect })).toMatchObject({ id: socket, succeeded: 1, ip: "127.0.0.1", port: server.port });

    const buffer = bufferOf(gm, "ping from gm");
    expect(gm.network_send_packet(socket, buffer, 12)).toBe(12);
    expect(text(await server.nextPayload())).toBe("ping from gm");
    // The server echoes it as a GameMaker packet: one data event, header removed.
    const echo = await log.next({ type: gm.network_type_data });
    expect(echo).toMatchObject({ id: socket, size: 12, message_type: gm.network_send_binary });
    expect(text(echo.bytes)).toBe("ping from gm");

    server.sendPacket(new Uint8Array([1, 2, 3]));
    server.sendPacket(new Uint8Array([4]));
    expect((await log.next({ type: gm.network_type_data })).bytes).toEqual(new Uint8Array([1, 2, 3]));
    expect((await log.next({ type: gm.network_type_data })).bytes).toEqual(new Uint8Array([4]));
  });

  it("keeps a packet glued to the end of the handshake", async () => {
    const server = await gmServer({ welcomePayload: new TextEncoder().encode("welcome") });
    const { gm, log } = engine();
    const socket = gm.network_create_socket(gm.network_socket_ws);
    gm.network_connect_async(socket, `ws://127.0.0.1:${server.port}`, 0);
    expect(await log.next({ type: gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    expect(text((await log.next({ type: gm.network_type_data })).bytes)).toBe("welcome");
  });

  it("reports a server that is not a GameMaker server as a failed handshake", async () => {
    const server = await gmServer({ greeting: new TextEncoder().encode("HTTP/1.1 nope\0\0\0\0\0") });
    const { gm, log } = engine();
    const socket = gm.network_create_socket(gm.network_socket_ws);
    gm.network_connect(socket, "127.0.0.1", server.port);
    expect(await log.next({ type: gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 0, error: "E_NETWORK_HANDSHAKE" });
  });

  it("gives a disconnect event when the server closes or drops the connection", async () => {
    const server = await gmServer();
    const { gm, log } = engine();
    const a = gm.network_create_socket(gm.network_socket_ws);
    const b = gm.network_create_socket(gm.network_socket_ws);
    gm.network_connect(a, "127.0.0.1", server.port);
    gm.network_connect(b, "127.0.0.1", server.port);
    await log.next({ type: gm.network_type_non_blocking_connect, id: a, succeeded: 1 });
    await log.next({ type: gm.network_type_non_blocking_connect, id: b, succeeded: 1 });
    await server.waitForConnections(2);
    await server.terminateAll();
    expect(await log.next({ type: gm.network_type_disconnect, id: a })).toMatchObject({ socket: a, error: "E_NETWORK_WEBSOCKET" });
    expect(await log.next({ type: gm.network_type_disconnect, id: b })).toMatchObject({ socket: b });
    const buffer = bufferOf(gm, "x");
    expect(gm.network_send_packet(a, buffer, 1)).toBe(-1);
  });

  it("closes a connection whose incoming packet is over the socket's message size limit", async () => {
    const server = await gmServer();
    const { gm, log } = engine();
    const socket = gm.network_create_socket(gm.network_socket_ws);
    gm.network_connect(socket, "127.0.0.1", server.port);
    await log.next({ type: gm.network_type_non_blocking_connect, succeeded: 1 });
    expect(gm.network_set_config(gm.network_config_message_size_limit, socket, 100)).toBe(0);
    expect(gm.network_get_config(gm.network_config_message_size_limit, socket)).toBe(100);
    server.sendPacket(new Uint8Array(101));
    expect(await log.next({ type: gm.network_type_disconnect })).toMatchObject({ id: socket, error: "E_NETWORK_MESSAGE_TOO_LARGE" });
    // The server is told why: RFC 6455's 1009 "message too big", not an ordinary close.
    expect(await server.nextEvent("close")).toMatchObject({ code: 1009 });
  });

  it("reports E_NETWORK_MESSAGE_TOO_LARGE when the server refuses a packet as too big (close 1009)", async () => {
    const server = await gmServer({ maxPacketSize: 64 });
    const { gm, log } = engine();
    const socket = gm.network_create_socket(gm.network_socket_ws);
    gm.network_connect(socket, "127.0.0.1", server.port);
    await log.next({ type: gm.network_type_non_blocking_connect, succeeded: 1 });
    const buffer = gm.buffer_create(65, gm.buffer_fixed, 1);
    expect(gm.network_send_packet(socket, buffer, 65)).toBe(65);
    expect(await log.next({ type: gm.network_type_disconnect })).toMatchObject({ id: socket, error: "E_NETWORK_MESSAGE_TOO_LARGE" });
  });
});

describe("raw ws sockets", () => {
  it("sends binary and text messages as they are, and tells them apart on arrival", async () => {
    const server = await gmServer({ raw: true });
    const { gm, log } = engine();
    const socket = gm.network_create_socket_ext(gm.network_socket_ws, 0);
    gm.network_connect_raw_async(socket, `ws://127.0.0.1:${server.port}/any/path`, 0);
    expect(await log.next({ type: gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    const buffer = bufferOf(gm, "héllo");
    const size = new TextEncoder().encode("héllo").length;
    expect(gm.network_send_raw(socket, buffer, size)).toBe(size);
    expect(await log.next({ type: gm.network_type_data })).toMatchObject({ size, message_type: gm.network_send_binary });
    expect(gm.network_send_raw(socket, buffer, size, gm.network_send_text)).toBe(size);
    const echoed = await log.next({ type: gm.network_type_data });
    expect(echoed).toMatchObject({ message_type: gm.network_send_text });
    expect(text(echoed.bytes)).toBe("héllo");
  });

  it("refuses sends over the message size limit with -2 and sends nothing", async () => {
    const { server, gm, socket } = await connectedRaw();
    gm.network_set_config(gm.network_config_message_size_limit, 16);
    const buffer = gm.buffer_create(32, gm.buffer_fixed, 1);
    expect(gm.network_send_raw(socket, buffer, 17)).toBe(-2);
    expect(gm.network_send_raw(socket, buffer, 16)).toBe(16);
    expect((await server.nextPayload()).length).toBe(16);
  });
});

describe("ws connect failures", () => {
  it("reports a refused connection and a connect timeout as failed non-blocking connects", async () => {
    const held: Socket[] = [];
    const silent = createTcpServer((connection) => void held.push(connection)); // accepts TCP, never answers the upgrade
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    afterTest(() => {
      for (const connection of held) connection.destroy();
      return new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const closedPort = await freePort();

    const { gm, log } = engine();
    gm.network_set_config(gm.network_config_connect_timeout, 300);
    const refused = gm.network_create_socket(gm.network_socket_ws);
    gm.network_connect_raw(refused, "127.0.0.1", closedPort);
    expect(await log.next({ type: gm.network_type_non_blocking_connect, id: refused })).toMatchObject({ succeeded: 0, error: "E_NETWORK_WEBSOCKET" });

    const hanging = gm.network_create_socket(gm.network_socket_ws);
    gm.network_connect_raw(hanging, "127.0.0.1", (silent.address() as AddressInfo).port);
    expect(await log.next({ type: gm.network_type_non_blocking_connect, id: hanging })).toMatchObject({ succeeded: 0, error: "E_NETWORK_TIMEOUT" });
  });

  it("ends a connection that receives nothing for network_set_timeout's read timeout", async () => {
    const { gm, log, socket } = await connectedRaw();
    expect(gm.network_set_timeout(socket, 200, 0)).toBe(0);
    expect(await log.next({ type: gm.network_type_disconnect })).toMatchObject({ id: socket, error: "E_NETWORK_TIMEOUT" });
  });
});

describe("webSocketUrl", () => {
  it("builds ws and wss URLs from GameMaker's (url, port) arguments", () => {
    expect(webSocketUrl(2, "example.com", 8080)?.url).toBe("ws://example.com:8080/");
    expect(webSocketUrl(3, "example.com", 0)).toMatchObject({ url: "wss://example.com/", port: 443 });
    expect(webSocketUrl(2, "wss://example.com/game", 0)).toMatchObject({ url: "wss://example.com/game", port: 443 });
    expect(webSocketUrl(3, "ws://example.com:9000/x", 0)?.url).toBe("wss://example.com:9000/x");
    expect(webSocketUrl(2, "ws://example.com:9000/x", 7000)?.url).toBe("ws://example.com:7000/x");
    expect(webSocketUrl(2, "not a host", 80)).toBeUndefined();
  });
});
