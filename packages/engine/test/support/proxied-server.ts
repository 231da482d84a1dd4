/**
 * A real signaling server (port 0, in-memory database) with a fault proxy in front of it
 * (fault-proxy.ts), and engines on either side of the proxy, for the tests that break an engine's
 * path to the server (network/resume.test.ts, network/channels.test.ts).
 */
import wrtc from "@roamhq/wrtc";
import { afterEach } from "vitest";
import { WebSocket } from "ws";
import { type GmnetServer, type ServerOptions, createServer } from "@gmnet/signaling-server";
import { type Engine, createEngine, createMemoryStorage } from "../../src/index.js";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.js";

export interface ProxiedServer {
  readonly server: GmnetServer;
  readonly proxy: FaultProxy;
}

/** Returns start(), which starts a server (with `options`) and its proxy; both close after the test that started them. */
export function useProxiedServer(): (options?: ServerOptions) => Promise<ProxiedServer> {
  let started: { server: GmnetServer; proxy?: FaultProxy } | undefined;
  afterEach(async () => {
    await started?.proxy?.close();
    await started?.server.close();
    started = undefined;
  });
  return async (options = {}) => {
    const server = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent", ...options });
    started = { server };
    await server.ready;
    const proxy = await startFaultProxy({ host: "127.0.0.1", port: server.address().port });
    started.proxy = proxy;
    return { server, proxy };
  };
}

/** An engine straight to the server, with the default liveness (a busy test machine must not make it give up its socket). */
export function direct(server: GmnetServer, appKey: string): Engine {
  return createEngine({ storage: createMemoryStorage(), network: { WebSocket, wrtc, signalingUrl: server.address().wsUrl, appKey } });
}

/** An engine behind the fault proxy, quick to notice a dead path and to come back. */
export function behind(proxy: FaultProxy, appKey: string): Engine {
  return createEngine({ storage: createMemoryStorage(), network: { WebSocket, wrtc, signalingUrl: proxy.wsUrl("/ws"), appKey, reconnectDelayMs: 20, livenessTimeoutMs: 400, echoIntervalMs: 100 } });
}
