/**
 * Virtual TCP through the real signaling server: a server socket in one engine, clients in
 * others, GameMaker's events on both sides, raw mode, limits and failures.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventLog, type TestNetwork, bufferOf, sendPacket, startNetwork, text } from "./support.js";

let network: TestNetwork;
beforeEach(async () => {
  network = await startNetwork();
});
afterEach(async () => {
  await network.close();
});

/** A host engine listening on `port` and its event log, with its virtual IP known. */
async function host(port = 6510, maxClients = 8, raw = false) {
  const gm = network.engine();
  const log = new EventLog(gm);
  const server = raw ? gm.network_create_server_raw(gm.network_socket_tcp, port, maxClients) : gm.network_create_server(gm.network_socket_tcp, port, maxClients);
  expect(server).toBeGreaterThan(0);
  const up = await log.next({ type: gm.network_type_up });
  expect(up.ip).toMatch(/^10\.\d+\.\d+\.\d+$/);
  return { gm, log, server, ip: up.ip as string };
}

async function client(ip: string, port = 6510, raw = false) {
  const gm = network.engine();
  const log = new EventLog(gm);
  const socket = gm.network_create_socket(gm.network_socket_tcp);
  expect(raw ? gm.network_connect_raw_async(socket, ip, port) : gm.network_connect_async(socket, ip, port)).toBe(0);
  return { gm, log, socket };
}

