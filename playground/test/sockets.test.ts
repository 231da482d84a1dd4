/**
 * The sockets panel's pure parts: the state of each socket of a run (runner/socket-tracker.ts),
 * told from the script's calls and the engine's events, with closed and failed sockets lingering
 * for a while; and the state and rtt cells (panels/socket-view.ts).
 */
import * as engine from "@gmnet/engine";
import { describe, expect, it } from "vitest";
import { LINGER_MS, SocketTracker } from "../src/playground/runner/socket-tracker.js";
import { RouteTracker, rttCell, stateCell } from "../src/playground/panels/socket-view.js";

const e = engine;
const net = (load: Record<string, unknown>): [Record<string, unknown>, number] => [load, e.ev_async_web_networking];

function tracker(): { sockets: SocketTracker; clock: { now: number } } {
  const clock = { now: 1000 };
  return { sockets: new SocketTracker(e, () => clock.now), clock };
}

const states = (sockets: SocketTracker): Record<number, string> => Object.fromEntries(sockets.list().map((socket) => [socket.id, socket.state]));

describe("socket states", () => {
  it("servers and UDP sockets are open at once; a stream socket is created, connecting, then open or failed", () => {
    const { sockets } = tracker();
    sockets.add({ id: 1, kind: "tcp", role: "server", port: 6510 });
    sockets.add({ id: 2, kind: "udp", role: "socket", port: 7000 });
    sockets.add({ id: 3, kind: "tcp", role: "socket", port: undefined });
    sockets.add({ id: 4, kind: "tcp", role: "socket", port: undefined });
    expect(states(sockets)).toEqual({ 1: "open", 2: "open", 3: "created", 4: "created" });

    sockets.connecting(3, 0);
    sockets.connecting(4, 0);
    expect(states(sockets)).toMatchObject({ 3: "connecting", 4: "connecting" });

    sockets.observe(...net({ type: e.network_type_non_blocking_connect, id: 3, socket: 3, succeeded: 1 }));
    sockets.observe(...net({ type: e.network_type_non_blocking_connect, id: 4, socket: 4, succeeded: 0, error: "E_NETWORK_NOT_LISTENING" }));
    expect(states(sockets)).toMatchObject({ 3: "open", 4: "failed" });
    expect(sockets.list().find((socket) => socket.id === 4)).toMatchObject({ detail: "E_NETWORK_NOT_LISTENING", endedAt: 1000 });
  });

  it("a connect refused at once fails; a connect on an open socket changes nothing", () => {
    const { sockets } = tracker();
    sockets.add({ id: 5, kind: "ws", role: "socket", port: undefined });
    sockets.connecting(5, -1);
    expect(states(sockets)).toEqual({ 5: "failed" });
    // The script may try again: the socket still exists.
    sockets.connecting(5, 0);
    expect(states(sockets)).toEqual({ 5: "connecting" });
    sockets.observe(...net({ type: e.network_type_non_blocking_connect, id: 5, socket: 5, succeeded: 1 }));
    sockets.connecting(5, -1);
    expect(states(sockets)).toEqual({ 5: "open" });
  });

  it("a server's clients come with network_type_connect and go with their disconnect or their server", () => {
    const { sockets } = tracker();
    sockets.add({ id: 1, kind: "tcp", role: "server", port: 6510 });
    sockets.observe(...net({ type: e.network_type_connect, id: 1, server: 1, socket: 7, ip: "10.0.0.2", port: 50000 }));
    sockets.observe(...net({ type: e.network_type_connect, id: 1, server: 1, socket: 8, ip: "10.0.0.3", port: 50001 }));
    expect(sockets.list().find((socket) => socket.id === 7)).toMatchObject({ kind: "tcp", role: "socket", port: 6510, state: "open" });

    sockets.observe(...net({ type: e.network_type_disconnect, id: 1, server: 1, socket: 7, error: "E_NETWORK_CLOSED" }));
    expect(states(sockets)).toEqual({ 1: "open", 7: "closed", 8: "open" });
    // Gone from the engine: only the server is destroyed at Stop, and it takes its clients along.
    expect(sockets.existing().map((socket) => socket.id)).toEqual([1]);
    expect(sockets.isAccepted(8)).toBe(true);

    sockets.destroyed(1);
    expect(states(sockets)).toEqual({ 1: "closed", 7: "closed", 8: "closed" });
    expect(sockets.existing()).toEqual([]);
  });

  it("a disconnect is closed when the other side closed, failed for a fault", () => {
    const { sockets } = tracker();
    for (const id of [1, 2, 3]) {
      sockets.add({ id, kind: "tcp", role: "socket", port: undefined });
      sockets.connecting(id, 0);
      sockets.observe(...net({ type: e.network_type_non_blocking_connect, id, socket: id, succeeded: 1 }));
    }
    sockets.observe(...net({ type: e.network_type_disconnect, id: 1, socket: 1, error: "E_NETWORK_CLOSED" }));
    sockets.observe(...net({ type: e.network_type_disconnect, id: 2, socket: 2, error: "E_NETWORK_TIMEOUT" }));
    sockets.observe(...net({ type: e.network_type_disconnect, id: 3, socket: 3 }));
    expect(states(sockets)).toEqual({ 1: "closed", 2: "failed", 3: "closed" });
    // A client that was disconnected is still the script's socket until it destroys it.
    expect(sockets.existing().map((socket) => socket.id)).toEqual([1, 2, 3]);
  });

  it("ignores other events, other event types and sockets it does not know", () => {
    const { sockets } = tracker();
    sockets.add({ id: 1, kind: "tcp", role: "socket", port: undefined });
    sockets.observe(...net({ type: e.network_type_data, id: 1, buffer: 5, size: 3 }));
    sockets.observe({ type: e.network_type_disconnect, id: 1, socket: 1 }, e.ev_async_web);
    sockets.observe(...net({ type: e.network_type_disconnect, id: 9, socket: 9 }));
    sockets.observe(...net({ type: e.network_type_connect, id: 1, server: 1, socket: 2 }));
    expect(states(sockets)).toEqual({ 1: "created" });
  });

  it("closed and failed sockets stay listed for LINGER_MS, then leave the list", () => {
    const { sockets, clock } = tracker();
    sockets.add({ id: 1, kind: "udp", role: "socket", port: 7000 });
    sockets.add({ id: 2, kind: "tcp", role: "server", port: 6510 });
    sockets.destroyed(1);
    expect(sockets.list().map((socket) => [socket.id, socket.state, socket.detail])).toEqual([
      [1, "closed", "destroyed"],
      [2, "open", undefined],
    ]);
    clock.now += LINGER_MS - 1;
    expect(sockets.list().map((socket) => socket.id)).toEqual([1, 2]);
    clock.now += 1;
    expect(sockets.list().map((socket) => socket.id)).toEqual([2]);

    // The end of the run: everything closes, and lingers the same way.
    sockets.destroyAll("stopped");
    expect(sockets.list()).toMatchObject([{ id: 2, state: "closed", detail: "stopped" }]);
    clock.now += LINGER_MS;
    expect(sockets.list()).toEqual([]);
  });
});

