/**
 * Durable sessions (PROTOCOL.md §14) end to end: two engines with a virtual TCP stream, the
 * client's path to the real server broken again and again by a fault-injecting proxy. Within the
 * resume window nothing may be lost, duplicated or reordered, and no script may see a disconnect;
 * past the window both ends get a disconnect event with a documented code.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import wrtc from "@roamhq/wrtc";
import { type GmnetServer, createServer } from "../../../../signaling-server/src/index.js";
import { createEngine, createMemoryStorage } from "../../src/index.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { runStreamSoak } from "../support/stream-soak.js";
import { EventLog } from "./support.js";

let server: GmnetServer | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await server?.close();
  proxy = server = undefined;
});

async function start(options: Parameters<typeof createServer>[0] = {}): Promise<{ server: GmnetServer; proxy: FaultProxy }> {
  server = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent", ...options });
  await server.ready;
  proxy = await startFaultProxy({ host: "127.0.0.1", port: server.address().port });
  return { server, proxy };
}

async function metric(s: GmnetServer, name: string): Promise<number> {
  const text = await (await fetch(s.address().url + "/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return line === undefined ? NaN : Number(line.split(" ")[1]);
}

describe("resume with replay", () => {
  it("carries a stream through 50 forced drops of every kind: every packet once, in order, no disconnect event", async () => {
    const { server, proxy } = await start({ replayBytesPerSession: 1024 * 1024 });
    const report = await runStreamSoak({
      serverUrl: server.address().wsUrl,
      proxy,
      drops: 50,
      faults: ["reset", "drop", "stall", "half-open-to-server", "half-open-to-client"],
      gapMs: 60,
      datagrams: true,
    });
    expect(report.drops).toBe(50);
    expect(report.disconnectEvents).toEqual([]);
    expect(report.disconnects).toBe(0);
    expect(report.resumes).toBe(50);
    expect(report.sent.toHost).toBeGreaterThan(500);
    expect(report.sent.toClient).toBeGreaterThan(500);
    expect({ lost: report.lost, duplicated: report.duplicated, reordered: report.reordered }).toEqual({ lost: 0, duplicated: 0, reordered: 0 });
    expect(report.delivered).toEqual(report.sent);
    // Nothing ever held more for one session than its bound, and a healthy stream keeps little.
    expect(await metric(server, "gmnet_replay_peak_session_bytes")).toBeLessThanOrEqual(1024 * 1024);
    expect(await metric(server, "gmnet_sessions_detached")).toBe(0);
  }, 60_000);
});
