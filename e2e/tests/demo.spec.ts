/**
 * The two-tab demo game (playground/demo.html) in two browser contexts — two "machines" — against
 * the real signaling server: the first page becomes the host of a master room, the second finds
 * the room and joins. With 100 ms of simulated latency and 5 % loss on both, each page moves its
 * player with the keyboard and must see the OTHER player move (positions over UDP, interpolated),
 * and a chat line typed in one page appears in the other (TCP, through the host). Screenshots of
 * both pages are saved to e2e/artifacts/screenshots/ and attached to the report.
 *
 * A third test restarts a signaling server of its own under a hosting page: the banner about the
 * lost connection must go once the game is back, and no stale round trip may show meanwhile.
 *
 * Positions are read from the page's players list (data-testid="player", with data-x / data-y
 * refreshed five times a second), not from the canvas. Every wait is a condition (expect.poll,
 * toHaveText); nothing sleeps.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page, TestInfo } from "@playwright/test";
import { type GmnetServer, createServer } from "@gmnet/signaling-server";
import { STATIC_DIR_ENV } from "../env.js";
import { type Peer, type PeerOptions, expect, test } from "../support/network.js";

/**
 * WebRTC between two contexts on a loopback-only machine needs a media permission (host ICE
 * candidates are otherwise hidden behind mDNS names) on top of playwright.config.ts's
 * --allow-loopback-in-peer-connection: see e2e/tests/network.spec.ts.
 */
const WEBRTC: PeerOptions = { context: { permissions: ["microphone"] } };

const SCREENSHOTS = fileURLToPath(new URL("../artifacts/screenshots/", import.meta.url));

/** Matchmaking (guest login, room list, room create or join, TCP connect, WELCOME) on a busy 2-core machine. */
const JOIN_TIMEOUT_MS = 20_000;
/** Seeing a player move: key press → 50 ms sends → 100 ms simulated latency (twice through the host) → 120 ms interpolation delay, with room to spare. */
const MOVE_TIMEOUT_MS = 10_000;
/** How far (px) the other player must move before it counts. */
const DISTANCE = 60;

interface ListedPlayer {
  name: string;
  local: boolean;
  x: number | undefined;
  y: number | undefined;
}

/** The page's players list: the local player first, then the remote ones (with x, y once they have a position). */
function players(page: Page): Promise<ListedPlayer[]> {
  return page.getByTestId("player").evaluateAll((items) =>
    items.map((item) => {
      const data = (item as HTMLElement).dataset;
      return { name: data.name ?? "", local: data.local === "true", x: data.x === undefined ? undefined : Number(data.x), y: data.y === undefined ? undefined : Number(data.y) };
    }),
  );
}

async function self(peer: Peer): Promise<ListedPlayer> {
  const me = (await players(peer.page)).find((player) => player.local);
  if (me === undefined) throw new Error(`${peer.name}: no local player in the list`);
  return me;
}

/** Where `watcher` shows the player called `name` (undefined while it has no position yet). */
async function seen(watcher: Peer, name: string): Promise<{ x: number; y: number } | undefined> {
  const player = (await players(watcher.page)).find((listed) => !listed.local && listed.name === name);
  return player?.x === undefined || player.y === undefined ? undefined : { x: player.x, y: player.y };
}

async function openDemo(openPeer: (name: string, options?: PeerOptions) => Promise<Peer>, name: string, lobby: string): Promise<Peer> {
  const peer = await openPeer(name, WEBRTC);
  await peer.page.goto(`/demo.html?lobby=${lobby}`);
  await expect(peer.page.getByTestId("lobby")).toHaveText(lobby);
  return peer;
}

/**
 * Holds a key in `mover`'s page (canvas focused) until `watcher` shows the mover's player at least
 * DISTANCE px further along `axis`, in the direction that has room in the arena.
 */
