/**
 * network_* in Chromium between two browser contexts: two "machines" on the virtual network, each
 * with its own identity (sessionStorage) and virtual IP, both talking to the real signaling server
 * that global-setup.ts starts, which also serves the pages: /ws is at the pages' own origin.
 *
 * Every wait is for an event, inside the page (async_event_wait through the page's event log,
 * e2e/support/network.ts), with a deadline; nothing sleeps.
 */
import {
  type Peer,
  type TcpPair,
  connectTcp,
  ev_async_web_networking,
  expect,
  network_type_connect,
  network_type_data,
  network_type_disconnect,
  network_type_non_blocking_connect,
  network_type_up,
  networkState,
  nextEvent,
  randomPort,
  sendText,
  stringHex,
  test,
} from "../support/network.js";
import { BYE, createUdpSocket, pingPong } from "../support/udp.js";

/**
 * What WebRTC between two headless Chromium contexts on one machine needs (found by trying each
 * combination in a network namespace with nothing but loopback, as on a loopback-only machine):
 * - a media permission (microphone; camera does as well): without one, Chromium hides host
 *   candidates behind mDNS names (<uuid>.local), which nothing resolves on a loopback-only
 *   machine; with it, the page gets the real addresses. Granting it to the context is enough: no
 *   page calls getUserMedia, so neither --use-fake-ui-for-media-stream nor a fake device is needed.
 * - --allow-loopback-in-peer-connection (playwright.config.ts): otherwise Chromium never gathers
 *   loopback candidates, and loopback is all such a machine has.
 * With either one missing there, no candidate is gathered and every datagram stays on the relay.
 */
const WEBRTC_CONTEXT = { permissions: ["microphone"] };

/**
 * How long the relay-only tests keep datagrams flowing: many times what a DataChannel takes to
 * open between two contexts here (well under a second), so "no P2P" cannot be just "not yet".
 */
const RELAY_ONLY_MS = 3_000;

/** Pages A and B, and B's TCP connection to a server in A (connectTcp). */
async function tcpBetweenPages(openPeer: (name: string) => Promise<Peer>): Promise<{ a: Peer; b: Peer; tcp: TcpPair }> {
  const a = await openPeer("A");
  const b = await openPeer("B");
  return { a, b, tcp: await connectTcp(a, b) };
}

/** What every event of B's connection carries at A's server: the server, and B's address and port as A sees them. */
const atServerFromB = (tcp: TcpPair) => ({ event_type: ev_async_web_networking, server: tcp.server, ip: tcp.ipB, port: tcp.clientPort });

test("a page reaches the signaling server at its own origin (/ws), which also answers /healthz and /metrics", async ({ openPeer, request, baseURL }) => {
  const a = await openPeer("A");
  // The event constants these tests use are the engine's.
  expect(
    await a.page.evaluate(() => {
      const gm = globalThis.gmnet;
      return [gm.network_type_connect, gm.network_type_disconnect, gm.network_type_data, gm.network_type_non_blocking_connect, gm.network_type_up, gm.ev_async_web_networking];
    }),
  ).toEqual([network_type_connect, network_type_disconnect, network_type_data, network_type_non_blocking_connect, network_type_up, ev_async_web_networking]);

  // Offline until a socket needs the network; then online at the default URL, ws://<page host>/ws.
  expect(await networkState(a)).toEqual({ connected: 0, ip: "" });
  const { ip } = await createUdpSocket(a, randomPort());
  expect(await a.page.evaluate(() => globalThis.gmnet.network_get_config(globalThis.gmnet.network_config_signaling_url))).toBe(`ws://${new URL(baseURL!).host}/ws`);
  expect(await networkState(a)).toEqual({ connected: 1, ip });

  const health = await request.get("/healthz");
  expect(health.status()).toBe(200);
  // Other tests may be connected to the same server at the same time: at least this page is.
  expect(await health.json()).toMatchObject({ status: "ok", protocolVersion: expect.any(Number), sessions: expect.any(Number) });
  expect(((await health.json()) as { sessions: number }).sessions).toBeGreaterThanOrEqual(1);
  const metrics = await request.get("/metrics");
  expect(metrics.status()).toBe(200);
  expect(await metrics.text()).toMatch(/^gmnet_connections \d+$/m);
});

