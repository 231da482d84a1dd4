/**
 * The contract of network_* without traffic: return values for sockets that cannot do what is
 * asked, GmnetError for misuse, settings read back, and the signaling server being unreachable.
 */
import { describe, expect, it } from "vitest";
import { createEngine, createMemoryStorage } from "../../src/index.js";
import { WebSocket } from "ws";
import { thrownCode } from "../helpers.js";
import { EventLog, startNetwork } from "./support.js";

/** An engine whose signaling server cannot be reached (nothing listens on port 9 of 127.0.0.1). */
const offlineEngine = () => createEngine({ storage: createMemoryStorage(), network: { WebSocket, signalingUrl: "ws://127.0.0.1:9/ws" } });

describe("network_* contract", () => {
  it("throws E_INVALID_ARGUMENT for arguments that can never be right", () => {
    const gm = offlineEngine();
    expect(thrownCode(() => gm.network_create_socket(9))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_create_socket("tcp" as never))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_create_server(gm.network_socket_tcp, 0, 4))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_create_server(gm.network_socket_tcp, 70000, 4))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_create_server(gm.network_socket_tcp, 80, 0))).toBe("E_INVALID_ARGUMENT");
    const socket = gm.network_create_socket(gm.network_socket_tcp);
    expect(thrownCode(() => gm.network_connect(socket, 42 as never, 80))).toBe("E_INVALID_ARGUMENT");
    const buffer = gm.buffer_create(4, gm.buffer_fixed, 1);
    expect(thrownCode(() => gm.network_send_packet(socket, buffer, 5))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_send_packet(socket, buffer, -1))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_send_packet(socket, 999, 1))).toBe("E_INVALID_BUFFER");
    expect(thrownCode(() => gm.network_set_config(999, 1))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_set_config(gm.network_config_simulate_loss, 2))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_set_config(gm.network_config_signaling_url, "http://x"))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_set_config(gm.network_config_app_key, "bad key!"))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_set_config(gm.network_config_ice_servers, [{ url: "stun:x" }]))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_set_timeout(socket, -1, 0))).toBe("E_INVALID_ARGUMENT");
    expect(thrownCode(() => gm.network_get_config(999))).toBe("E_INVALID_ARGUMENT");
    gm.network_shutdown();
  });

  it("returns -1 (never throws) for sockets that are destroyed, unknown, of the wrong kind or not connected", () => {
    const gm = offlineEngine();
    const buffer = gm.buffer_create(4, gm.buffer_fixed, 1);
    const tcp = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_send_packet(tcp, buffer, 4)).toBe(-1); // not connected
    expect(gm.network_send_raw(12345, buffer, 4)).toBe(-1); // unknown id
    expect(gm.network_send_udp(tcp, "10.0.0.1", 80, buffer, 4)).toBe(-1); // not UDP
    expect(gm.network_send_broadcast(tcp, 80, buffer, 4)).toBe(-1);
    expect(gm.network_create_server(gm.network_socket_ws, 80, 4)).toBe(-1); // browsers cannot listen on WebSockets
    const server = gm.network_create_server(gm.network_socket_tcp, 80, 4);
    expect(server).toBeGreaterThan(0);
    expect(gm.network_create_server(gm.network_socket_tcp, 80, 4)).toBe(-1); // port taken
    expect(gm.network_send_packet(server, buffer, 4)).toBe(-1); // a server socket carries no data
    expect(gm.network_connect(server, "10.0.0.1", 80)).toBe(-1);
    const udp = gm.network_create_socket_ext(gm.network_socket_udp, 5000);
    expect(gm.network_create_socket_ext(gm.network_socket_udp, 5000)).toBe(-1); // UDP port taken
    expect(gm.network_connect(udp, "10.0.0.1", 80)).toBe(-1); // UDP does not connect
    expect(gm.network_set_timeout(udp, 10, 10)).toBe(-1);
    expect(gm.network_set_config(gm.network_config_enable_reliable_udp, tcp)).toBe(-1);
    expect(gm.network_set_config(gm.network_config_enable_reliable_udp, udp)).toBe(0);
    expect(gm.network_get_config(gm.network_config_enable_reliable_udp, udp)).toBe(1);
    gm.network_destroy(tcp);
    gm.network_destroy(tcp); // twice: ignored
    gm.network_destroy(424242);
    expect(gm.network_send_packet(tcp, buffer, 4)).toBe(-1);
    expect(gm.network_connect(tcp, "10.0.0.1", 80)).toBe(-1);
    expect(gm.network_get_stats(tcp)).toBeUndefined();
    // A destroyed server frees its port.
    gm.network_destroy(server);
    expect(gm.network_create_server(gm.network_socket_tcp, 80, 4)).toBeGreaterThan(server);
    gm.network_shutdown();
  });

  it("reads back every setting it takes", () => {
    const gm = offlineEngine();
    gm.network_set_config(gm.network_config_connect_timeout, 1234);
    gm.network_set_config(gm.network_config_app_key, "my-game");
    gm.network_set_config(gm.network_config_tick_rate, 30);
    gm.network_set_config(gm.network_config_ice_servers, '[{"urls":"stun:stun.example.org"}]');
    gm.network_set_config(gm.network_config_enable_webrtc, 0);
    gm.network_set_config(gm.network_config_simulate_latency, 50);
    gm.network_set_config(gm.network_config_simulate_jitter, 5);
    gm.network_set_config(gm.network_config_simulate_loss, 0.1);
    gm.network_set_config(gm.network_config_message_size_limit, 4096);
    gm.network_set_config(gm.network_config_websocket_protocol, "a, b");
    expect(gm.network_get_config(gm.network_config_connect_timeout)).toBe(1234);
    expect(gm.network_get_config(gm.network_config_app_key)).toBe("my-game");
    expect(gm.network_get_config(gm.network_config_tick_rate)).toBe(30);
    expect(gm.network_get_config(gm.network_config_ice_servers)).toEqual([{ urls: "stun:stun.example.org" }]);
    expect(gm.network_get_config(gm.network_config_enable_webrtc)).toBe(0);
    expect(gm.network_get_config(gm.network_config_simulate_latency)).toBe(50);
    expect(gm.network_get_config(gm.network_config_simulate_jitter)).toBe(5);
    expect(gm.network_get_config(gm.network_config_simulate_loss)).toBe(0.1);
    expect(gm.network_get_config(gm.network_config_message_size_limit)).toBe(4096);
    expect(gm.network_get_config(gm.network_config_websocket_protocol)).toBe("a,b");
    expect(gm.network_get_config(gm.network_config_virtual_ip)).toBe("");
    expect(gm.network_get_config(gm.network_config_connected)).toBe(0);
    expect(gm.network_resolve("10.1.2.3")).toBe("10.1.2.3");
    expect(gm.network_resolve("unknown-name")).toBe("");
  });

  it("reports an unreachable signaling server as network_type_up_failed and failed connects", async () => {
    const gm = offlineEngine();
    const log = new EventLog(gm);
    const socket = gm.network_create_socket(gm.network_socket_tcp);
    expect(gm.network_connect(socket, "10.0.0.1", 80)).toBe(0);
    expect(await log.next({ type: gm.network_type_up_failed })).toMatchObject({ id: -1, error: "E_NETWORK_SIGNALING" });
    expect(await log.next({ type: gm.network_type_non_blocking_connect })).toMatchObject({ id: socket, succeeded: 0, error: "E_NETWORK_SIGNALING" });
    const lookup = gm.network_resolve_async("somewhere");
    expect(await log.next({ type: gm.network_type_resolve, id: lookup })).toMatchObject({ succeeded: 0, ip: "" });
    gm.network_shutdown();
  });

  it("names the URL and the cause when the signaling server cannot be reached: a wrong port, a wrong path", async () => {
    const gm = offlineEngine();
    const log = new EventLog(gm);
    gm.network_create_server(gm.network_socket_tcp, 80, 1);
    const refused = await log.next({ type: gm.network_type_up_failed });
    expect(refused.message).toMatch(/^could not connect to ws:\/\/127\.0\.0\.1:9\/ws: .*ECONNREFUSED/);
    gm.network_shutdown();

    const network = await startNetwork();
    try {
      const wrongPath = network.url.replace(/\/ws$/, "/wrong");
      const other = createEngine({ storage: createMemoryStorage(), network: { WebSocket, signalingUrl: wrongPath } });
      const otherLog = new EventLog(other);
      other.network_create_server(other.network_socket_tcp, 80, 1);
      const failed = await otherLog.next({ type: other.network_type_up_failed });
      expect(failed.message).toContain(`could not connect to ${wrongPath}: Unexpected server response`);
      expect(failed.message).not.toMatch(/connection to the signaling server ended/);
      other.network_shutdown();
    } finally {
      await network.close();
    }
  });

  it("reports a missing signaling URL (Node without configuration) the same way", async () => {
    const gm = createEngine({ storage: createMemoryStorage(), network: { WebSocket } });
    const log = new EventLog(gm);
    gm.network_create_server(gm.network_socket_tcp, 80, 1);
    const failed = await log.next({ type: gm.network_type_up_failed });
    expect(failed.message).toMatch(/network_config_signaling_url/);
    gm.network_shutdown();
  });
});
