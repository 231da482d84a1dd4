/**
 * Relay benchmark: N pairs of clients, each A sending fixed-size messages that the server relays
 * to its B, through gmnet and through a bare `ws` forwarding server, measured in the same run.
 *
 * The server under test runs in a child process (forked from run.ts with `--serve`), so its CPU
 * time (process.cpuUsage of the child) excludes the clients, which run here in the parent.
 * Each sender keeps a fixed number of messages in flight (sent, not yet delivered to its B), so
 * the figure is delivered throughput, not how fast the server can buffer.
 *
 * gmnet relay path: a full virtual-socket connect (SOCKET_STATUS_REQUEST → SOCKET_STATUS_RESPONSE
 * → SOCKET_CONNECTION_REQUEST → SOCKET_CONNECTION_RESPONSE → SOCKET_CONNECTED to both), then
 * ARBITRARY_DATA {connId, seq, data} on the connId. If the server does not implement virtual
 * sockets, both clients of a pair register one app channel instead and the result says so.
 *
 * gmnet clients open resumable sessions as the engine does by default (HELLO + RESUME, PROTOCOL.md
 * §14): they count the server's sequenced frames and acknowledge them as the engine does (ACK
 * after 64 frames, or 100 ms after the first unacknowledged one), so the server's replay buffers
 * are exercised at their real cost. `--session plain` sends HELLO alone.
 *
 * Every gmnet configuration runs the server with its defaults, except for the overrides listed in
 * CONFIGS (and port, host, db and logLevel): in particular the byte-rate limit (rateLimitBytes)
 * stays on, because defaults must survive a saturating sender.
 *
 * This file measures one configuration; the parts are in relay/: config.ts (configurations,
 * options, figures), server-child.ts (the server's process), gmnet-client.ts (the protocol
 * client), pairs.ts (the pairs and their frames) and pumping.ts (the windows in flight).
 */
import { ProtocolError } from "@gmnet/protocol";
import type { Measurement, RelayConfig, RelayOptions, RelayPath, SessionKind } from "./relay/config.js";
import { GmnetClient, ProtocolFailure } from "./relay/gmnet-client.js";
import { type Pair, bareWsPair, checkRawFrames, connectVirtualSocket, gmnetPair } from "./relay/pairs.js";
import { startPumping, stopPumping, verifiedDeliveries } from "./relay/pumping.js";
import { ServerChild } from "./relay/server-child.js";

/**
 * Finds the gmnet relay path once: a virtual-socket connect between two fresh clients, or the
 * app-channel fallback (with the reason) when the server answers that it has no virtual sockets.
 */
async function probePath(url: string, session: SessionKind): Promise<{ path: RelayPath; reason: string | undefined }> {
  const a = new GmnetClient(url, session);
  const b = new GmnetClient(url, session);
  try {
    await Promise.all([a.hello(), b.hello()]);
    await connectVirtualSocket(a, b, 39999);
    return { path: "ARBITRARY_DATA", reason: undefined };
  } catch (error) {
    const unimplemented = error instanceof ProtocolFailure && (error.code === ProtocolError.UNKNOWN_PACKET_TYPE || error.code === ProtocolError.UNKNOWN_CHANNEL);
    const timedOut = error instanceof Error && error.message.startsWith("timed out");
    if (!unimplemented && !timedOut) throw error;
    return { path: "app channel", reason: `virtual sockets unavailable (${(error as Error).message})` };
  } finally {
    a.close();
    b.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One configuration, measured in a fresh server process. `script` is the entry that serves with
 * --serve; with `profilePath` the server writes a CPU profile of the measured time there.
 */
export async function measure(config: RelayConfig, options: RelayOptions, script: string, profilePath?: string): Promise<Measurement> {
  checkRawFrames(options.size);
  const server = await ServerChild.start(script, config.kind, config.overrides, profilePath);
  const pairs: Pair[] = [];
  try {
    let path: RelayPath = "ws message";
    let fallbackReason: string | undefined;
    if (config.kind === "gmnet") {
      if (options.relay === "auto") ({ path, reason: fallbackReason } = await probePath(server.url, options.session));
      else path = options.relay === "vsocket" ? "ARBITRARY_DATA" : "app channel";
    }
    for (let i = 0; i < options.pairs; i++) {
      pairs.push(config.kind === "bare" ? await bareWsPair(server.url, i, options) : await gmnetPair(server.url, i, options, path));
    }

    startPumping(pairs, options.window);
    await sleep(options.warmupMs);

    const snapshot = async () => {
      const serverCpu = await server.cpuMicros();
      const clientCpu = process.cpuUsage();
      return {
        at: performance.now(),
        serverCpu,
        clientCpu: clientCpu.user + clientCpu.system,
        delivered: pairs.reduce((sum, pair) => sum + pair.received, 0),
        wsMessages: pairs.reduce((sum, pair) => sum + pair.receiverWsMessages(), 0),
      };
    };
    const start = await snapshot();
    await sleep(options.durationMs);
    const end = await snapshot();
    stopPumping();

    const delivered = verifiedDeliveries(pairs, config.label, start.delivered, end.delivered);
    const seconds = (end.at - start.at) / 1000;
    return {
      config: config.label,
      path,
      fallbackReason,
      delivered,
      seconds,
      messagesPerSecond: delivered / seconds,
      serverCpuPerMessageUs: (end.serverCpu - start.serverCpu) / delivered,
      serverCpuLoad: (end.serverCpu - start.serverCpu) / 1e6 / seconds,
      clientCpuLoad: (end.clientCpu - start.clientCpu) / 1e6 / seconds,
      messagesPerWsMessage: delivered / Math.max(1, end.wsMessages - start.wsMessages),
    };
  } finally {
    stopPumping();
    for (const pair of pairs) pair.close();
    await server.stop();
  }
}