test("TCP: a virtual socket carries buffer_string packets both ways between two contexts", async ({ openPeer }) => {
  const { a, b, tcp } = await tcpBetweenPages(openPeer);

  const toA = ["hello from B", "Grüße ✓ 🎮", ""];
  const toB = ["hello from A", "a second reply, a little longer than the first one"];
  for (const text of toA) {
    const { sent, size } = await sendText(b, tcp.clientSocket, text);
    expect(size).toBe(Buffer.byteLength(text) + 1);
    expect(sent).toBe(size);
  }
  for (const text of toA) {
    const event = await nextEvent(a, { type: network_type_data, id: tcp.accepted });
    expect(event).toMatchObject({ ...atServerFromB(tcp), size: Buffer.byteLength(text) + 1, buffer: expect.any(Number), text, hex: stringHex(text) });
  }
  for (const text of toB) {
    const { sent, size } = await sendText(a, tcp.accepted, text);
    expect(sent).toBe(size);
  }
  for (const text of toB) {
    const event = await nextEvent(b, { type: network_type_data, id: tcp.clientSocket });
    expect(event).toMatchObject({ event_type: ev_async_web_networking, ip: tcp.ipA, port: tcp.port, size: Buffer.byteLength(text) + 1, text, hex: stringHex(text) });
    // Only the sockets a server accepted name their server.
    expect(event.server).toBeUndefined();
  }
  // Each data event's buffer was the engine's to delete once the handler returned.
  const buffersLeft = await b.page.evaluate(() =>
    globalThis.gmnetE2e!.seen.filter((event) => typeof event.buffer === "number").map((event) => globalThis.gmnet.buffer_exists(event.buffer as number)),
  );
  expect(buffersLeft).toEqual(toB.map(() => false));
});

test("UDP: datagrams move from the relay to a real WebRTC DataChannel, both ways", async ({ openPeer }) => {
  const a = await openPeer("A", { context: WEBRTC_CONTEXT });
  const b = await openPeer("B", { context: WEBRTC_CONTEXT });
  const portA = randomPort();
  const portB = portA + 1;
  const udpA = await createUdpSocket(a, portA);
  const udpB = await createUdpSocket(b, portB);

  // B pings A, one datagram at a time, until B's socket has sent and received over P2P.
  const { echo, ping } = await pingPong({ peer: a, socket: udpA.socket }, { peer: b, socket: udpB.socket, ip: udpA.ip, port: portA, untilP2p: true, minRounds: 1, maxMs: 15_000 });
  expect(ping.stoppedAtRound, `P2P both ways within ${ping.rounds} rounds`).toBeGreaterThanOrEqual(0);
  test.info().annotations.push({ type: "p2p", description: `both ways after ${ping.rounds} rounds, ${Math.round(ping.elapsedMs)} ms` });

  // Every datagram arrived, once, intact, in order (each was answered before the next was sent).
  const texts = [...Array.from({ length: ping.rounds }, (_, i) => `ping ${i}`), BYE];
  expect(echo.received.map((event) => event.text)).toEqual(texts);
  expect(echo.received.map((event) => event.hex)).toEqual(texts.map(stringHex));
  for (const event of echo.received) {
    expect(event).toMatchObject({ event_type: ev_async_web_networking, id: udpA.socket, ip: udpB.ip, port: portB, size: Buffer.byteLength(String(event.text)) + 1 });
  }
  expect(ping.echoes.map((event) => event.text)).toEqual(texts.map((text) => `echo: ${text}`));
  for (const event of ping.echoes) expect(event).toMatchObject({ id: udpB.socket, ip: udpA.ip, port: portA });
  expect(ping.sent).toEqual(texts.map((text) => Buffer.byteLength(text) + 1));
  expect(echo.echoSent).toEqual(texts.map((text) => Buffer.byteLength(`echo: ${text}`) + 1));

  // The first datagram went through the relay (no channel yet); later ones really went P2P, both ways.
  expect(echo.received[0]?.via).toBe("relay");
  expect(echo.received.some((event) => event.via === "p2p")).toBe(true);
  expect(ping.echoes.some((event) => event.via === "p2p")).toBe(true);
  expect(echo.stats.p2p_packets_received, JSON.stringify(echo.stats)).toBeGreaterThan(0);
  expect(ping.stats.p2p_packets_sent, JSON.stringify(ping.stats)).toBeGreaterThan(0);
  expect(echo.stats.p2p_packets_sent, JSON.stringify(echo.stats)).toBeGreaterThan(0);
  expect(ping.stats.p2p_packets_received, JSON.stringify(ping.stats)).toBeGreaterThan(0);
  // The counters agree with each other and with what the events said.
  for (const stats of [echo.stats, ping.stats]) {
    expect(stats.packets_sent).toBe(texts.length);
    expect(stats.packets_received).toBe(texts.length);
    expect(stats.p2p_packets_sent + stats.relay_packets_sent).toBe(texts.length);
    expect(stats.p2p_packets_received + stats.relay_packets_received).toBe(texts.length);
  }
  expect(echo.stats.p2p_packets_received).toBe(echo.received.filter((event) => event.via === "p2p").length);
  expect(ping.stats.p2p_packets_received).toBe(ping.echoes.filter((event) => event.via === "p2p").length);
  expect(echo.stats.p2p_packets_received).toBe(ping.stats.p2p_packets_sent);
  expect(ping.stats.p2p_packets_received).toBe(echo.stats.p2p_packets_sent);
});

