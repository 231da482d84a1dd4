/**
 * The script playground (playground/index.html, served from the production build) driven through
 * its UI: each example is picked in the example list and run with the Run button, and its output
 * console must show real values — the chat's echoed text, numeric RTTs, the known md5 of a known
 * string, the room id the server gave back in the room list. A script error must show in the page
 * with its GmnetError code and line, the async-event log must show async_load maps, and Stop must
 * give back what a run created — and put every engine-wide setting back to the engine's defaults,
 * which the next run sees and the condition sliders show. Runs are numbered ("▶ Run 2"), with a
 * separator in the console and the event log; "New script" starts a script of one's own, and an
 * edited example reads as one's own script. Screenshots of the playground after a run are saved
 * to e2e/artifacts/screenshots/ (playground.png, playground-new-script.png,
 * playground-run-reset.png) and attached to the report.
 *
 * Every wait is a condition (expect.poll, toHaveText …); nothing sleeps. Each test opens the page
 * in a browser context of its own (openPeer), which fails the test on any uncaught page error or
 * console.error.
 *
 * Over 400 lines on purpose: one concern, the playground page end to end, each test a walk
 * through its UI.
 */
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Page } from "@playwright/test";
import { type Peer, type PeerOptions, expect, test } from "../support/network.js";
import { typeScript } from "../support/editor.js";
import { consoleTexts, gotoPlayground, runExample, stop, waitForLine } from "../support/playground.js";

const SCREENSHOTS = fileURLToPath(new URL("../artifacts/screenshots/", import.meta.url));

/** Examples that talk to the signaling server (guest login, a second engine coming online) on a busy 2-core machine. */
const NETWORK_TIMEOUT_MS = 20_000;

/** The known digests of "The quick brown fox jumps over the lazy dog". */
const FOX = {
  md5: "9e107d9d372bb6826bd81d3542a419d6",
  sha1: "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
  crc32: "414fa339",
  base64: "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZw==",
};

async function openPlayground(openPeer: (name: string, options?: PeerOptions) => Promise<Peer>, hash = ""): Promise<Page> {
  const peer = await openPeer("playground");
  await gotoPlayground(peer.page, hash);
  return peer.page;
}

/** Every console line matching `pattern` (global), as matches. */
async function allLines(page: Page, pattern: RegExp): Promise<RegExpMatchArray[]> {
  return (await consoleTexts(page)).flatMap((text) => {
    const match = pattern.exec(text);
    return match === null ? [] : [match];
  });
}

/** The script error banner shows `code`, the `message` (a RegExp: a message containing it) and `line`, where the script stopped. */
async function expectScriptError(page: Page, code: string, message: string | RegExp, line: string): Promise<void> {
  await expect(page.getByTestId("script-error-code")).toHaveText(code);
  await expect(page.getByTestId("script-error-message")).toHaveText(message);
  await expect(page.getByTestId("script-error-line")).toHaveText(line);
}

