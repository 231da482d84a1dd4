/**
 * The ported GameMaker chat of docs/PORTING.md (the playground's "ported-chat" example), run
 * through the playground's UI the way a user runs it: alone in one tab (it claims the host name,
 * serves, and chats with itself through the loopback), and in two tabs — two browser contexts,
 * so two virtual machines — where the first serves and the second joins it by name. The second
 * tab sends its HELLO packet on the line right after network_connect, while the connect is still
 * under way; the test checks that this very packet reaches the first tab's server, with the
 * sender's real virtual IP, name and size, and that the server broadcast every line to both
 * clients.
 *
 * Host names are global to an app key on the signaling server, which every test of the run
 * shares. So that parallel tests (and repeated runs) never meet each other's "gmnet-chat", each
 * test gives its pages an app key of their own (network_config_app_key, a separate network)
 * before the example first reaches the server; the example's text stays exactly as the doc has it.
 *
 * Every wait is a condition (expect.poll); nothing sleeps.
 */
import { randomUUID } from "node:crypto";
import type { Page } from "@playwright/test";
import { type Peer, type PeerOptions, expect, test } from "../support/network.js";
import { gotoPlayground, runExample, stop, waitForLine } from "../support/playground.js";

/** The example's host name, port and the lines its client says (ported-chat.txt). */
const HOST = "gmnet-chat";
const PORT = 6520;
const LINES = ["hello, everyone!", "how is the weather on the virtual network?", "bye!"];

/** Waits that include reaching the signaling server, on a busy 2-core machine. */
const NETWORK_TIMEOUT_MS = 20_000;

const IP = String.raw`\d+\.\d+\.\d+\.\d+`;
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** An app key no other test uses: its own virtual network, where "gmnet-chat" is free. */
function appKey(): string {
  return `porting-${randomUUID()}`;
}

/**
 * The playground in a browser context of its own, on the app key `key`. The key must be set
 * before the engine first connects (on the example's first network call), so the page must not
 * be connected yet.
 */
async function openPlayground(openPeer: (name: string, options?: PeerOptions) => Promise<Peer>, name: string, key: string): Promise<Page> {
  const peer = await openPeer(name);
  const page = peer.page;
  await gotoPlayground(page);
  const before = await page.evaluate((key) => {
    const gm = globalThis.gmnet;
    const connected = gm.network_get_config(gm.network_config_connected);
    gm.network_set_config(gm.network_config_app_key, key);
    return { connected, ip: gm.network_get_config(gm.network_config_virtual_ip), key: gm.network_get_config(gm.network_config_app_key) };
  }, key);
  expect(before, `${name}: not connected yet, so the app key applies`).toEqual({ connected: 0, ip: "", key });
  return page;
}

/** The page's virtual IP, once its engine is online. */
async function virtualIp(page: Page): Promise<string> {
  const ip = await page.evaluate(() => globalThis.gmnet.network_get_config(globalThis.gmnet.network_config_virtual_ip));
  expect(ip).toMatch(new RegExp(`^${IP}$`));
  return String(ip);
}

/** The payload size of a HELLO: the u8 message id, then the name as buffer_string (UTF-8 and a NUL). */
const helloSize = (name: string): number => 1 + Buffer.byteLength(name, "utf8") + 1;

/** The first tab of a run: it wins the host name, serves, joins its own chat and says every line. Returns its virtual IP. */
async function expectServes(page: Page): Promise<string> {
  const serving = await waitForLine(page, new RegExp(`^\\[server\\] ${HOST} is this tab \\((${IP})\\), listening on port ${PORT}$`), NETWORK_TIMEOUT_MS);
  const ip = await virtualIp(page);
  expect(serving[1], "the address network_type_hostname reported").toBe(ip);
  const name = `host@${ip}`;
  const queued = await waitForLine(page, new RegExp(`^\\[client\\] connecting to ${HOST}:${PORT} as ${escape(name)}; HELLO queued \\((\\d+) bytes\\)$`));
  expect(Number(queued[1]), "network_send_packet returned the payload size").toBe(helloSize(name));
  const hello = await waitForLine(page, new RegExp(`^\\[server\\] HELLO from (${IP}): ${escape(name)} \\((\\d+) bytes\\)$`));
  expect(hello[1], "from its own address").toBe(ip);
  expect(Number(hello[2]), "the server got the whole HELLO").toBe(helloSize(name));
  const connected = await waitForLine(page, new RegExp(`^\\[client\\] connected to (${IP}):${PORT}$`));
  expect(connected[1], "connected to its own address, through the loopback").toBe(ip);
  expect(queued.line, "HELLO was sent before the connect had finished").toBeLessThan(connected.line);
  const done = await waitForLine(page, /^✓ chat done as (\S+): (\d+) lines said, (\d+) broadcast back by (\S+) \((\S+)\)$/);
  expect(done.slice(1)).toEqual([name, String(LINES.length), String(LINES.length), HOST, ip]);
  for (const line of LINES) await waitForLine(page, new RegExp(`^\\[client\\] ${escape(name)}: ${escape(line)}$`));
  return ip;
}

