/**
 * `npm run soak`: the resume soak (PROTOCOL.md §14). A real signaling server, a fault-injecting
 * proxy in front of one engine, a virtual TCP stream at 100 packets/s each way, relayed
 * datagrams both ways, and app-channel traffic from two raw clients (one behind the proxy) —
 * while the proxy breaks the path `--drops` times (default 1000), cycling through reset, drop,
 * stall and both half-open directions. Prints what was sent, lost, duplicated and reordered, how
 * long resumes took, and whether the server kept its bounds and let go of everything afterwards.
 *
 *   npm run soak -- --drops 200
 */
import { parseArgs } from "node:util";
import { appChannelClient } from "../packages/engine/test/support/app-channel-traffic.js";
import { startFaultProxy, type FaultProxy } from "../packages/engine/test/support/fault-proxy.js";
import { runStreamSoak } from "../packages/engine/test/support/stream-soak.js";
import { createServer } from "../signaling-server/src/index.js";

const { values } = parseArgs({
  options: { drops: { type: "string", default: "1000" }, "replay-bytes": { type: "string", default: String(1024 * 1024) } },
});
const drops = Number(values.drops);
const replayBytes = Number(values["replay-bytes"]);
if (!Number.isInteger(drops) || drops < 1 || !Number.isInteger(replayBytes) || replayBytes < 65536) {
  console.error("usage: npm run soak -- [--drops N (≥ 1)] [--replay-bytes N (≥ 65536)]");
  process.exit(2);
}

const APP_KEY = "soak";
const server = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent", replayBytesPerSession: replayBytes });
await server.ready;
const proxy = await startFaultProxy({ host: "127.0.0.1", port: server.address().port });

const appDirect = appChannelClient(server.address().wsUrl, APP_KEY);
const appBehindProxy = appChannelClient(proxy.wsUrl("/ws"), APP_KEY);

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
console.log(`gmnet resume soak: ${drops} drops, stream at 100 packets/s each way, datagrams and app-channel traffic alongside; Node ${process.version}`);
let lastPrinted = 0;
const report = await runStreamSoak({
  serverUrl: server.address().wsUrl,
  proxy: proxy as FaultProxy,
  appKey: APP_KEY,
  drops,
  faults: ["reset", "drop", "stall", "half-open-to-server", "half-open-to-client"],
  gapMs: 100,
  datagrams: true,
  settleTimeoutMs: 30_000,
  onProgress: (done) => {
    if (done - lastPrinted >= 100 || done === drops) {
      lastPrinted = done;
      // The heap after a full GC at each step: a leak shows as a steady climb, not as noise.
      gc?.();
      console.log(`  ${done}/${drops} drops, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB`);
    }
  },
});
appDirect.stop();
appBehindProxy.stop();

const metrics = await (await fetch(server.address().url + "/metrics")).text();
const metric = (name: string): number => Number(metrics.split("\n").find((line) => line.startsWith(`${name} `))?.split(" ")[1] ?? NaN);
const health = (await (await fetch(server.address().url + "/healthz")).json()) as { sessions: number; connections: number };
await proxy.close();
await server.close();
gc?.();
const heapAfter = process.memoryUsage().heapUsed;

const percentiles = (samples: number[]): string => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
  return `${at(50).toFixed(0)} / ${at(99).toFixed(0)} / ${(sorted.at(-1) ?? NaN).toFixed(0)}`;
};
const rows: Array<[string, string]> = [
  ["drops (reset, drop, stall, half-open ×2)", String(report.drops)],
  ["packets sent (client→host / host→client)", `${report.sent.toHost} / ${report.sent.toClient}`],
  ["packets delivered", `${report.delivered.toHost} / ${report.delivered.toClient}`],
  ["lost / duplicated / reordered", `${report.lost} / ${report.duplicated} / ${report.reordered}`],
  ["disconnect or down events seen by the scripts", String(report.disconnects)],
  ["resumes", String(report.resumes)],
  ["resume time, socket lost → RESUMED, p50 / p99 / max (ms)", percentiles(report.resumeMs)],
  ["recovery time, fault → RESUMED (incl. noticing a stall), p50 / p99 / max (ms)", percentiles(report.recoveryMs)],
  ["datagrams sent / received (unreliable)", `${report.datagramsSent} / ${report.datagramsReceived}`],
  ["app-channel frames sent / received, raw legacy clients (direct, behind the proxy)", `${appDirect.stats.sent}/${appDirect.stats.received}, ${appBehindProxy.stats.sent}/${appBehindProxy.stats.received} (${appBehindProxy.stats.reconnects} reconnects)`],
  ["server: most bytes one session held for replay (bound)", `${metric("gmnet_replay_peak_session_bytes")} (${replayBytes})`],
  ["server: sessions detached / held for replay at the end", `${metric("gmnet_sessions_detached")} / ${metric("gmnet_replay_bytes")} bytes`],
  ["server: sessions / connections before shutdown", `${health.sessions} / ${health.connections}`],
  ["heap used, before → after (this process)", `${(heapBefore / 2 ** 20).toFixed(1)} → ${(heapAfter / 2 ** 20).toFixed(1)} MiB${gc ? "" : " (run with --expose-gc for a settled figure)"}`],
  ["elapsed", `${(report.elapsedMs / 1000).toFixed(1)} s`],
];
const width = Math.max(...rows.map(([label]) => label.length));
for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);

const failed = report.lost > 0 || report.duplicated > 0 || report.reordered > 0 || report.disconnects > 0 || metric("gmnet_replay_peak_session_bytes") > replayBytes;
if (failed) {
  console.error("soak FAILED: accepted packets were lost, duplicated or reordered, a script saw a disconnect, or a replay bound was passed");
  if (report.disconnectEvents.length > 0) console.error(JSON.stringify(report.disconnectEvents, null, 2));
}
process.exit(failed ? 1 : 0);