/** B pings A for RELAY_ONLY_MS; every datagram must arrive, all of them through the relay. */
async function expectRelayOnly(a: Peer, b: Peer): Promise<void> {
  const portA = randomPort();
  const portB = portA + 1;
  const udpA = await createUdpSocket(a, portA);
  const udpB = await createUdpSocket(b, portB);
  const { echo, ping } = await pingPong(
    { peer: a, socket: udpA.socket },
    { peer: b, socket: udpB.socket, ip: udpA.ip, port: portA, untilP2p: false, minRounds: 20, minMs: RELAY_ONLY_MS, maxMs: 2 * RELAY_ONLY_MS },
  );
  expect(ping.stoppedAtRound).toBe(ping.rounds - 1);
  const texts = [...Array.from({ length: ping.rounds }, (_, i) => `ping ${i}`), BYE];
  expect(echo.received.map((event) => event.text)).toEqual(texts);
  expect(ping.echoes.map((event) => event.text)).toEqual(texts.map((text) => `echo: ${text}`));
  expect(echo.received.filter((event) => event.via !== "relay").length, "datagrams A got other than through the relay").toBe(0);
  expect(ping.echoes.filter((event) => event.via !== "relay").length, "datagrams B got other than through the relay").toBe(0);
  for (const stats of [echo.stats, ping.stats]) {
    expect(stats).toMatchObject({
      packets_sent: texts.length,
      packets_received: texts.length,
      p2p_packets_sent: 0,
      p2p_packets_received: 0,
      relay_packets_sent: texts.length,
      relay_packets_received: texts.length,
    });
  }
}

test("UDP: with no RTCPeerConnection in one context, every datagram goes through the relay, both ways", async ({ openPeer }) => {
  // Both contexts are set up as in the P2P test, except that B's page has no RTCPeerConnection.
  const a = await openPeer("A", { context: WEBRTC_CONTEXT });
  const b = await openPeer("B", { context: WEBRTC_CONTEXT, webrtc: false });
  expect(await b.page.evaluate(() => [typeof window.RTCPeerConnection, "webkitRTCPeerConnection" in window])).toEqual(["undefined", false]);
  expect(await a.page.evaluate(() => typeof window.RTCPeerConnection)).toBe("function");
  await expectRelayOnly(a, b);
});

test("UDP: network_config_enable_webrtc 0 in one context keeps every datagram on the relay, both ways", async ({ openPeer }) => {
  const a = await openPeer("A", { context: WEBRTC_CONTEXT });
  const b = await openPeer("B", { context: WEBRTC_CONTEXT });
  expect(
    await a.page.evaluate(() => {
      const gm = globalThis.gmnet;
      return [gm.network_set_config(gm.network_config_enable_webrtc, 0), gm.network_get_config(gm.network_config_enable_webrtc)];
    }),
  ).toEqual([0, 0]);
  await expectRelayOnly(a, b);
});

test("TCP: when the client's page closes, the server gets network_type_disconnect", async ({ openPeer }) => {
  const { a, b, tcp } = await tcpBetweenPages(openPeer);
  await b.page.close();
  const gone = await nextEvent(a, { type: network_type_disconnect, id: tcp.server });
  expect(gone).toMatchObject({ ...atServerFromB(tcp), socket: tcp.accepted, error: expect.stringMatching(/^E_NETWORK_/) });
  // The accepted socket is gone; the server and A's network are not.
  expect((await sendText(a, tcp.accepted, "anyone there?")).sent).toBe(-1);
  expect(await networkState(a)).toEqual({ connected: 1, ip: tcp.ipA });
});

test("TCP: when the server's page closes, the client gets network_type_disconnect", async ({ openPeer }) => {
  const { a, b, tcp } = await tcpBetweenPages(openPeer);
  await a.context.close();
  const gone = await nextEvent(b, { type: network_type_disconnect, id: tcp.clientSocket });
  expect(gone).toMatchObject({ event_type: ev_async_web_networking, socket: tcp.clientSocket, ip: tcp.ipA, port: tcp.port, error: expect.stringMatching(/^E_NETWORK_/) });
  expect((await sendText(b, tcp.clientSocket, "anyone there?")).sent).toBe(-1);
  expect(await networkState(b)).toEqual({ connected: 1, ip: tcp.ipB });
});
