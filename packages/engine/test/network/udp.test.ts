/**
 * UDP sockets between engines: WebRTC DataChannels (real @roamhq/wrtc) opened on demand through
 * the server's signaling, the relay while they open or when WebRTC is off, broadcast, reliable
 * UDP, and the link simulation.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventLog, type RecordedEvent, type TestNetwork, bufferOf, startNetwork, text } from "./support.js";
import { udpReachable } from "./sealed-oracle.js";

let network: TestNetwork;
beforeEach(async () => {
  network = await startNetwork();
});
afterEach(async () => {
  await network.close();
});

async function peer(port: number, options: Parameters<TestNetwork["engine"]>[0] = {}) {
  const gm = network.engine(options);
  const log = new EventLog(gm);
  const socket = gm.network_create_socket_ext(gm.network_socket_udp, port);
  expect(socket).toBeGreaterThan(0);
  const up = await log.next({ type: gm.network_type_up });
  return { gm, log, socket, ip: up.ip as string };
}

type Peer = Awaited<ReturnType<typeof peer>>;

function sendUdp(from: Peer, to: Peer, port: number, content: string): number {
  const buffer = bufferOf(from.gm, content);
  const sent = from.gm.network_send_udp(from.socket, to.ip, port, buffer, new TextEncoder().encode(content).length);
  from.gm.buffer_delete(buffer);
  return sent;
}

/** Sends numbered datagrams until one arrives over the given path (each send waits for the next event, no fixed sleeps). */
async function sendUntil(from: Peer, to: Peer, port: number, via: "p2p" | "relay", maxSends = 200): Promise<RecordedEvent> {
  for (let i = 0; i < maxSends; i++) {
    sendUdp(from, to, port, `datagram ${i}`);
    try {
      const event = await to.log.next((e) => e.type === to.gm.network_type_data && e.via === via, 100);
      return event;
    } catch {
      // not yet: send the next one
    }
  }
  throw new Error(`no datagram arrived via ${via} after ${maxSends} sends`);
}

