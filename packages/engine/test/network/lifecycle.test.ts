/**
 * The signaling connection's life as a game sees it: up, down when the server goes away (every
 * virtual stream ends with a disconnect event), reconnection with the same virtual IP, and
 * simulated latency keeping stream order.
 */
import { describe, expect, it } from "vitest";
import { EventLog, bufferOf, startNetwork, text } from "./support.js";

describe("signaling connection lifecycle", () => {
  it("ends streams with disconnect events when the server shuts down, then reconnects by itself while a server socket needs it", async () => {
    const network = await startNetwork();
    const host = network.engine({ secret: "host-secret-host-secret-0001" });
    const hostLog = new EventLog(host);
    const server = host.network_create_server(host.network_socket_tcp, 6000, 4);
    const ip = (await hostLog.next({ type: host.network_type_up })).ip as string;
    const client = network.engine();
    const clientLog = new EventLog(client);
    const socket = client.network_create_socket(client.network_socket_tcp);
    client.network_connect(socket, ip, 6000);
    await clientLog.next({ type: client.network_type_non_blocking_connect, succeeded: 1 });
    await hostLog.next({ type: host.network_type_connect, id: server });
    await expect.poll(() => host.network_get_stats(-1)!.rtt).toBeGreaterThanOrEqual(0);

    await network.server.close();
    expect(await clientLog.next({ type: client.network_type_disconnect, id: socket })).toMatchObject({ error: "E_NETWORK_SHUTDOWN" });
    expect(await hostLog.next({ type: host.network_type_down })).toMatchObject({ id: -1, error: "E_NETWORK_SHUTDOWN" });
    // No round trip to show while the server is gone (not the last one measured).
    expect(host.network_get_stats(-1)!.rtt).toBe(-1);
    expect(host.network_get_stats(server)!.rtt).toBe(-1);

    // A new server on another port; the host keeps its listening socket and reconnects by itself.
    const next = await startNetwork();
    host.network_set_config(host.network_config_signaling_url, next.url);
    host.network_set_config(host.network_config_app_key, "test-app");
    const up = await hostLog.next({ type: host.network_type_up }, 20_000);
    expect(up.ip).toMatch(/^10\./);
    expect(host.network_get_config(host.network_config_connected)).toBe(1);
    const again = next.engine();
    const againLog = new EventLog(again);
    const reconnect = again.network_create_socket(again.network_socket_tcp);
    again.network_connect(reconnect, up.ip as string, 6000);
    expect(await againLog.next({ type: again.network_type_non_blocking_connect })).toMatchObject({ succeeded: 1 });
    host.network_shutdown();
    client.network_shutdown();
    await next.close();
  });

  it("delays stream data by the simulated latency without reordering it, and measures round trips", async () => {
    const network = await startNetwork();
    try {
      const host = network.engine();
      const hostLog = new EventLog(host);
      host.network_create_server(host.network_socket_tcp, 6100, 4);
      const ip = (await hostLog.next({ type: host.network_type_up })).ip as string;
      const client = network.engine();
      const clientLog = new EventLog(client);
      const socket = client.network_create_socket(client.network_socket_tcp);
      client.network_connect(socket, ip, 6100);
      await clientLog.next({ type: client.network_type_non_blocking_connect, succeeded: 1 });
      client.network_set_config(client.network_config_simulate_latency, 40);
      client.network_set_config(client.network_config_simulate_jitter, 30);
      const started = Date.now();
      for (let i = 0; i < 20; i++) {
        const buffer = bufferOf(client, `m${i}`);
        client.network_send_packet(socket, buffer, `m${i}`.length);
      }
      const received: string[] = [];
      for (let i = 0; i < 20; i++) received.push(text((await hostLog.next({ type: host.network_type_data })).bytes));
      expect(received).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(Date.now() - started).toBeGreaterThanOrEqual(40);
      const stats = client.network_get_stats(socket)!;
      expect(stats).toMatchObject({ packets_sent: 20 });
      const totals = client.network_get_stats(-1)!;
      expect(totals.connected).toBe(1);
      expect(totals.rtt).toBeGreaterThanOrEqual(0);
      expect(totals.signaling_bytes_sent).toBeGreaterThan(0);
    } finally {
      await network.close();
    }
  });
});