test("TCP chat: server and client in one tab exchange packets; the event log shows the async_load maps; Stop frees the port", async ({ openPeer }, testInfo) => {
  const page = await openPlayground(openPeer);
  await runExample(page, "tcp-chat");

  await waitForLine(page, /^✓ chat done: 3 messages each way$/);
  await waitForLine(page, /^\[server\] client joined from (\d+\.\d+\.\d+\.\d+):(\d+) as socket \d+$/);
  for (const line of ["hello, server!", "how is the weather on 127.0.0.1?", "bye!"]) {
    expect(await allLines(page, /^\[server\] got: (.*)$/), "the server got every line").toContainEqual(expect.arrayContaining([line]));
    expect(await allLines(page, /^\[client\] got: (.*)$/), "the client got every echo").toContainEqual(expect.arrayContaining([`echo: ${line.toUpperCase()}`]));
  }

  // The async-event log shows every async_load map: a data event with its type by name and its buffer by id and size.
  const dataRow = page.getByTestId("event-row").filter({ has: page.locator('.kv[data-key="type"] .v', { hasText: /^network_type_data$/ }) }).first();
  await expect(dataRow).toHaveAttribute("data-event-type", "ev_async_web_networking");
  await expect(dataRow).toHaveAttribute("data-origin", "run");
  await expect(dataRow.locator('.kv[data-key="buffer"] .v')).toHaveText(/^#\d+ · \d+ B$/);
  await expect(dataRow.locator('.kv[data-key="size"] .v')).toHaveText(/^\d+$/);
  await expect(dataRow.locator('.kv[data-key="id"] .v')).toHaveText(/^\d+$/);
  const connectRow = page.getByTestId("event-row").filter({ has: page.locator('.kv[data-key="type"] .v', { hasText: /^network_type_connect$/ }) }).first();
  await expect(connectRow.locator('.kv[data-key="ip"] .v')).toHaveText(/^"\d+\.\d+\.\d+\.\d+"$/);
  await expect(page.getByTestId("event-count")).not.toHaveText("0");

  await mkdir(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}playground.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach("playground", { path, contentType: "image/png" });

  // Stop gives back what the run made: the server and the client socket, and with them port 6510.
  expect(await stop(page)).toContain("closed 2 sockets");
  const reused = await page.evaluate(() => {
    const gm = globalThis.gmnet;
    const server = gm.network_create_server(gm.network_socket_tcp, 6510, 1);
    gm.network_destroy(server);
    return server;
  });
  expect(reused, "port 6510 is free again after Stop").toBeGreaterThanOrEqual(0);
});

test("UDP ping: five pongs with numeric RTTs and their average", async ({ openPeer }) => {
  const page = await openPlayground(openPeer);
  await runExample(page, "udp-ping");

  const done = await waitForLine(page, /^✓ ping done: (\d+)\/(\d+) pongs, average RTT ([\d.]+) ms$/);
  expect(done.slice(1, 3)).toEqual(["5", "5"]);
  const pongs = await allLines(page, /^pong #(\d+) ← RTT ([\d.]+) ms \(via (\w+)\)$/);
  expect(pongs.map((match) => Number(match[1])).sort()).toEqual([1, 2, 3, 4, 5]);
  const rtts = pongs.map((match) => Number(match[2]));
  for (const rtt of rtts) expect(rtt).toBeGreaterThanOrEqual(0);
  for (const match of pongs) expect(match[3], "datagrams to 127.0.0.1 stay in the engine").toBe("local");
  const average = rtts.reduce((a, b) => a + b, 0) / rtts.length;
  expect(Number(done[3])).toBeCloseTo(average, 1);
});

test("broadcast discovery: a server on a second engine answers the tab's broadcast", async ({ openPeer }) => {
  const page = await openPlayground(openPeer);
  await runExample(page, "broadcast");

  const [, serverIp] = await waitForLine(page, /^\[server\] online at (\d+\.\d+\.\d+\.\d+), listening on port 6512$/, NETWORK_TIMEOUT_MS);
  const found = await waitForLine(page, /^✓ discovery done: found "Playground arena" at (\d+\.\d+\.\d+\.\d+) \(game port 6510, 1 player\)$/, NETWORK_TIMEOUT_MS);
  expect(found[1], "the answer came from the second engine").toBe(serverIp);
  const ownIp = String(await page.evaluate(() => globalThis.gmnet.network_get_config(globalThis.gmnet.network_config_virtual_ip)));
  expect(ownIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(found[1], "another virtual machine than this tab").not.toBe(ownIp);
  await waitForLine(page, new RegExp(`^\\[server\\] ${ownIp.replace(/\./g, "\\.")}:\\d+ asks DISCOVER, answering$`));
  expect(await stop(page)).toContain("shut down 1 extra engine");
});

test("http_get with progress: status 1 events while the script downloads, then HTTP 200", async ({ openPeer }) => {
  const page = await openPlayground(openPeer);
  await runExample(page, "http-get");

  const done = await waitForLine(page, /^✓ http_get done: HTTP (\d+), (\d+) characters, (\d+) progress events$/);
  expect(done[1]).toBe("200");
  expect(Number(done[2]), "a body bigger than one progress step (64 KiB)").toBeGreaterThan(65_536);
  const progress = await allLines(page, /^progress: (\d+) of (\d+) bytes/);
  expect(progress.length, "progress lines").toBeGreaterThanOrEqual(1);
  expect(Number(done[3])).toBe(progress.length);
  const sizes = progress.map((match) => Number(match[1]));
  expect(sizes, "sizeDownloaded grows").toEqual([...sizes].sort((a, b) => a - b));
  for (const match of progress) expect(Number(match[1])).toBeLessThanOrEqual(Number(match[2]));
  await waitForLine(page, /^content-type: (text|application)\/javascript/);

  const progressRow = page.getByTestId("event-row").filter({ has: page.locator('.kv[data-key="status"] .v', { hasText: "1 progress" }) }).first();
  await expect(progressRow).toHaveAttribute("data-event-type", "ev_async_web");
  await expect(progressRow.locator('.kv[data-key="sizeDownloaded"] .v')).toHaveText(/^\d+$/);
});

test("buffer hashing and compression: known digests and a zlib round trip; Stop deletes the buffers", async ({ openPeer }) => {
  const page = await openPlayground(openPeer, "#buffer-hashing");
  await expect(page.getByTestId("example-select")).toHaveValue("buffer-hashing");
  await page.getByTestId("run").click();

  const done = await waitForLine(page, /^✓ buffers done: (\d+) → (\d+) → (\d+) bytes, round trip (\w+)$/);
  expect(done[1]).toBe("4400");
  expect(Number(done[2]), "compressed smaller").toBeLessThan(4400);
  expect(done[3]).toBe("4400");
  expect(done[4]).toBe("identical");
  expect((await waitForLine(page, /^md5 +(\w+)$/))[1]).toBe(FOX.md5);
  expect((await waitForLine(page, /^sha1 +(\w+)$/))[1]).toBe(FOX.sha1);
  expect((await waitForLine(page, /^crc32 +(\w+)$/))[1]).toBe(FOX.crc32);
  expect((await waitForLine(page, /^base64 (\S+) → back: (.*)$/)).slice(1)).toEqual([FOX.base64, "same text"]);

  expect(await stop(page)).toContain("deleted 5 buffers");
});

test("login + rooms: a guest login hosts a room and finds it in the room list", async ({ openPeer }) => {
  const page = await openPlayground(openPeer);
  await runExample(page, "login-rooms");

  const [, username] = await waitForLine(page, /^logged in as (guest-\S+) \(account \d+, guest: true\)$/, NETWORK_TIMEOUT_MS);
  const created = await waitForLine(page, /^created room #(\d+) "(.+)": 1\/8 players, connect to (\d+\.\d+\.\d+\.\d+):6510$/, NETWORK_TIMEOUT_MS);
  expect(created[2]).toBe(`${username}'s room`);
  const done = await waitForLine(page, /^✓ rooms done: room #(\d+) "(.+)" is in the list$/, NETWORK_TIMEOUT_MS);
  expect(done.slice(1)).toEqual([created[1], created[2]]);
  // The login moved the tab to its account's address: the room points there.
  expect(await page.evaluate(() => globalThis.gmnet.network_get_config(globalThis.gmnet.network_config_virtual_ip))).toBe(created[3]);

  // The session token is a bearer credential: the example prints its first 4 characters only,
  // and the event log masks it the same way. Neither the console nor the log holds it whole.
  const token = String(await page.evaluate(() => globalThis.gmnet.master_get_token()));
  expect(token.length, "a real token").toBeGreaterThan(8);
  const [, shown] = await waitForLine(page, /^session token (\S+) \(masked\)$/);
  expect(shown).toBe(`${token.slice(0, 4)}…`);
  const loginRow = page.getByTestId("event-row").filter({ has: page.locator('.kv[data-key="token"]') }).first();
  await expect(loginRow.locator('.kv[data-key="token"] .v')).toHaveText(`"${token.slice(0, 4)}…"`);
  expect(await page.getByTestId("console").textContent()).not.toContain(token);
  expect(await page.getByTestId("event-log").textContent()).not.toContain(token);
  expect(await page.getByTestId("event-log").evaluate((log) => log.innerHTML)).not.toContain(token);

  expect(await stop(page)).toMatch(/left its room, logged out$/);
  await expect.poll(() => page.evaluate(() => globalThis.gmnet.master_logged_in())).toBe(false);
});

test("script errors show in the page with their code and line, and stop the run", async ({ openPeer }) => {
  const page = await openPlayground(openPeer);
  const banner = page.getByTestId("script-error");
  await expect(banner).toBeHidden();

  // A GmnetError at the top level: reading a deleted buffer.
  await typeScript(page, ["const b = buffer_create(8, buffer_fixed, 1);", "buffer_delete(b);", "show_debug_message(buffer_read(b, buffer_u8));"].join("\n"));
  await page.getByTestId("run").click();
  await expect(banner).toBeVisible();
  await expectScriptError(page, "E_INVALID_BUFFER", /buffer_read/, "line 3, in the script's top level");
  await expect(page.getByTestId("run-state")).toHaveText("stopped by an error");
  const errorLine = page.locator('[data-testid="console-line"][data-level="error"]').last();
  await expect(errorLine.locator(".code")).toHaveText("E_INVALID_BUFFER");
  await expect(errorLine.locator(".text")).toContainText("line 3");
  await expect(page.locator(".cm-problem-line")).toHaveCount(1);

  // A GmnetError in step(), on the first tick; Ctrl+Enter runs.
  await typeScript(page, ["let ticks = 0;", "function step() {", "  ticks++;", "  network_create_server(network_socket_tcp, 70000, 1);", "}"].join("\n"));
  await page.keyboard.press("ControlOrMeta+Enter");
  await expectScriptError(page, "E_INVALID_ARGUMENT", /network_create_server/, "line 4, in step()");
  await expect(page.getByTestId("run-state")).toHaveText("stopped by an error");

  // A syntax error is found before anything runs.
  await typeScript(page, ["show_debug_message('first');", "let total = 1 +;", "show_debug_message(total);"].join("\n"));
  await page.getByTestId("run").click();
  await expectScriptError(page, "SyntaxError", "Unexpected token ';'", "line 2, while compiling");
  expect(await allLines(page, /^first$/), "nothing of a script with a syntax error ran").toEqual([]);

  // A good run hides the banner again.
  await typeScript(page, "show_debug_message('all good', 1 + 1);");
  await page.getByTestId("run").click();
  await waitForLine(page, /^all good 2$/);
  await expect(banner).toBeHidden();
});

test("runs never leak into each other: a failed run's timers stop and its late events do not reach the next run", async ({ openPeer }) => {
  const page = await openPlayground(openPeer);

  // Run A starts a request and a timer, then fails at once: the run ends before the answer comes.
  await typeScript(
    page,
    ['setInterval(() => show_debug_message("A still ticking"), 20);', 'const request = http_get("/buffers.html");', 'show_debug_message("A asked", request);', 'throw new Error("A ends here");'].join("\n"),
  );
  await page.getByTestId("run").click();
  await expect(page.getByTestId("script-error-code")).toHaveText("Error");
  await expect(page.getByTestId("script-error-line")).toHaveText("line 4, in the script's top level");
  const [, request] = await waitForLine(page, /^A asked (\d+)$/);
  await waitForLine(page, /^✗ Failed after [\d.]+ s: cleared 1 timer$/);

  // Run B reports every ev_async_web event it is handed.
  await typeScript(page, ['show_debug_message("B started");', "function async_event(async_load, event_type) {", '  if (event_type === ev_async_web) show_debug_message("B got request", async_load.id);', "}"].join("\n"));
  await page.getByTestId("run").click();
  await waitForLine(page, /^B started$/);

  // A's answer arrives and is logged, but as an earlier run's (or while nothing ran), never handed to B.
  const answer = page
    .getByTestId("event-row")
    .filter({ has: page.locator('.kv[data-key="id"] .v', { hasText: new RegExp(`^${request}$`) }) })
    .filter({ has: page.locator('.kv[data-key="status"] .v', { hasText: "0 done" }) });
  await expect(answer).toHaveCount(1);
  await expect(answer).toHaveAttribute("data-origin", /^(stale|idle)$/);
  expect(await allLines(page, /^B got request/), "B never sees A's request").toEqual([]);
  expect(await allLines(page, /^A still ticking$/), "A's timer died with A").toEqual([]);
  await expect(page.getByTestId("run-state")).toHaveText("running");
});

test("the Docs menu's links reach the reference docs the server serves beside the pages", async ({ openPeer, request }) => {
  const page = await openPlayground(openPeer);
  const links = await page.locator('[data-testid^="doc-"]').evaluateAll((anchors) => anchors.map((anchor) => (anchor as HTMLAnchorElement).href));
  expect(links.length).toBeGreaterThanOrEqual(6);
  for (const link of links) {
    const response = await request.get(link);
    expect(response.status(), link).toBe(200);
    // The doc itself: its Markdown, or the docs site's page rendered from it.
    expect(await response.text(), link).toMatch(/^# |<h1[\s>]/);
  }
});

/** The values a script reads back with network_get_config and the other getters, as JSON. */
const READ_SETTINGS = `JSON.stringify({
  latency: network_get_config(network_config_simulate_latency),
  jitter: network_get_config(network_config_simulate_jitter),
  loss: network_get_config(network_config_simulate_loss),
  limit: network_get_config(network_config_message_size_limit),
  timeout: network_get_config(network_config_connect_timeout),
  tickRate: network_get_config(network_config_tick_rate),
  webrtc: network_get_config(network_config_enable_webrtc),
  protocol: network_get_config(network_config_websocket_protocol),
  appKey: network_get_config(network_config_app_key),
  httpTimeout: http_get_connect_timeout(),
  masterTimeout: master_get_timeout(),
})`;

test("every run starts from the engine's defaults: what a run set is put back when it ends, and the sliders show it", async ({ openPeer }, testInfo) => {
  const page = await openPlayground(openPeer);
  // The defaults, as a fresh engine of this page has them.
  const defaults = await page.evaluate(() => {
    const gm = globalThis.gmnet.createEngine();
    return {
      latency: gm.network_get_config(gm.network_config_simulate_latency),
      jitter: gm.network_get_config(gm.network_config_simulate_jitter),
      loss: gm.network_get_config(gm.network_config_simulate_loss),
      limit: gm.network_get_config(gm.network_config_message_size_limit),
      timeout: gm.network_get_config(gm.network_config_connect_timeout),
      tickRate: gm.network_get_config(gm.network_config_tick_rate),
      webrtc: gm.network_get_config(gm.network_config_enable_webrtc),
      protocol: gm.network_get_config(gm.network_config_websocket_protocol),
      appKey: gm.network_get_config(gm.network_config_app_key),
      httpTimeout: gm.http_get_connect_timeout(),
      masterTimeout: gm.master_get_timeout(),
    };
  });
  expect(defaults).toMatchObject({ latency: 0, jitter: 0, loss: 0, webrtc: 1, appKey: "gmnet" });

  // Run 1 changes every kind of setting, and reads them back.
  await typeScript(
    page,
    [
      "network_set_config(network_config_simulate_latency, 150);",
      "network_set_config(network_config_simulate_jitter, 20);",
      "network_set_config(network_config_simulate_loss, 0.3);",
      "network_set_config(network_config_message_size_limit, 1000);",
      "network_set_config(network_config_connect_timeout, 2500);",
      "network_set_config(network_config_tick_rate, 30);",
      "network_set_config(network_config_enable_webrtc, 0);",
      'network_set_config(network_config_websocket_protocol, "chat");',
      'network_set_config(network_config_app_key, "run-one");',
      "http_set_connect_timeout(1500);",
      "master_set_timeout(700);",
      `show_debug_message("settings " + ${READ_SETTINGS});`,
    ].join("\n"),
  );
  await page.getByTestId("run").click();
  const [, during] = await waitForLine(page, /^settings (\{.*\})$/);
  expect(JSON.parse(during!)).toEqual({ latency: 150, jitter: 20, loss: 0.3, limit: 1000, timeout: 2500, tickRate: 30, webrtc: 0, protocol: "chat", appKey: "run-one", httpTimeout: 1500, masterTimeout: 700 });
  // The condition sliders follow what the script set…
  const conditions = page.getByTestId("panel-conditions");
  await expect(conditions.getByTestId("latency-value")).toHaveText("150 ms");
  await expect(conditions.getByTestId("jitter-value")).toHaveText("20 ms");
  await expect(conditions.getByTestId("loss-value")).toHaveText("30 %");
  await expect(conditions.getByTestId("loss-slider")).toHaveValue("30");

  // …and Stop puts everything back (and says so); the sliders show the defaults.
  const stopped = await stop(page);
  expect(stopped).toMatch(/reset latency, jitter, loss, message size limit, connect timeout, tick rate, WebRTC, WebSocket protocol, app key, http connect timeout, master timeout to their defaults$/);
  await expect(conditions.getByTestId("latency-value")).toHaveText("0 ms");
  await expect(conditions.getByTestId("jitter-value")).toHaveText("0 ms");
  await expect(conditions.getByTestId("loss-value")).toHaveText("0 %");
  await expect(conditions.getByTestId("latency-slider")).toHaveValue("0");
  await expect(conditions.getByTestId("loss-slider")).toHaveValue("0");

  // Run 2 sets the simulation again, and Run 3 (Run again, no Stop) sees the defaults.
  await typeScript(page, ["network_set_config(network_config_simulate_latency, 80);", "network_set_config(network_config_message_size_limit, 10);", "function step() {}"].join("\n"));
  await page.getByTestId("run").click();
  await expect(conditions.getByTestId("latency-value")).toHaveText("80 ms");
  await typeScript(page, `show_debug_message("next run sees " + ${READ_SETTINGS});`);
  await page.getByTestId("run").click();
  const [, after] = await waitForLine(page, /^next run sees (\{.*\})$/);
  expect(JSON.parse(after!)).toEqual(defaults);
  await expect(conditions.getByTestId("latency-value")).toHaveText("0 ms");
  await expect(conditions.getByTestId("latency-slider")).toHaveValue("0");
  await waitForLine(page, /^■ Stopped after [\d.]+ s: reset latency, message size limit to their defaults$/);

  await mkdir(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}playground-run-reset.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach("playground-run-reset", { path, contentType: "image/png" });
});

test("New script: a blank template to write one's own script in; an edited example becomes My script", async ({ openPeer }, testInfo) => {
  const page = await openPlayground(openPeer);
  const select = page.getByTestId("example-select");
  const summary = page.getByTestId("example-summary");
  await expect(select.locator("option").first()).toHaveText("New script");

  // Editing an example makes it the user's script, not "the example, edited".
  await expect(select).toHaveValue("tcp-chat");
  await expect(select.locator("option:checked")).toHaveText("TCP chat: server + client");
  await page.getByTestId("editor-content").click();
  await page.keyboard.press("ControlOrMeta+End");
  await page.keyboard.insertText("\n// my change");
  await expect(select.locator("option:checked")).toHaveText("My script (from TCP chat: server + client)");
  await expect(summary).toHaveAttribute("data-mine", "true");
  await expect(summary).toContainText("Your own script, started from the “TCP chat: server + client” example.");
  // Reset puts the example back, under its own name.
  await page.getByTestId("reset-example").click();
  await expect(select.locator("option:checked")).toHaveText("TCP chat: server + client");
  await expect(summary).toHaveAttribute("data-mine", "false");

  // Pick New script: the template, ready to run.
  await select.selectOption("new");
  await expect(select.locator("option:checked")).toHaveText("New script");
  await expect(page).toHaveURL(/#new$/);
  await expect(page.getByTestId("editor-content")).toContainText("function step()");
  await expect(page.getByTestId("editor-content")).toContainText("function async_event(async_load, event_type)");

  // Type one's own script and run it.
  await typeScript(page, ['const b = buffer_create(4, buffer_fixed, 1);', "buffer_write(b, buffer_u32, 0xC0FFEE);", 'show_debug_message("mine: {0}", buffer_peek(b, 0, buffer_u32));'].join("\n"));
  await expect(select.locator("option:checked")).toHaveText("My script");
  await expect(summary).toHaveAttribute("data-mine", "true");
  await page.getByTestId("run").click();
  await waitForLine(page, /^mine: 12648430$/);
  await expect(page.getByTestId("script-error")).toBeHidden();

  // The script is kept in this browser: after a reload, #new is still the user's script.
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-playground", "ready");
  await expect(select).toHaveValue("new");
  await expect(select.locator("option:checked")).toHaveText("My script");
  await expect(page.getByTestId("editor-content")).toContainText("0xC0FFEE");
  await page.getByTestId("run").click();
  await waitForLine(page, /^mine: 12648430$/);

  await mkdir(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}playground-new-script.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach("playground-new-script", { path, contentType: "image/png" });
});

test("runs are numbered: a ▶ Run n separator in the console and the event log, and times since the run started", async ({ openPeer }) => {
  const page = await openPlayground(openPeer);
  const script = (name: string): string =>
    [`show_debug_message("${name} says hi");`, `const request = buffer_save_async(buffer_create(4, buffer_fixed, 1), "run-${name}.sav", 0, 4);`].join("\n");

  for (const [run, name] of [[1, "one"], [2, "two"], [3, "three"]] as const) {
    await typeScript(page, script(name));
    await page.getByTestId("run").click();
    await waitForLine(page, new RegExp(`^${name} says hi$`));
    // Its own event arrives (ev_async_save_load) and is logged under the run.
    await expect(page.locator(`[data-testid="event-row"][data-run="${run}"][data-event-type="ev_async_save_load"]`)).toHaveCount(1);
  }
  await stop(page);

  // The console: one "▶ Run n" separator per run, and every line tagged with its run.
  const separators = page.locator('[data-testid="console-line"].run-start');
  await expect(separators.locator(".text")).toHaveText(["▶ Run 1", "▶ Run 2", "▶ Run 3"]);
  expect(await separators.evaluateAll((rows) => rows.map((row) => row.getAttribute("data-run")))).toEqual(["1", "2", "3"]);
  for (const run of [1, 2, 3]) {
    const lines = page.locator(`[data-testid="console-line"][data-run="${run}"]`);
    // Each run's times start again near zero: its first line (the separator) at +0.0…s.
    await expect(lines.first().locator(".time")).toHaveText(/^\+0\.0\d\ds$/);
    for (const time of await lines.locator(".time").allTextContents()) expect(time).toMatch(/^\+\d+\.\d{3}s$/);
  }
  await expect(page.locator('[data-testid="console-line"][data-run="2"] .text').filter({ hasText: "says hi" })).toHaveText("two says hi");

  // The event log: a separator before each run's events, not counted as events.
  const eventSeparators = page.getByTestId("event-separator");
  await expect(eventSeparators.locator(".label")).toHaveText(["▶ Run 1", "▶ Run 2", "▶ Run 3"]);
  const rows = await page.locator('[data-testid="event-log"] > li').evaluateAll((items) => items.map((item) => item.getAttribute("data-testid") === "event-separator" ? `sep ${item.getAttribute("data-run")}` : `event ${item.getAttribute("data-run") ?? "idle"}`));
  expect(rows.filter((row) => row.startsWith("sep"))).toEqual(["sep 1", "sep 2", "sep 3"]);
  for (const run of [1, 2, 3]) expect(rows.indexOf(`event ${run}`), `run ${run}'s event comes after its separator`).toBeGreaterThan(rows.indexOf(`sep ${run}`));
  await expect(page.getByTestId("event-count")).toHaveText(String(rows.filter((row) => row.startsWith("event")).length));
  for (const time of await page.locator('[data-testid="event-row"][data-run] .time').allTextContents()) expect(time).toMatch(/^\+\d+\.\d{3}s$/);
  await expect(page.getByTestId("run-state")).toHaveAttribute("data-run", "3");
});
