/**
 * Network benchmark (`npm run bench` runs it after the buffer and relay benchmarks): round-trip
 * latency and echo throughput of gmnet's network_* functions between two engines in this Node
 * process, against a bare `ws` echo measured in the same run, printed as ratios.
 *
 *   TSX_TSCONFIG_PATH=packages/engine/bench/tsconfig.json node --import tsx packages/engine/bench/network.bench.ts [options]
 *
 *   --markdown          also print Markdown tables for the README
 *   --rounds N          rounds of every configuration (default 3); figures are medians over them
 *   --configs a,b       configurations to run (default all): bare, bare-relay, tcp, tcp-sealed, tcp60, bridge,
 *                       mcp, dc, p2p, relay, relay-sealed, relay60
 *   --pings N           sequential round trips per latency measurement (default 1000) …
 *   --latency-time MS   … or fewer when they take longer than this (default 500)
 *   --sizes 64,1024     payload sizes of the throughput measurement (default 64,1024; 4–16384,
 *                       gmnet's largest P2P datagram)
 *   --window N          messages in flight during the throughput measurement (default 256; the
 *                       first window is sent in one task, which the engine sends as few WebSocket
 *                       messages of at most 512 KiB; on the relay path keep window × (size + ~30
 *                       bytes) below half the server's maxQueuedBytes (2 MiB), above which the
 *                       server drops datagrams for a client that has not taken them yet; the mcp
 *                       configuration keeps at most 16 in flight, its server's default limit)
 *   --duration MS       measured time per throughput measurement (default 400), after …
 *   --warmup MS         … this much unmeasured sending (default 100)
 *
 * `npm run bench -- <args>` passes the same arguments to every benchmark: --markdown and --rounds
 * apply to all of them, --duration, --warmup and --window mean here what they mean to the relay
 * benchmark, and the other benchmarks' options (--filter, --in-process, --time, --warmup-time,
 * --pairs, --size, --only, --relay, --session, --sender, --server-cpu-prof) are accepted and ignored.
 *
 * Configurations (one engine pair each, A echoing what B sends):
 *   bare     a `ws` WebSocketServer (port 0) that sends every binary message back, and a `ws` client
 *   bare-relay  a `ws` server relaying between the pinger and a `ws` client that echoes (gmnet's
 *            topology: four WebSocket hops per round trip)
 *   tcp      network_send_packet on virtual TCP through the signaling server with its default
 *            config (tickRate 0: what one event-loop turn queued for a client leaves as one
 *            WebSocket message at the end of that turn, with no added delay)
 *   tcp-sealed  tcp with end-to-end encryption on both engines (network_encryption_shared: every
 *            packet sealed with AES-GCM by WebCrypto, docs/NETWORK.md "Encryption")
 *   tcp60    tcp with the server's tickRate 60 (frames batched per 16.7 ms tick)
 *   bridge   a native GameMaker client on real TCP through the server's --gm-bridge to engine A's
 *            network_create_server (default config plus the bridge)
 *   mcp      an MCP tools/call (@modelcontextprotocol/sdk client, Streamable HTTP, bearer token)
 *            through the server's /mcp to A's tool `echo`, which A answers inside its
 *            network_type_mcp_call event with network_mcp_tool_respond; default config plus one
 *            MCP token. Its throughput window is at most 16 calls, the server's default
 *            mcpMaxConcurrentCalls, as an agent's calls meet it. A message of N bytes is a call with arguments { seq, pad }
 *            and pad N characters long (inside the JSON-RPC request and its HTTP headers); the echo is
 *            the seq as the result's text. Every call is an HTTP POST answered in its response
 *            (fetch keeps connections alive and opens more while calls are in flight)
 *   dc       reference for p2p: two RTCPeerConnections of @roamhq/wrtc, no gmnet, one DataChannel
 *            configured as gmnet's UDP links are ({ ordered: false, maxRetransmits: 0 }), echoing
 *   p2p      network_send_udp over a WebRTC DataChannel (@roamhq/wrtc), once both ends receive via "p2p"
 *   relay    network_send_udp through the server relay (network_config_enable_webrtc 0), default config
 *   relay-sealed  relay with end-to-end encryption on both engines
 *   relay60  relay with the server's tickRate 60
 *
 * Everything runs in this process, on one thread (WebRTC's SCTP stack aside): the signaling
 * servers (port 0, db ":memory:", logLevel "silent", everything else at its default, the
 * byte-rate limit rateLimitBytes included: a client over it is read more slowly, not cut off),
 * the engines (`@gmnet/engine` from dist/, with `ws` and `@roamhq/wrtc`, as a Node bot uses it,
 * with its defaults: resumable sessions, the frames of one task sent as one message) and the
 * bare echo. On the WebSocket paths throughput is therefore bounded by the CPU cost of a
 * message's whole round trip (client, server, echoing peer, server, client), and so is the RTT;
 * on the DataChannel paths by @roamhq/wrtc, which leaves the CPU partly idle.
 * Engines are driven as a game loop would: await async_event_wait, then async_event_dispatch;
 * the echoing engine answers inside its data event, the sending engine sends the next message
 * inside the data event of an echo. Every round sets each configuration up afresh (new engines,
 * connection, P2P link); odd rounds run them in reverse order; before round 1 a short unmeasured
 * pass over the first two configurations warms up the JIT.
 *
 * This file runs the rounds and prints; the parts are in network/: options.ts (configurations,
 * flags, fixed ports and timeouts), the echoing ends (echo-path.ts, reference-echoes.ts,
 * native-gm-client.ts, mcp-echo-client.ts, engine-echo.ts), setups.ts (each configuration set up
 * afresh), measure.ts (RTT and throughput) and figures.ts (medians, ratios, tables).
 */