describe("the sockets panel's cells", () => {
  const counters = (p2p: number, relay: number) => ({ p2p_packets_sent: p2p, p2p_packets_received: 0, relay_packets_sent: relay, relay_packets_received: 0 });

  it("follows which way a socket's datagrams went last", () => {
    const route = new RouteTracker();
    expect(route.update(counters(0, 0))).toBeUndefined();
    expect(route.update(counters(0, 3))).toBe("relay");
    expect(route.update(counters(2, 5))).toBe("p2p");
    // Quiet: the route stays what it was.
    expect(route.update(counters(2, 5))).toBe("p2p");
    expect(route.update(counters(2, 6))).toBe("relay");
    expect(route.route).toBe("relay");
  });

  it("rtt: the socket's own round trip only for peer-to-peer UDP, else \"server\"", () => {
    expect(rttCell("udp", 23.4, "p2p").text).toBe("23 ms");
    expect(rttCell("udp", -1, "p2p").text).toBe("—");
    expect(rttCell("udp", 40, "relay")).toMatchObject({ text: "server", title: expect.stringContaining("40 ms") });
    expect(rttCell("udp", 40, undefined).text).toBe("server");
    expect(rttCell("tcp", 40, undefined)).toMatchObject({ text: "server", title: expect.stringContaining("signaling server") });
    expect(rttCell("tcp", -1, undefined).title).toContain("not known yet");
    expect(rttCell("ws", 40, undefined).text).toBe("—");
    expect(rttCell("wss", -1, undefined).text).toBe("—");
  });

  it("state: the state's name (listening for a server), and why it ended in the title", () => {
    expect(stateCell({ state: "open", role: "server", kind: "tcp", detail: undefined }).text).toBe("listening");
    expect(stateCell({ state: "open", role: "socket", kind: "udp", detail: undefined }).text).toBe("open");
    expect(stateCell({ state: "connecting", role: "socket", kind: "tcp", detail: undefined }).text).toBe("connecting");
    expect(stateCell({ state: "failed", role: "socket", kind: "tcp", detail: "E_NETWORK_REFUSED" })).toEqual({ text: "failed", title: "Failed: E_NETWORK_REFUSED." });
    expect(stateCell({ state: "closed", role: "socket", kind: "tcp", detail: "destroyed" })).toEqual({ text: "closed", title: "Closed: destroyed." });
  });
});