describe("virtual TCP sockets", () => {
  it("connects, carries packets both ways with GameMaker's events, and reports disconnects on both sides", async () => {
    const h = await host();
    const c = await client(h.ip);
    const connected = await c.log.next({ type: c.gm.network_type_non_blocking_connect });
    expect(connected).toMatchObject({ id: c.socket, succeeded: 1, ip: h.ip, port: 6510, event_type: c.gm.ev_async_web_networking });

    const accepted = await h.log.next({ type: h.gm.network_type_connect });
    expect(accepted.id).toBe(h.server);
    const peer = accepted.socket as number;
    expect(peer).toBeGreaterThan(0);
    expect(accepted.ip).toBe(c.gm.network_get_config(c.gm.network_config_virtual_ip));

    expect(sendPacket(c.gm, c.socket, "hello host")).toBe(10);
    const atHost = await h.log.next({ type: h.gm.network_type_data });
    expect(atHost).toMatchObject({ id: peer, server: h.server, size: 10 });
    expect(text(atHost.bytes)).toBe("hello host");

    expect(sendPacket(h.gm, peer, "hello client")).toBe(12);
    const atClient = await c.log.next({ type: c.gm.network_type_data });
    expect(atClient).toMatchObject({ id: c.socket, size: 12, ip: h.ip, port: 6510 });
    expect(text(atClient.bytes)).toBe("hello client");

    c.gm.network_destroy(c.socket);
    const gone = await h.log.next({ type: h.gm.network_type_disconnect });
    expect(gone).toMatchObject({ id: h.server, socket: peer, error: "E_NETWORK_CLOSED" });
    expect(sendPacket(h.gm, peer, "late")).toBe(-1);
  });

  it("gives the client a disconnect event when the server destroys it", async () => {
    const h = await host();
    const c = await client(h.ip);
    await c.log.next({ type: c.gm.network_type_non_blocking_connect, succeeded: 1 });
    const accepted = await h.log.next({ type: h.gm.network_type_connect });
    h.gm.network_destroy(accepted.socket as number);
    const gone = await c.log.next({ type: c.gm.network_type_disconnect });
    expect(gone).toMatchObject({ id: c.socket, socket: c.socket, error: "E_NETWORK_CLOSED" });
    expect(sendPacket(c.gm, c.socket, "x")).toBe(-1);
  });

  it("keeps packet boundaries and every byte value, in order", async () => {
    const h = await host();
    const c = await client(h.ip);
    await c.log.next({ type: c.gm.network_type_non_blocking_connect, succeeded: 1 });
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const buffer = bufferOf(c.gm, all);
    for (let n = 1; n <= 20; n++) expect(c.gm.network_send_packet(c.socket, buffer, n * 12)).toBe(n * 12);
    for (let n = 1; n <= 20; n++) {
      const event = await h.log.next({ type: h.gm.network_type_data });
      expect(event.bytes).toEqual(all.subarray(0, n * 12));
    }
  });

  it("carries more than the server's message size in one script task, split into several messages", async () => {
    const h = await host();
    const c = await client(h.ip);
    await c.log.next({ type: c.gm.network_type_non_blocking_connect, succeeded: 1 });
    const size = 1024 * 1024; // the engine's default limit, 4× the server's frame size
    const buffer = c.gm.buffer_create(size, c.gm.buffer_fixed, 1);
    c.gm.buffer_fill(buffer, 0, c.gm.buffer_u8, 7, size);
    c.gm.buffer_poke(buffer, size - 1, c.gm.buffer_u8, 9);
    expect(c.gm.network_send_packet(c.socket, buffer, size)).toBe(size);
    expect(c.gm.network_send_packet(c.socket, buffer, 600_000)).toBe(600_000);
    const first = await h.log.next({ type: h.gm.network_type_data });
    expect(first.size).toBe(size);
    expect(first.bytes![size - 1]).toBe(9);
    expect((await h.log.next({ type: h.gm.network_type_data })).size).toBe(600_000);
    expect(c.gm.network_get_config(c.gm.network_config_connected)).toBe(1);
  });

  it("delivers what a script sends on the line after network_connect, in order, once connected (as GameMaker scripts do)", async () => {
    const h = await host(6900);
    const gm = network.engine();
    const log = new EventLog(gm);
    const socket = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect(socket, h.ip, 6900)).toBe(0);
    // Still connecting: each send is taken (its size returned) and queued.
    expect(["one", "two", "three"].map((word) => sendPacket(gm, socket, word))).toEqual([3, 3, 5]);
    expect(await log.next({ type: gm.network_type_non_blocking_connect })).toMatchObject({ id: socket, succeeded: 1 });
    await h.log.next({ type: h.gm.network_type_connect });
    const words: string[] = [];
    for (let i = 0; i < 3; i++) words.push(text((await h.log.next({ type: h.gm.network_type_data })).bytes));
    expect(words).toEqual(["one", "two", "three"]);
  });

  it("reports in the failed connect event how many bytes sent while connecting were dropped", async () => {
    const gm = network.engine();
    const log = new EventLog(gm);
    const socket = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect_async(socket, "10.255.255.254", 7000)).toBe(0);
    expect(sendPacket(gm, socket, "hello")).toBe(5);
    expect(sendPacket(gm, socket, "goodbye")).toBe(7);
    expect(await log.next({ type: gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 0, error: "E_NETWORK_OFFLINE", bytes_dropped: 12 });
    expect(sendPacket(gm, socket, "late")).toBe(-1);
  });

  it("refuses clients past max_client, and reports unknown hosts and closed ports", async () => {
    const h = await host(7000, 1);
    const first = await client(h.ip, 7000);
    await first.log.next({ type: first.gm.network_type_non_blocking_connect, succeeded: 1 });
    const second = await client(h.ip, 7000);
    expect(await second.log.next({ type: second.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 0, error: "E_NETWORK_REFUSED" });
    const closedPort = await client(h.ip, 7001);
    expect(await closedPort.log.next({ type: closedPort.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 0, error: "E_NETWORK_NOT_LISTENING" });
    const offline = await client("10.255.255.254", 7000);
    expect(await offline.log.next({ type: offline.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 0, error: "E_NETWORK_OFFLINE" });
    const unknown = await client("no-such-host", 7000);
    expect(await unknown.log.next({ type: unknown.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 0, error: "E_NETWORK_UNKNOWN_HOST" });
  });

  it("frees the place of a client that never finishes the GameMaker handshake", async () => {
    const h = await host(6800, 1);
    h.gm.network_set_config(h.gm.network_config_connect_timeout, 300);
    // A raw client on a GameMaker server receives the greeting and never answers it.
    const silent = await client(h.ip, 6800, true);
    expect(await silent.log.next({ type: silent.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    expect(text((await silent.log.next({ type: silent.gm.network_type_data })).bytes)).toBe("GM:Studio-Connect\0");
    // Once the handshake timed out, the server's only place is free again.
    expect(await silent.log.next({ type: silent.gm.network_type_disconnect })).toMatchObject({ error: "E_NETWORK_CLOSED" });
    const real = await client(h.ip, 6800);
    expect(await real.log.next({ type: real.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    expect(await h.log.next({ type: h.gm.network_type_connect })).toMatchObject({ ip: real.gm.network_get_config(real.gm.network_config_virtual_ip) });
    expect(h.log.seen.filter((e) => e.type === h.gm.network_type_connect)).toHaveLength(1);
  });

  it("raw sockets carry bytes without the handshake or header", async () => {
    const h = await host(6600, 4, true);
    const c = await client(h.ip, 6600, true);
    expect(await c.log.next({ type: c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    await h.log.next({ type: h.gm.network_type_connect });
    const buffer = bufferOf(c.gm, "raw bytes");
    expect(c.gm.network_send_raw(c.socket, buffer, 9)).toBe(9);
    expect(text((await h.log.next({ type: h.gm.network_type_data })).bytes)).toBe("raw bytes");
    // A packet sent on a raw connection arrives with its 12-byte header, as in GameMaker.
    expect(c.gm.network_send_packet(c.socket, buffer, 3)).toBe(3);
    const framed = await h.log.next({ type: h.gm.network_type_data });
    expect(framed.size).toBe(15);
    expect([...framed.bytes!.subarray(0, 4)]).toEqual([0xde, 0xc0, 0xad, 0xde]);
  });

  it("ends the stream with E_NETWORK_MESSAGE_TOO_LARGE on both sides when the receiver refuses a packet over its limit", async () => {
    const h = await host();
    h.gm.network_set_config(h.gm.network_config_message_size_limit, 100);
    const c = await client(h.ip);
    await c.log.next({ type: c.gm.network_type_non_blocking_connect, succeeded: 1 });
    const accepted = await h.log.next({ type: h.gm.network_type_connect });
    const buffer = c.gm.buffer_create(101, c.gm.buffer_fixed, 1);
    expect(c.gm.network_send_packet(c.socket, buffer, 101)).toBe(101);
    expect(await h.log.next({ type: h.gm.network_type_disconnect })).toMatchObject({ socket: accepted.socket, error: "E_NETWORK_MESSAGE_TOO_LARGE" });
    expect(await c.log.next({ type: c.gm.network_type_disconnect })).toMatchObject({ id: c.socket, error: "E_NETWORK_MESSAGE_TOO_LARGE" });
  });

  it("tells a client whose GameMaker handshake the server refused: E_NETWORK_HANDSHAKE on both sides' terms, not a plain close", async () => {
    const h = await host();
    // A raw client (no handshake of its own) answers the server's greeting with garbage.
    const c = await client(h.ip, 6510, true);
    await c.log.next({ type: c.gm.network_type_non_blocking_connect, succeeded: 1 });
    const greeting = await c.log.next({ type: c.gm.network_type_data });
    expect(text(greeting.bytes)).toBe("GM:Studio-Connect\0");
    const junk = bufferOf(c.gm, "not a GameMaker reply!");
    expect(c.gm.network_send_raw(c.socket, junk, 22)).toBe(22);
    expect(await c.log.next({ type: c.gm.network_type_disconnect })).toMatchObject({ id: c.socket, error: "E_NETWORK_HANDSHAKE" });
    // The server never announced the client: its place is free again.
    expect(h.log.seen.filter((event) => event.type === h.gm.network_type_connect)).toHaveLength(0);
  });

  it("tells a loopback sender too that its packet was refused as too large", async () => {
    const h = await host(6701);
    const self = h.gm.network_create_socket(h.gm.network_socket_tcp);
    h.gm.network_connect(self, "127.0.0.1", 6701);
    await h.log.next({ type: h.gm.network_type_non_blocking_connect, id: self, succeeded: 1 });
    const accepted = await h.log.next({ type: h.gm.network_type_connect });
    h.gm.network_set_config(h.gm.network_config_message_size_limit, accepted.socket as number, 10);
    expect(sendPacket(h.gm, self, "eleven char")).toBe(11);
    expect(await h.log.next({ type: h.gm.network_type_disconnect, socket: accepted.socket })).toMatchObject({ error: "E_NETWORK_MESSAGE_TOO_LARGE" });
    expect(await h.log.next({ type: h.gm.network_type_disconnect, id: self })).toMatchObject({ error: "E_NETWORK_MESSAGE_TOO_LARGE" });
  });

  it("finishes a connect under way when a master login moves the engine to its account's address, in either order", async () => {
    const h = await host();
    for (const order of ["connect, then log in", "log in, then connect"] as const) {
      const c = network.engine();
      const log = new EventLog(c);
      const socket = c.network_create_socket(c.network_socket_tcp);
      let login: number;
      if (order === "connect, then log in") {
        expect(c.network_connect(socket, h.ip, 6510)).toBe(0);
        login = c.master_login_guest();
      } else {
        login = c.master_login_guest();
        expect(c.network_connect(socket, h.ip, 6510)).toBe(0);
      }
      expect(sendPacket(c, socket, order)).toBe(order.length);
      const response = await log.next({ type: c.master_type_response, id: login });
      expect(response.status, order).toBe(c.master_status_success);
      const connected = await log.next({ type: c.network_type_non_blocking_connect, id: socket });
      expect(connected, order).toMatchObject({ succeeded: 1, ip: h.ip });
      // The host sees the client at its account's address, and the packet sent while connecting.
      const accepted = await h.log.next({ type: h.gm.network_type_connect });
      expect(accepted.ip, order).toBe(c.network_get_config(c.network_config_virtual_ip));
      const data = await h.log.next({ type: h.gm.network_type_data, id: accepted.socket });
      expect(text(data.bytes), order).toBe(order);
    }
  });

  it("connects by host name and to itself through loopback", async () => {
    const h = await host(6700);
    const claim = h.gm.network_set_config(h.gm.network_config_hostname, "arena");
    expect(await h.log.next({ type: h.gm.network_type_hostname, id: claim })).toMatchObject({ succeeded: 1, ip: h.ip });

    const c = await client("arena", 6700);
    expect(await c.log.next({ type: c.gm.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1, ip: h.ip });
    expect(c.gm.network_resolve("arena")).toBe(h.ip);
    const request = c.gm.network_resolve_async("ARENA");
    expect(await c.log.next({ type: c.gm.network_type_resolve, id: request })).toMatchObject({ ip: h.ip, succeeded: 1 });
    const missing = c.gm.network_resolve_async("nobody");
    expect(await c.log.next({ type: c.gm.network_type_resolve, id: missing })).toMatchObject({ ip: "", succeeded: 0 });

    const self = h.gm.network_create_socket(h.gm.network_socket_tcp);
    expect(h.gm.network_connect(self, "127.0.0.1", 6700)).toBe(0);
    expect(await h.log.next({ type: h.gm.network_type_non_blocking_connect, id: self })).toMatchObject({ succeeded: 1 });
    const accepted = await h.log.next({ type: h.gm.network_type_connect, ip: h.ip });
    expect(sendPacket(h.gm, self, "to me")).toBe(5);
    expect(await h.log.next({ type: h.gm.network_type_data, id: accepted.socket })).toMatchObject({ size: 5 });
  });
});