import { createServer } from "@gmnet/signaling-server";
import { now } from "./network/echo-path.js";
import { capped, integer, latencyTable, markdown, ms, plain, sizeName, summarize, throughputTable } from "./network/figures.js";
import { type Measurement, measure } from "./network/measure.js";
import { CONFIGS, type ConfigId, LOSS_TIMEOUT_MS, type Options, SERVERS, parseOptions } from "./network/options.js";
import { startBareEchoServer } from "./network/reference-echoes.js";
import type { Environment } from "./network/setups.js";

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const configs = CONFIGS.filter((c) => options.configs.includes(c.id));
  const started = now();
  console.log(
    `\ngmnet network benchmark: ${configs.length} configurations; RTT of up to ${options.pings} sequential 64-byte round trips (≤ ${options.latencyTimeMs} ms); ` +
      `echo throughput of ${options.sizes.map(sizeName).join(" and ")} messages, ${options.window} in flight, ${options.warmupMs} ms warm-up + ${options.durationMs} ms; ` +
      `${options.rounds} round(s); servers, engines and bare echo in this process; Node ${process.version}`,
  );

  const bareServer = await startBareEchoServer();
  const env: Environment = { bareUrl: bareServer.url, servers: new Map(), engines: [] };
  for (const serverId of new Set(configs.flatMap((c) => (c.server === undefined ? [] : [c.server])))) {
    // The server's defaults (rate limit included) plus the configuration's overrides; nothing else.
    const server = createServer({ ...SERVERS[serverId], host: "127.0.0.1", port: 0, db: ":memory:", logLevel: "silent" });
    await server.ready;
    env.servers.set(serverId, server);
  }

  const rounds: Array<Map<ConfigId, Measurement>> = [];
  try {
    // An unmeasured, shorter pass over the baseline and the first gmnet configuration, so round 1
    // does not measure ws and the engine before the JIT has compiled them.
    const warmUp: Options = { ...options, pings: 500, latencyTimeMs: 150, warmupMs: 50, durationMs: 150 };
    for (const config of configs.slice(0, 2)) await measure(env, config, warmUp);
    for (let round = 0; round < options.rounds; round++) {
      const results = new Map<ConfigId, Measurement>();
      // Odd rounds run the configurations in reverse order, so drift over the run hits all alike.
      const order = round % 2 === 0 ? configs : [...configs].reverse();
      for (const config of order) {
        const began = now();
        const result = await measure(env, config, options);
        results.set(config.id, result);
        const rates = options.sizes.map((size) => `${integer(result.throughput.get(size)!.messagesPerSecond)} msg/s (${sizeName(size)})`).join(", ");
        console.log(`  round ${round + 1}/${options.rounds}: ${config.label}: RTT ${ms(result.rttMedian)} median, ${ms(result.rttP99)} p99; ${rates} (${((now() - began) / 1000).toFixed(1)} s)`);
      }
      rounds.push(results);
    }
  } finally {
    for (const gm of env.engines) gm.network_shutdown();
    await Promise.all([...env.servers.values()].map((server) => server.close()));
    await bareServer.close();
    if (env.bareRelay !== undefined) await (await env.bareRelay).close();
  }

  const rows = configs.map((config) => summarize(config, rounds, options.sizes));
  const latency = latencyTable(rows);
  const throughput = throughputTable(rows, options.sizes);
  console.log("");
  console.log(plain(latency));
  console.log("");
  console.log(plain(throughput));
  for (const row of rows) {
    if (row.offPath > 0) console.log(`\nNOTE: ${row.config.label}: ${row.offPath} deliveries did not come via ${row.config.via ?? "the expected path"}`);
  }
  if (options.markdown) {
    console.log("");
    console.log(markdown(latency));
    console.log("");
    console.log(markdown(throughput));
  }
  const seconds = ((now() - started) / 1000).toFixed(1);
  console.log(
    `\nRTT = one ${64}-byte message to the echoing end and back, median / 99th percentile over a round's pings, median over ${options.rounds} rounds; ` +
      `msg/s = echoes received per second with ${options.window} messages in flight${capped(options)}, MB/s = msg/s × payload size (10^6 bytes); ` +
      `"vs bare" = gmnet / bare ws in the same round (median over rounds): above 1 is slower for RTT, below 1 is slower for throughput; ` +
      `lost = messages never echoed within ${LOSS_TIMEOUT_MS} ms, by size. (${seconds} s)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});