/**
 * Durable sessions in Chromium (PROTOCOL.md §14): page B reaches the real signaling server
 * through a fault-injecting TCP proxy run by the test, so its WebSocket can be cut under it —
 * reset (RST) and dropped (FIN, no close frame) — while both pages keep sending numbered packets
 * on a virtual TCP stream. Both scripts must see every packet, in order, once, and no disconnect.
 */
import { type FaultProxy, startFaultProxy } from "../../packages/engine/test/support/fault-proxy.js";
import { type Peer, connectTcp, expect, test } from "../support/network.js";

/** Packets each page sends, one every 10 ms (100 per second, as a game's state updates). */
const PACKETS = 300;

declare global {
  /** This test's in-page traffic: numbered packets out, the numbers that came in, and any disconnects. */
  var gmnetPump: { sent: number; received: number[]; disconnects: string[]; stop(): void } | undefined;
}

/** Starts sending PACKETS numbered packets on `socket` and recording what arrives (runs in the page). */
function startPump(peer: Peer, socket: number): Promise<void> {
  return peer.page.evaluate(
    ({ socket, packets }) => {
      const gm = globalThis.gmnet;
      const pump = { sent: 0, received: [] as number[], disconnects: [] as string[], stop: () => clearInterval(timer) };
      const timer = setInterval(() => {
        if (pump.sent < packets) {
          const buffer = gm.buffer_create(8, gm.buffer_fixed, 1);
          gm.buffer_write(buffer, gm.buffer_u32, pump.sent + 1);
          if (gm.network_send_packet(socket, buffer, 8) === 8) pump.sent++;
          gm.buffer_delete(buffer);
        }
        gm.async_event_dispatch((load) => {
          if (load.type === gm.network_type_data) pump.received.push(gm.buffer_peek(load.buffer as number, 0, gm.buffer_u32) as number);
          else if (load.type === gm.network_type_disconnect || load.type === gm.network_type_down) pump.disconnects.push(`${String(load.type)} ${String(load.error)}`);
        });
      }, 10);
      globalThis.gmnetPump = pump;
    },
    { socket, packets: PACKETS },
  );
}

const progress = (peer: Peer) => peer.page.evaluate(() => ({ sent: globalThis.gmnetPump!.sent, received: globalThis.gmnetPump!.received.length }));

test("a virtual TCP stream survives its page's signaling WebSocket being cut twice: every packet arrives once, in order, no disconnect", async ({ openPeer, baseURL }) => {
  let proxy: FaultProxy | undefined;
  try {
    proxy = await startFaultProxy({ host: "127.0.0.1", port: Number(new URL(baseURL!).port) });
    const a = await openPeer("A");
    const b = await openPeer("B");
    const viaProxy = proxy.wsUrl("/ws");
    await b.page.evaluate((url) => globalThis.gmnet.network_set_config(globalThis.gmnet.network_config_signaling_url, url), viaProxy);
    const pair = await connectTcp(a, b);
    await startPump(a, pair.accepted);
    await startPump(b, pair.clientSocket);

    // Cut B's WebSocket twice while both pages are sending: once with a reset, once with a drop.
    for (const [cut, after] of [["reset", 80], ["drop", 180]] as const) {
      await b.page.waitForFunction((n) => globalThis.gmnetPump!.sent >= n, after);
      if (cut === "reset") proxy.reset();
      else proxy.drop();
    }
    for (const peer of [a, b]) await peer.page.waitForFunction((n) => globalThis.gmnetPump!.received.length >= n, PACKETS, { timeout: 20_000 });

    for (const peer of [a, b]) {
      const seen = await peer.page.evaluate(() => {
        const pump = globalThis.gmnetPump!;
        pump.stop();
        return { sent: pump.sent, received: pump.received, disconnects: pump.disconnects };
      });
      expect(seen.sent, `${peer.name} sent`).toBe(PACKETS);
      expect(seen.received, `${peer.name} received every packet once, in order`).toEqual(Array.from({ length: PACKETS }, (_, i) => i + 1));
      expect(seen.disconnects, `${peer.name}'s disconnect events`).toEqual([]);
    }
    // B really went through the cuts: its engine resumed its session twice.
    expect(await b.page.evaluate(() => globalThis.gmnet.network_get_stats(-1)!.resumes)).toBe(2);
    expect(proxy.accepted).toBe(3);
    expect(await progress(a)).toEqual({ sent: PACKETS, received: PACKETS });
  } finally {
    await proxy?.close();
  }
});