test("the ported chat alone in one tab: it claims the host name, serves, and chats with itself through the loopback", async ({ openPeer }) => {
  const page = await openPlayground(openPeer, "alone", appKey());
  await runExample(page, "ported-chat");
  const ip = await expectServes(page);
  await waitForLine(page, new RegExp(`^\\[client\\] host@${escape(ip)} joined, 1 online$`));
  // The server and the client (destroying the server closes the socket it accepted).
  expect(await stop(page)).toContain("closed 2 sockets");
});

test("the ported chat in two tabs: the second joins the first by host name, and the packet it sent right after network_connect reaches the first", async ({ openPeer }) => {
  test.slow();
  const key = appKey();
  const first = await openPlayground(openPeer, "first", key);
  const second = await openPlayground(openPeer, "second", key);

  // The first tab claims the name and serves (and chats with itself) before the second starts.
  await runExample(first, "ported-chat");
  const ipFirst = await expectServes(first);

  await runExample(second, "ported-chat");
  await waitForLine(second, new RegExp(`^${HOST} is taken: another tab is the server, joining it$`), NETWORK_TIMEOUT_MS);
  const ipSecond = await virtualIp(second);
  expect(ipSecond, "two contexts, two virtual machines").not.toBe(ipFirst);
  const name = `guest@${ipSecond}`;

  // The second tab sent HELLO on the line after network_connect: the send was queued (it returned
  // the size) and the connect finished only afterwards…
  const queued = await waitForLine(second, new RegExp(`^\\[client\\] connecting to ${HOST}:${PORT} as ${escape(name)}; HELLO queued \\((\\d+) bytes\\)$`));
  expect(Number(queued[1]), "network_send_packet returned the payload size").toBe(helloSize(name));
  const connected = await waitForLine(second, new RegExp(`^\\[client\\] connected to (${IP}):${PORT}$`), NETWORK_TIMEOUT_MS);
  expect(connected[1], "the name resolved to the first tab").toBe(ipFirst);
  expect(queued.line, "HELLO was sent before the connect had finished").toBeLessThan(connected.line);

  // …and that very packet arrived at the first tab's server, from the second tab's address.
  const hello = await waitForLine(first, new RegExp(`^\\[server\\] HELLO from (${IP}): ${escape(name)} \\((\\d+) bytes\\)$`), NETWORK_TIMEOUT_MS);
  expect(hello[1], "from the second tab's virtual IP").toBe(ipSecond);
  expect(Number(hello[2]), "the whole HELLO").toBe(helloSize(name));
  await waitForLine(first, new RegExp(`^\\[server\\] socket \\d+ joined from ${escape(ipSecond)}:\\d+$`));

  // The server broadcast every line the second tab said to both clients: back to the second tab…
  const done = await waitForLine(second, /^✓ chat done as (\S+): (\d+) lines said, (\d+) broadcast back by (\S+) \((\S+)\)$/, NETWORK_TIMEOUT_MS);
  expect(done.slice(1)).toEqual([name, String(LINES.length), String(LINES.length), HOST, ipFirst]);
  await waitForLine(second, new RegExp(`^\\[client\\] ${escape(name)} joined, 2 online$`));
  // …and to the first tab's own client, the server's other client.
  await waitForLine(first, new RegExp(`^\\[client\\] ${escape(name)} joined, 2 online$`));
  for (const line of LINES) await waitForLine(first, new RegExp(`^\\[client\\] ${escape(name)}: ${escape(line)}$`));

  // Stopping the server tab disconnects the second tab's client.
  expect(await stop(first)).toContain("closed 2 sockets");
  await waitForLine(second, /^\[client\] disconnected \(E_[A-Z_]+\)$/, NETWORK_TIMEOUT_MS);
  expect(await stop(second)).toContain("closed 1 socket");
});
