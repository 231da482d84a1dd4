/** A server with GameMaker bridges, and "tabs": engines hosting network_create_server(_raw) under a host name. */
import { expect } from "vitest";
import type { NetworkOptions } from "@gmnet/engine";
import { EventLog, type TestNetwork, startNetwork } from "../../../packages/engine/test/network/support.js";
import type { GmBridgeSpec } from "../../src/bridge/spec.js";

/** A server on port 0 with `bridges` (each on port 0, to arena:6510 in `appKey` unless it says otherwise), engines in `appKey`. */
export function startBridges(appKey: string, bridges: Array<Partial<GmBridgeSpec>>, options: Record<string, unknown> = {}): Promise<TestNetwork> {
  return startNetwork({ gmBridges: bridges.map((bridge) => ({ port: 0, target: "arena", targetPort: 6510, appKey, ...bridge })), ...options }, appKey);
}

export interface TabOptions {
  port?: number;
  maxClients?: number;
  raw?: boolean;
  name?: string;
  /** The engine's network options (a WebSocket class that accepts a test certificate, say). */
  engine?: NetworkOptions;
}

/** A tab: an engine hosting network_create_server(_raw) on `port`, claiming `name`. */
export async function hostTab(network: TestNetwork, options: TabOptions = {}) {
  const { port = 6510, maxClients = 8, raw = false, name = "arena" } = options;
  const gm = network.engine(options.engine ?? {});
  const log = new EventLog(gm);
  const server = raw ? gm.network_create_server_raw(gm.network_socket_tcp, port, maxClients) : gm.network_create_server(gm.network_socket_tcp, port, maxClients);
  expect(server).toBeGreaterThan(0);
  await log.next({ type: gm.network_type_up });
  const claim = gm.network_set_config(gm.network_config_hostname, name);
  expect(await log.next({ type: gm.network_type_hostname, id: claim })).toMatchObject({ succeeded: 1 });
  return { gm, log, server };
}

/** The server's /metrics page (plain http). */
export async function metricsText(network: TestNetwork): Promise<string> {
  return (await fetch(`${network.server.address().url}/metrics`)).text();
}
