/**
 * The GameMaker bridge with a real browser tab: the page hosts network_create_server (GameMaker
 * mode) and claims a host name; a native-style GameMaker client over node:net (the documented
 * wire format, signaling-server/test/support/gm-native.ts, independent of the engine's codec)
 * connects to the bridge's real TCP port and chats with the page, which sees it come from the
 * bridge's virtual IP.
 *
 * The shared server of global-setup.ts has no bridge, so this test runs a server of its own (port
 * 0, the built pages from GMNET_E2E_STATIC_DIR) with a bridge on a free port, and loads the page
 * from it (the engine's default signaling URL is the page origin's /ws). A screenshot of the page
 * is saved to e2e/artifacts/screenshots/gm-bridge.png.
 */
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type GmnetServer, createServer } from "@gmnet/signaling-server";
import { NativeStream, packet } from "../../signaling-server/test/support/gm-native.js";
import { STATIC_DIR_ENV } from "../env.js";
import { playgroundReady } from "../fixtures.js";
import { ev_async_web_networking, expect, installEventLog, network_type_connect, network_type_data, network_type_disconnect, network_type_up, nextEvent, sendText, test } from "../support/network.js";

const SCREENSHOTS = fileURLToPath(new URL("../artifacts/screenshots/", import.meta.url));

/** buffer_write(buffer_string): UTF-8 and a NUL. */
const gmString = (text: string): Buffer => Buffer.concat([Buffer.from(text, "utf8"), Buffer.of(0)]);

test("a native GameMaker client reaches a page's network_create_server through a bridge port and chats with it", async ({ openPeer }, testInfo) => {
  const staticDir = process.env[STATIC_DIR_ENV];
  if (staticDir === undefined) throw new Error(`${STATIC_DIR_ENV} is not set: run with --config e2e/playwright.config.ts`);
  const id = Math.random().toString(36).slice(2, 10);
  const appKey = `e2e-bridge-${id}`;
  const hostName = `arena-${id}`;
  const virtualPort = 6510;
  const server: GmnetServer = createServer({
    port: 0,
    host: "127.0.0.1",
    db: ":memory:",
    logLevel: "silent",
    staticDir,
    gmBridges: [{ port: 0, target: hostName, targetPort: virtualPort, appKey }],
  });
  let client: NativeStream | undefined;
  try {
    await server.ready;
    const [bridge] = server.gmBridges();
    expect(bridge).toMatchObject({ target: hostName, targetPort: virtualPort, appKey, virtualIp: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/) });

    // The page, from this test's server: its engine signals at that origin's /ws.
    const peer = await openPeer("bridge-host");
    const page = peer.page;
    await page.goto(`${server.address().url}/buffers.html`);
    await playgroundReady(page);
    await page.evaluate(installEventLog);
    const hosted = await page.evaluate(
      ({ appKey, port }) => {
        const gm = globalThis.gmnet;
        gm.network_set_config(gm.network_config_app_key, appKey);
        return gm.network_create_server(gm.network_socket_tcp, port, 4);
      },
      { appKey, port: virtualPort },
    );
    expect(hosted, "network_create_server").toBeGreaterThanOrEqual(0);
    await nextEvent(peer, { type: network_type_up });
    const claim = await page.evaluate((name) => globalThis.gmnet.network_set_config(globalThis.gmnet.network_config_hostname, name), hostName);
    const hostnameType = await page.evaluate(() => globalThis.gmnet.network_type_hostname as number);
    expect(await nextEvent(peer, { type: hostnameType, id: claim as number })).toMatchObject({ succeeded: 1 });

    // The native client: GameMaker's handshake, as a native export does it.
    client = await NativeStream.connect(bridge!.port);
    await client.handshake();
    const accepted = await nextEvent(peer, { type: network_type_connect, id: hosted });
    expect(accepted).toMatchObject({ event_type: ev_async_web_networking, ip: bridge!.virtualIp, socket: expect.any(Number) });
    expect(accepted.port as number).toBeGreaterThanOrEqual(49152);
    const socket = accepted.socket as number;

    // Native → page.
    await client.write(packet(gmString("hello from a native game")));
    expect(await nextEvent(peer, { type: network_type_data, id: socket })).toMatchObject({ text: "hello from a native game" });
    // Two packets glued in one write, and one split over two writes: the page gets each whole.
    await client.write(Buffer.concat([packet(gmString("one")), packet(gmString("two"))]));
    const split = packet(gmString("three, split"));
    await client.write(split.subarray(0, 7));
    await client.write(split.subarray(7));
    for (const text of ["one", "two", "three, split"]) expect(await nextEvent(peer, { type: network_type_data, id: socket })).toMatchObject({ text });

    // Page → native.
    const sent = await sendText(peer, socket, "hello from the page");
    expect(sent.sent).toBe(sent.size);
    expect(await client.readPacket()).toEqual(gmString("hello from the page"));

    await page.evaluate(
      ({ ip, port }) => {
        const note = document.createElement("pre");
        note.id = "gm-bridge-e2e";
        note.textContent = `GameMaker bridge: a native client joined from ${ip}:${port} and chatted with this page`;
        document.body.prepend(note);
      },
      { ip: accepted.ip as string, port: accepted.port as number },
    );
    await mkdir(SCREENSHOTS, { recursive: true });
    const path = `${SCREENSHOTS}gm-bridge.png`;
    await page.screenshot({ path, fullPage: true });
    await testInfo.attach("gm-bridge", { path, contentType: "image/png" });

    // The native client leaves: the page's socket is disconnected; then the page closes a second one.
    client.socket.end();
    expect(await nextEvent(peer, { type: network_type_disconnect, socket })).toMatchObject({ id: hosted });
    await client.endedByOtherSide();
    client = await NativeStream.connect(bridge!.port);
    await client.handshake();
    const second = (await nextEvent(peer, { type: network_type_connect, id: hosted })).socket as number;
    await page.evaluate((socket) => globalThis.gmnet.network_destroy(socket), second);
    await client.endedByOtherSide();
  } finally {
    client?.socket.destroy();
    await server.close();
  }
});
