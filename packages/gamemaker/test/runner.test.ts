/**
 * The extension as GameMaker's HTML5 runner uses it: the built script evaluated in a page's global
 * scope, its gmnet_* functions called like GML calls extension functions (reals and strings), and
 * gmnet's events raised through the runner's ds_map_create / ds_map_add / event_perform_async,
 * against a real signaling server on port 0.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wrtc from "@roamhq/wrtc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type GmnetServer, createServer } from "@gmnet/signaling-server";
import { buildExtension } from "../src/build.js";
import { extensionConstants } from "../src/glue.js";
import { FakeTab, type RaisedEvent } from "./fake-runner.js";

const ev_async_web_networking = 68;
const ev_async_social = 70;
const c = extensionConstants();
const k = (name: string): number => {
  const value = c[`gmnet_${name}`];
  if (value === undefined) throw new Error(`no constant gmnet_${name}`);
  return value;
};

let outDir: string;
let script: string;
let server: GmnetServer;
let url: string;
const tabs: FakeTab[] = [];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "gmnet-gm-ext-"));
  script = readFileSync(await buildExtension(outDir), "utf8");
  server = createServer({ port: 0, host: "127.0.0.1", db: ":memory:", logLevel: "silent" });
  await server.ready;
  url = server.address().wsUrl;
}, 60_000);

afterAll(async () => {
  for (const tab of tabs) tab.shutdown();
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

function tab(appKey = "gm-test"): FakeTab {
  const created = new FakeTab(script, { network: { WebSocket, wrtc, signalingUrl: url, appKey } });
  tabs.push(created);
  return created;
}

const networking = (type: number) => (event: RaisedEvent) => event.event === ev_async_web_networking && event.load.type === type;

describe("the gmnet extension in a GameMaker HTML5 page", () => {
  it("finds the runner's entry points", () => {
    const page = tab();
    expect(page.gml.gmnet_ready!()).toBe(1);
    const bare = new FakeTab(script, { network: { WebSocket, signalingUrl: url } }, false);
    expect(bare.gml.gmnet_ready!()).toBe(0);
  });

  it("hosts network_create_server on a virtual IP, and the host's Async Networking event gets a ds_map with GameMaker's keys", async () => {
    const host = tab();
    const client = tab();
    const tcp = k("network_socket_tcp");

    // The host's Async Networking event reads data buffers while it runs, as GML does with async_load[? "buffer"].
    host.runner.onAsync = (event) => {
      if (event.event === ev_async_web_networking && event.load.type === k("network_type_data")) {
        event.extra.text = host.gml.gmnet_buffer_read!(event.load.buffer!, k("buffer_string"));
      }
    };
    const server = host.gml.gmnet_network_create_server!(tcp, 6510, 8);
    expect(server).toBeGreaterThanOrEqual(0);
    const hostUp = await host.until(networking(k("network_type_up")));
    const hostIp = hostUp.load.ip as string;
    expect(hostIp).toMatch(/^10\.\d+\.\d+\.\d+$/);

    const socket = client.gml.gmnet_network_create_socket!(tcp);
    expect(client.gml.gmnet_network_connect!(socket, hostIp, 6510)).toBe(0);
    // As GameMaker scripts do: send on the line after connecting (queued until connected).
    const out = client.gml.gmnet_buffer_create!(64, k("buffer_grow"), 1);
    client.gml.gmnet_buffer_write!(out, k("buffer_string"), "hello from GML");
    expect(client.gml.gmnet_network_send_packet!(socket, out, client.gml.gmnet_buffer_tell!(out))).toBeGreaterThan(0);

    const clientUp = await client.until(networking(k("network_type_up")));
    const connected = await client.until(networking(k("network_type_non_blocking_connect")));
    expect(connected.load).toMatchObject({ id: socket, succeeded: 1, ip: hostIp, port: 6510 });

    const joined = await host.until(networking(k("network_type_connect")));
    expect(joined.load.type).toBe(1); // GameMaker's network_type_connect
    expect(joined.load.id).toBe(server);
    expect(joined.load.server).toBe(server);
    expect(typeof joined.load.socket).toBe("number");
    expect(joined.load.socket).toBeGreaterThanOrEqual(0);
    expect(joined.load.ip).toBe(clientUp.load.ip);
    expect(joined.load.port).toBeGreaterThanOrEqual(1);
    expect(joined.load.port).toBeLessThanOrEqual(65535);
    for (const value of Object.values(joined.load)) expect(["number", "string"]).toContain(typeof value);
    // async_load was a runner map, destroyed once the event was over.
    expect(host.runner.destroyed.has(joined.map)).toBe(true);
    expect(host.runner.maps.has(joined.map)).toBe(false);

    // The Async event reads the data buffer while it runs, as GML does with async_load[? "buffer"].
    const data = await host.until(networking(k("network_type_data")));
    expect(data.load).toMatchObject({ id: joined.load.socket, size: "hello from GML".length + 1, ip: clientUp.load.ip });
    expect(data.extra.text).toBe("hello from GML");
    // Like GameMaker's, the data buffer is gone after the event.
    expect(host.gml.gmnet_buffer_exists!(data.load.buffer!)).toBe(0);

    client.gml.gmnet_network_destroy!(socket);
    const left = await host.until(networking(k("network_type_disconnect")));
    expect(left.load).toMatchObject({ id: server, socket: joined.load.socket });
  });

  it("sends UDP between two pages over a WebRTC DataChannel", async () => {
    const a = tab("gm-udp");
    const b = tab("gm-udp");
    const udp = k("network_socket_udp");
    const sa = a.gml.gmnet_network_create_socket_ext!(udp, 7000);
    const sb = b.gml.gmnet_network_create_socket_ext!(udp, 7001);
    expect(sa).toBeGreaterThanOrEqual(0);
    expect(sb).toBeGreaterThanOrEqual(0);
    const ipB = (await b.until(networking(k("network_type_up")))).load.ip as string;
    await a.until(networking(k("network_type_up")));

    b.runner.onAsync = (event) => {
      if (event.event === ev_async_web_networking && event.load.type === k("network_type_data")) {
        event.extra.value = b.gml.gmnet_buffer_read!(event.load.buffer!, k("buffer_u32"));
      }
    };
    const datagram = a.gml.gmnet_buffer_create!(4, k("buffer_fixed"), 1);
    a.gml.gmnet_buffer_write!(datagram, k("buffer_u32"), 123456);
    // The first datagrams go through the server's relay; send until one arrives over the peer link.
    const isData = (event: RaisedEvent) => networking(k("network_type_data"))(event) && event.load.via === "p2p";
    const deadline = Date.now() + 20_000;
    // One datagram per game frame: the first ones take the server's relay while the WebRTC link
    // opens, then they go peer to peer.
    while (!b.runner.events.some(isData)) {
      if (Date.now() > deadline) throw new Error(`no datagram via p2p; stats ${String(a.gml.gmnet_network_get_stats!(sa))}`);
      a.gml.gmnet_network_send_udp!(sa, ipB, 7001, datagram, 4);
      a.gml.gmnet_async_step!();
      b.gml.gmnet_async_step!();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const received = b.runner.events.find(isData)!;
    expect(received.load.via).toBe("p2p");
    expect(received.extra.value).toBe(123456);
    expect(received.load.port).toBe(7000);
  }, 40_000);

  it("answers master_* requests in the Async Social event", async () => {
    const page = tab("gm-master");
    const request = page.gml.gmnet_master_login_guest!();
    expect(request).toBeGreaterThan(0);
    const answer = await page.until((event) => event.event === ev_async_social && event.load.id === request);
    expect(answer.load).toMatchObject({ type: k("master_type_response"), succeeded: 1 });
    expect(page.gml.gmnet_master_logged_in!()).toBe(1);
    expect(page.gml.gmnet_master_get_username!()).toMatch(/^guest-/);
  });
});