describe("UDP sockets", () => {
  it("sends the first datagrams through the relay and switches to a WebRTC DataChannel", async () => {
    const a = await peer(7100);
    const b = await peer(7200);
    expect(sendUdp(a, b, 7200, "first")).toBe(5);
    const first = await b.log.next({ type: b.gm.network_type_data });
    expect(first).toMatchObject({ id: b.socket, ip: a.ip, port: 7100, size: 5, via: "relay" });
    expect(text(first.bytes)).toBe("first");

    const direct = await sendUntil(a, b, 7200, "p2p");
    expect(text(direct.bytes)).toMatch(/^datagram \d+$/);
    expect(direct).toMatchObject({ ip: a.ip, port: 7100 });
    expect(a.gm.network_get_stats(a.socket)!.p2p_packets_sent).toBeGreaterThan(0);
    expect(b.gm.network_get_stats(b.socket)!.p2p_packets_received).toBeGreaterThan(0);

    // The link is shared: answers go back over it too.
    const reply = await sendUntil(b, a, 7100, "p2p");
    expect(reply).toMatchObject({ ip: b.ip, port: 7200 });
  });

  it("opens a separate reliable DataChannel for sockets with network_config_enable_reliable_udp", async () => {
    const a = await peer(7150);
    const b = await peer(7250);
    expect(a.gm.network_set_config(a.gm.network_config_enable_reliable_udp, a.socket)).toBe(0);
    await sendUntil(a, b, 7250, "p2p");
    // Every datagram sent after the reliable channel opened arrives, in order.
    for (let i = 0; i < 50; i++) sendUdp(a, b, 7250, `r${i}`);
    const got: string[] = [];
    for (let i = 0; i < 50; i++) got.push(text((await b.log.next({ type: b.gm.network_type_data, via: "p2p" })).bytes));
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}`));
  });

  it("keeps datagrams sent before the engine reached the server and sends them once it has", async () => {
    const b = await peer(7260);
    const gm = network.engine();
    const log = new EventLog(gm);
    const socket = gm.network_create_socket(gm.network_socket_udp);
    const buffer = bufferOf(gm, "early");
    expect(gm.network_get_config(gm.network_config_connected)).toBe(0);
    expect(gm.network_send_udp(socket, b.ip, 7260, buffer, 5)).toBe(5);
    expect(text((await b.log.next({ type: b.gm.network_type_data })).bytes)).toBe("early");
    await log.next({ type: gm.network_type_up });
  });

  it("uses only the relay when WebRTC is disabled by config", async () => {
    const a = await peer(7100);
    const b = await peer(7200);
    a.gm.network_set_config(a.gm.network_config_enable_webrtc, 0);
    for (let i = 0; i < 20; i++) sendUdp(a, b, 7200, `relay ${i}`);
    for (let i = 0; i < 20; i++) expect(await b.log.next({ type: b.gm.network_type_data })).toMatchObject({ via: "relay" });
    const stats = a.gm.network_get_stats(a.socket)!;
    expect(stats).toMatchObject({ p2p_packets_sent: 0, relay_packets_sent: 20, packets_sent: 20 });
  });

  it("counts payload bytes on both sides: network_send_udp's 12-byte header is in neither bytes_sent nor bytes_received", async () => {
    const a = await peer(7100);
    const b = await peer(7200);
    a.gm.network_set_config(a.gm.network_config_enable_webrtc, 0);
    for (let i = 0; i < 5; i++) expect(sendUdp(a, b, 7200, `seven ${i}`)).toBe(7);
    for (let i = 0; i < 5; i++) await b.log.next({ type: b.gm.network_type_data });
    const raw = bufferOf(a.gm, "raw");
    expect(a.gm.network_send_udp_raw(a.socket, b.ip, 7200, raw, 3)).toBe(3);
    await b.log.next({ type: b.gm.network_type_data });
    expect(a.gm.network_send_broadcast(a.socket, 7200, raw, 3)).toBe(3);
    await b.log.next({ type: b.gm.network_type_data });
    // 5 × 7 + 3 raw + 3 broadcast, counted the same way by the sender and the receiver.
    expect(a.gm.network_get_stats(a.socket)).toMatchObject({ bytes_sent: 41, packets_sent: 7 });
    expect(b.gm.network_get_stats(b.socket)).toMatchObject({ bytes_received: 41, packets_received: 7 });
  });

  it("falls back to the relay when the other side has no WebRTC", async () => {
    const a = await peer(7100);
    const b = await peer(7200, { wrtc: undefined });
    await sendUntil(a, b, 7200, "relay");
    // b answered the offer with CLOSE, so a stays on the relay and every datagram still arrives.
    for (let i = 0; i < 10; i++) sendUdp(a, b, 7200, `more ${i}`);
    for (let i = 0; i < 10; i++) expect(await b.log.next({ type: b.gm.network_type_data })).toMatchObject({ via: "relay" });
  });

  it("broadcasts to every other engine bound to the port, with the GameMaker header removed", async () => {
    const a = await peer(7300);
    const b = await peer(7300);
    const c = await peer(7300);
    const other = await peer(7301);
    // With several nodes a binding reaches the other nodes asynchronously: datagrams until one
    // arrives show it is in place before the broadcast (as for any datagram, one may be lost).
    for (const receiver of [b, c]) await udpReachable({ ...a, port: 7300 }, { ...receiver, port: 7300 });
    const buffer = bufferOf(a.gm, "to all");
    expect(a.gm.network_send_broadcast(a.socket, 7300, buffer, 6)).toBe(6);
    for (const receiver of [b, c]) expect(text((await receiver.log.next((event) => event.type === receiver.gm.network_type_data && text(event.bytes) === "to all")).bytes)).toBe("to all");
    sendUdp(a, other, 7301, "direct");
    const direct = await other.log.next({ type: other.gm.network_type_data });
    expect(text(direct.bytes)).toBe("direct");
    expect(other.log.seen.filter((e) => e.type === other.gm.network_type_data)).toHaveLength(1);
  });

  it("keeps raw datagrams as they are and delivers datagrams to itself", async () => {
    const a = await peer(7400);
    const buffer = bufferOf(a.gm, "loop");
    expect(a.gm.network_send_udp_raw(a.socket, "127.0.0.1", 7400, buffer, 4)).toBe(4);
    expect(await a.log.next({ type: a.gm.network_type_data })).toMatchObject({ size: 4, via: "local", ip: a.ip });
    expect(a.gm.network_send_udp(a.socket, a.ip, 7400, buffer, 4)).toBe(4);
    expect(text((await a.log.next({ type: a.gm.network_type_data })).bytes)).toBe("loop");
  });

  it("drops the share of datagrams set by network_config_simulate_loss", async () => {
    const a = await peer(7500, { random: () => 0.3 });
    const b = await peer(7600);
    a.gm.network_set_config(a.gm.network_config_enable_webrtc, 0);
    a.gm.network_set_config(a.gm.network_config_simulate_loss, 0.5);
    for (let i = 0; i < 10; i++) sendUdp(a, b, 7600, `lost ${i}`);
    expect(a.gm.network_get_stats(a.socket)).toMatchObject({ simulated_loss: 10, packets_sent: 0 });
    a.gm.network_set_config(a.gm.network_config_simulate_loss, 0.2);
    a.gm.network_set_config(a.gm.network_config_simulate_latency, 30);
    sendUdp(a, b, 7600, "late");
    expect(text((await b.log.next({ type: b.gm.network_type_data })).bytes)).toBe("late");
  });

  it("returns -2 for datagrams larger than UDP carries and -1 for sockets that are not UDP", async () => {
    const a = await peer(7700);
    const big = a.gm.buffer_create(70_000, a.gm.buffer_fixed, 1);
    expect(a.gm.network_send_udp(a.socket, "10.0.0.1", 7700, big, 70_000)).toBe(-2);
    const tcp = a.gm.network_create_socket(a.gm.network_socket_tcp);
    expect(a.gm.network_send_udp(tcp, "10.0.0.1", 7700, big, 10)).toBe(-1);
    a.gm.network_destroy(a.socket);
    expect(a.gm.network_send_udp(a.socket, "10.0.0.1", 7700, big, 10)).toBe(-1);
  });
});
