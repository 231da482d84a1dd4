/**
 * Durable sessions (PROTOCOL.md §14) end to end: two engines with a virtual TCP stream, the
 * client's path to the real server broken again and again by a fault-injecting proxy. Within the
 * resume window nothing may be lost, duplicated or reordered, and no script may see a disconnect;
 * past the window both ends get a disconnect event with a documented code.
 */
import { describe, expect, it } from "vitest";
import type { GmnetServer } from "@gmnet/signaling-server";
import { appChannelClient } from "../support/app-channel-traffic.js";
import { behind, direct, useProxiedServer } from "../support/proxied-server.js";
import { runStreamSoak } from "../support/stream-soak.js";
import { EventLog } from "./support.js";

const start = useProxiedServer();

async function metric(s: GmnetServer, name: string): Promise<number> {
  const text = await (await fetch(s.address().url + "/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return line === undefined ? NaN : Number(line.split(" ")[1]);
}

describe("resume with replay", () => {
  it("carries a stream through 50 forced drops of every kind: every packet once, in order, no disconnect event", async () => {
    const { server, proxy } = await start({ replayBytesPerSession: 1024 * 1024 });
    // App-channel traffic alongside, one raw client behind the same proxy: it must not disturb anything.
    const appDirect = appChannelClient(server.address().wsUrl, "soak-test");
    const appBehindProxy = appChannelClient(proxy.wsUrl("/ws"), "soak-test");
    const report = await runStreamSoak({
      serverUrl: server.address().wsUrl,
      proxy,
      appKey: "soak-test",
      drops: 50,
      faults: ["reset", "drop", "stall", "half-open-to-server", "half-open-to-client"],
      gapMs: 60,
      datagrams: true,
    }).finally(() => {
      appDirect.stop();
      appBehindProxy.stop();
    });
    expect(report.drops).toBe(50);
    expect(report.disconnectEvents).toEqual([]);
    expect(report.disconnects).toBe(0);
    // Every drop was resumed (a busy machine may add a resume of its own when an ECHO answer is late: harmless).
    expect(report.resumes).toBeGreaterThanOrEqual(50);
    expect(report.sent.toHost).toBeGreaterThan(500);
    expect(report.sent.toClient).toBeGreaterThan(500);
    expect({ lost: report.lost, duplicated: report.duplicated, reordered: report.reordered }).toEqual({ lost: 0, duplicated: 0, reordered: 0 });
    expect(report.delivered).toEqual(report.sent);
    // Nothing ever held more for one session than its bound, and a healthy stream keeps little.
    expect(await metric(server, "gmnet_replay_peak_session_bytes")).toBeLessThanOrEqual(1024 * 1024);
    expect(await metric(server, "gmnet_sessions_detached")).toBe(0);
    expect(appDirect.stats.received).toBeGreaterThan(0);
    expect(appBehindProxy.stats.received).toBeGreaterThan(0);
    // Everyone has gone: the server holds no session and nothing for replay (no leak).
    await expect.poll(async () => ((await (await fetch(server.address().url + "/healthz")).json()) as { sessions: number }).sessions).toBe(0);
    expect(await metric(server, "gmnet_replay_bytes")).toBe(0);
  }, 60_000);

  it("past the resume window gives both scripts a disconnect event with a documented code, then a fresh session", async () => {
    const { server, proxy } = await start({ resumeWindowMs: 300 });
    const host = direct(server, "window");
    const client = behind(proxy, "window");
    const hostLog = new EventLog(host);
    const clientLog = new EventLog(client);
    try {
      expect(host.network_create_server(host.network_socket_tcp, 6510, 4)).toBeGreaterThan(0);
      const hostIp = (await hostLog.next({ type: host.network_type_up })).ip as string;
      const socket = client.network_create_socket(client.network_socket_tcp);
      client.network_connect_async(socket, hostIp, 6510);
      await clientLog.next({ type: client.network_type_non_blocking_connect, succeeded: 1 });
      await hostLog.next({ type: host.network_type_connect });

      // The server becomes unreachable for longer than the window.
      proxy.block();
      proxy.reset();
      const atHost = await hostLog.next({ type: host.network_type_disconnect });
      expect(atHost.error).toBe("E_NETWORK_PEER_GONE");
      const atClient = await clientLog.next({ type: client.network_type_disconnect });
      expect(atClient).toMatchObject({ id: socket, error: "E_NETWORK_NOT_RECOVERED" });
      expect((await clientLog.next({ type: client.network_type_down })).error).toBe("E_NETWORK_NOT_RECOVERED");
      expect(await metric(server, "gmnet_sessions_detached")).toBe(0);

      // Reachable again: a fresh session on the same virtual IP.
      proxy.unblock();
      const up = await clientLog.next({ type: client.network_type_up });
      expect(up.ip).toBe(client.network_get_config(client.network_config_virtual_ip));
    } finally {
      client.network_shutdown();
      host.network_shutdown();
    }
  });

  it("keeps the master login, room and party through a drop: chat sent meanwhile arrives, nobody is logged out", async () => {
    const { server, proxy } = await start({ scryptCost: 1024, scryptParallelism: 1 });
    const ann = direct(server, "master-resume");
    const bob = behind(proxy, "master-resume");
    const annLog = new EventLog(ann);
    const bobLog = new EventLog(bob);
    const must = async (gm: typeof ann, log: EventLog, id: number) => {
      const answer = await log.next({ type: gm.master_type_response, id });
      expect(answer.status, String(answer.message)).toBe(gm.master_status_success);
      return answer;
    };
    try {
      for (const [gm, log, name] of [[ann, annLog, "ann_resume"], [bob, bobLog, "bob_resume"]] as const) {
        await must(gm, log, gm.master_register(name, "correct horse"));
        await must(gm, log, gm.master_login(name, "correct horse"));
      }
      const room = await must(ann, annLog, ann.master_room_create("blip room", 4, 7100));
      await must(bob, bobLog, bob.master_room_join(room.room_id as number));
      const party = await must(ann, annLog, ann.master_party_create());
      await must(ann, annLog, ann.master_party_invite("bob_resume"));
      await bobLog.next({ type: bob.master_type_party_invite, party_id: party.party_id });
      await must(bob, bobLog, bob.master_party_accept(party.party_id as number));

      const before = bobLog.seen.length;
      proxy.reset();
      // Sent while bob's connection is down: the server holds them for bob's session.
      await must(ann, annLog, ann.master_chat_send(ann.master_chat_room, "room while away"));
      await must(ann, annLog, ann.master_chat_send(ann.master_chat_party, "party while away"));
      expect((await bobLog.next({ type: bob.master_type_chat, text: "room while away" })).channel).toBe(bob.master_chat_room);
      expect((await bobLog.next({ type: bob.master_type_chat, text: "party while away" })).channel).toBe(bob.master_chat_party);
      // Bob is still in both: his own messages reach ann on those channels.
      await must(bob, bobLog, bob.master_chat_send(bob.master_chat_party, "back in the party"));
      await annLog.next({ type: ann.master_type_chat, text: "back in the party" });
      const listed = await must(bob, bobLog, bob.master_room_list({}));
      expect(JSON.stringify(listed)).toContain("blip room");
      expect(bob.network_get_stats(-1)!.resumes).toBeGreaterThanOrEqual(1);
      const after = bobLog.seen.slice(before);
      const networkNoise = after.filter((event) => event.event_type === bob.ev_async_web_networking);
      const sessionNoise = after.filter((event) => event.event_type === bob.ev_async_social && event.type === bob.master_type_session);
      expect([...networkNoise, ...sessionNoise]).toEqual([]);
    } finally {
      bob.network_shutdown();
      ann.network_shutdown();
    }
  });

  it("replays megabytes that were unacknowledged at the drop, and sends what was written while away, intact and in order", async () => {
    const { server, proxy } = await start();
    const host = direct(server, "bulk");
    const client = behind(proxy, "bulk");
    const hostLog = new EventLog(host);
    const clientLog = new EventLog(client);
    try {
      host.network_create_server_raw(host.network_socket_tcp, 6510, 4);
      const hostIp = (await hostLog.next({ type: host.network_type_up })).ip as string;
      const socket = client.network_create_socket(client.network_socket_tcp);
      client.network_connect_raw_async(socket, hostIp, 6510);
      await clientLog.next({ type: client.network_type_non_blocking_connect, succeeded: 1 });
      await hostLog.next({ type: host.network_type_connect });

      // 2 MiB written and the path cut in the same task: none of it can have been acknowledged.
      const chunk = 64 * 1024;
      const total = 48 * chunk;
      const pattern = (i: number) => (i * 7 + (i >> 9)) & 0xff;
      const buffer = client.buffer_create(chunk, client.buffer_fixed, 1);
      let written = 0;
      const write = (count: number) => {
        for (let c = 0; c < count; c++, written += chunk) {
          for (let i = 0; i < chunk; i++) client.buffer_poke(buffer, i, client.buffer_u8, pattern(written + i));
          expect(client.network_send_raw(socket, buffer, chunk)).toBe(chunk);
        }
      };
      write(32);
      proxy.block();
      proxy.reset();
      // 1 MiB more while the server cannot be reached.
      write(16);
      proxy.unblock();

      let got = 0;
      let wrong = -1;
      while (got < total) {
        const data = await hostLog.next({ type: host.network_type_data }, 10_000);
        const bytes = data.bytes!;
        for (let i = 0; i < bytes.length && wrong < 0; i++) if (bytes[i] !== pattern(got + i)) wrong = got + i;
        got += bytes.length;
      }
      expect({ got, wrong }).toEqual({ got: total, wrong: -1 });
      expect(client.network_get_stats(-1)!.resumes).toBeGreaterThanOrEqual(1);
      expect([...hostLog.seen, ...clientLog.seen].filter((event) => event.type === host.network_type_disconnect || event.type === host.network_type_down)).toEqual([]);
    } finally {
      client.network_shutdown();
      host.network_shutdown();
    }
  }, 30_000);
});