async function moveAndWatch(mover: Peer, watcher: Peer, axis: "x" | "y", keys: { minus: string; plus: string }): Promise<void> {
  const me = await self(mover);
  const name = me.name;
  // Wait until the watcher has a position for the mover at all, and take it as the start.
  await expect.poll(() => seen(watcher, name), { message: `${watcher.name} shows ${mover.name}'s player`, timeout: MOVE_TIMEOUT_MS }).toBeDefined();
  const start = (await seen(watcher, name))!;
  const arenaMiddle = axis === "x" ? 480 : 270;
  const direction = (me[axis] ?? 0) < arenaMiddle ? 1 : -1;
  const key = direction > 0 ? keys.plus : keys.minus;

  await mover.page.getByTestId("arena").focus();
  await mover.page.keyboard.down(key);
  await expect
    .poll(async () => (((await seen(watcher, name))?.[axis] ?? start[axis]) - start[axis]) * direction, {
      message: `${watcher.name} sees ${mover.name}'s player move ${DISTANCE} px along ${axis} (${key})`,
      timeout: MOVE_TIMEOUT_MS,
    })
    .toBeGreaterThanOrEqual(DISTANCE);
  await mover.page.keyboard.up(key);
  // The mover's own view agrees that it moved that way.
  expect(((await self(mover))[axis]! - me[axis]!) * direction).toBeGreaterThanOrEqual(DISTANCE);
}

async function simulateBadNetwork(peer: Peer): Promise<void> {
  await peer.page.getByTestId("simulate-bad-network").check();
  await expect(peer.page.getByTestId("latency-value")).toHaveText("100 ms");
  await expect(peer.page.getByTestId("loss-value")).toHaveText("5 %");
  const engine = await peer.page.evaluate(() => {
    const gm = globalThis.gmnet;
    return { latency: gm.network_get_config(gm.network_config_simulate_latency), loss: gm.network_get_config(gm.network_config_simulate_loss) };
  });
  expect(engine, `${peer.name}: the engine's link simulation`).toEqual({ latency: 100, loss: 0.05 });
}

async function say(from: Peer, to: Peer, text: string): Promise<void> {
  await from.page.getByTestId("chat-input").fill(text);
  await from.page.getByTestId("chat-input").press("Enter");
  await expect(from.page.getByTestId("chat-input")).toHaveValue("");
  await expect(to.page.getByTestId("chat-log")).toContainText(text, { timeout: MOVE_TIMEOUT_MS });
}

test("two contexts: one hosts, one joins, each sees the other move under 100 ms latency and 5 % loss, and they chat", async ({ openPeer }, testInfo) => {
  test.setTimeout(90_000);
  // A lobby of its own, so no other page on the same server (another test, a person) joins in.
  const lobby = `e2e-${Math.random().toString(36).slice(2, 10)}`;

  const host = await openDemo(openPeer, "host", lobby);
  await expect(host.page.getByTestId("role")).toHaveText("host", { timeout: JOIN_TIMEOUT_MS });
  await expect(host.page.getByTestId("room-id")).toHaveText(/^\d+$/);
  const roomId = await host.page.getByTestId("room-id").textContent();

  const guest = await openDemo(openPeer, "guest", lobby);
  await expect(guest.page.getByTestId("role")).toHaveText("guest", { timeout: JOIN_TIMEOUT_MS });
  await expect(guest.page.getByTestId("room-id")).toHaveText(roomId!);
  for (const peer of [host, guest]) {
    await expect(peer.page.getByTestId("peer-count"), `${peer.name}: peers`).toHaveText("1");
    await expect(peer.page.getByTestId("virtual-ip")).toHaveText(/^10\.\d+\.\d+\.\d+$/);
  }
  // Each shows the other under its name, with the other's virtual IP.
  const [hostName, guestName] = [(await self(host)).name, (await self(guest)).name];
  expect(hostName).not.toBe(guestName);
  await expect(guest.page.getByTestId("player").filter({ hasText: hostName })).toContainText(await host.page.getByTestId("virtual-ip").innerText());
  await expect(host.page.getByTestId("player").filter({ hasText: guestName })).toContainText(await guest.page.getByTestId("virtual-ip").innerText());

  await simulateBadNetwork(host);
  await simulateBadNetwork(guest);

  await moveAndWatch(host, guest, "x", { minus: "ArrowLeft", plus: "ArrowRight" });
  await moveAndWatch(guest, host, "y", { minus: "KeyW", plus: "KeyS" });
  await moveAndWatch(guest, host, "x", { minus: "KeyA", plus: "KeyD" });
  await moveAndWatch(host, guest, "y", { minus: "ArrowUp", plus: "ArrowDown" });

  await say(guest, host, "Grüße from the guest");
  await say(host, guest, "welcome, guest!");

  for (const peer of [host, guest]) {
    // The simulation really drops datagrams, and they go peer to peer (WebRTC), not through the relay.
    await expect.poll(async () => Number(await peer.page.getByTestId("packets-lost").textContent()), { message: `${peer.name}: datagrams lost`, timeout: MOVE_TIMEOUT_MS }).toBeGreaterThan(0);
    await expect(peer.page.getByTestId("path"), `${peer.name}: UDP path`).toHaveText("P2P", { timeout: MOVE_TIMEOUT_MS });
    // The demo's own UDP ping crosses both simulated links: at least 100 ms there and 100 ms back.
    await expect.poll(async () => parseInt((await peer.page.getByTestId("ping").textContent()) ?? "", 10), { message: `${peer.name}: ping`, timeout: MOVE_TIMEOUT_MS }).toBeGreaterThanOrEqual(200);
    await expect(peer.page.locator('[data-testid="messages"] [data-level="error"]'), `${peer.name}: errors shown in the page`).toHaveCount(0);
  }

  for (const peer of [host, guest]) await screenshot(peer.page, `demo-${peer.name}`, testInfo);
});

test("a server restart under a hosting page: the connection banner shows, no stale round trip meanwhile, and the banner goes once it hosts again", async ({ openPeer }, testInfo) => {
  test.setTimeout(90_000);
  const staticDir = process.env[STATIC_DIR_ENV];
  if (staticDir === undefined) throw new Error(`${STATIC_DIR_ENV} is not set: run with --config e2e/playwright.config.ts`);
  // A server of this test's own (the shared one must not go down under other tests), with its
  // identities in a file, so the page comes back with its identity and guest login as a real restart would.
  const dataDir = await mkdtemp(join(tmpdir(), "gmnet-e2e-restart-"));
  const options = { host: "127.0.0.1", db: join(dataDir, "gmnet.db"), logLevel: "silent" as const, staticDir };
  let server: GmnetServer = createServer({ ...options, port: 0 });
  try {
    await server.ready;
    const { port, url } = server.address();
    const lobby = `e2e-${Math.random().toString(36).slice(2, 10)}`;
    const peer = await openPeer("restart", WEBRTC);
    // Chromium itself logs each refused reconnect attempt ("WebSocket connection to … failed"):
    // expected while the server is down, and not the page's doing.
    peer.expectedProblems.push(/WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws' failed/);
    const page = peer.page;
    await page.goto(`${url}/demo.html?lobby=${lobby}`);
    const role = page.getByTestId("role");
    const rtt = page.getByTestId("rtt");
    const banners = page.locator('[data-testid="messages"] [data-level="error"]');
    await expect(role).toHaveText("host", { timeout: JOIN_TIMEOUT_MS });
    await expect(rtt).toHaveText(/^\d+ ms \(server\)$/, { timeout: MOVE_TIMEOUT_MS });

    await server.close();
    // More may follow while the server stays away (failed reconnects, failed room searches): all go once it is back.
    await expect(banners.filter({ hasText: "Lost the connection to the signaling server" }).getByTestId("message-code")).toHaveText("E_NETWORK_SHUTDOWN");
    // Refreshed five times a second: the last round trip must not linger while nothing answers.
    await expect(rtt).toHaveText("–");
    await expect(role).not.toHaveText("host");
    // Stay down until a reconnect attempt has failed too, so that banner must go as well.
    await expect(banners.filter({ hasText: "No connection" }).first()).toBeVisible({ timeout: JOIN_TIMEOUT_MS });
    await screenshot(page, "demo-server-down", testInfo);

    // The same port again: the page's engine reconnects by itself (backoff), logs in again and hosts.
    server = createServer({ ...options, port });
    await server.ready;
    await expect(role).toHaveText("host", { timeout: JOIN_TIMEOUT_MS });
    await expect(banners).toHaveCount(0);
    await expect(rtt).toHaveText(/^\d+ ms \(server\)$/, { timeout: MOVE_TIMEOUT_MS });
    await screenshot(page, "demo-server-back", testInfo);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

async function screenshot(page: Page, name: string, testInfo: TestInfo): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
}
