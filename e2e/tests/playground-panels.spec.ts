/**
 * The playground's live panels (playground/src/playground/panels/) on the production build of
 * "/": "This tab" (connection, virtual IP, the script's sockets with their state — connecting,
 * open, closed, failed — and rtt), network condition sliders wired to network_set_config, the
 * stats plots fed by network_get_stats(-1), and the hex inspector.
 * The pure modules behind them (hex-format.ts, stats-series.ts) have unit tests in playground/test/.
 *
 * The sockets and buffer lists show only what the SCRIPT made (the runner tracks them), so one test
 * types a script into the editor and runs it with the Run button, as a user would; the others poke
 * the page's engine directly through globalThis.gmnet (the engine opens its signaling connection on
 * first use, so the tests that need an address make a socket first). Every wait is a condition
 * (toHaveText, expect.poll); nothing sleeps.
 */
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Page } from "@playwright/test";
import { expect, playgroundReady, test } from "../fixtures.js";
import { typeScript } from "../support/editor.js";

const SCREENSHOTS = fileURLToPath(new URL("../artifacts/screenshots/", import.meta.url));
const DOTTED_QUAD = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** Connecting, a first stats sample a second later and a few more: room for a busy 2-core machine. */
const NETWORK_TIMEOUT_MS = 15_000;
/** A closed or failed socket leaves the list 5 s after it ended (LINGER_MS, runner/socket-tracker.ts), with room to spare. */
const LINGER_TIMEOUT_MS = 15_000;

/** The playground page ("/"), with its live panels mounted. */
async function openPlayground(page: Page): Promise<void> {
  await page.goto("/");
  await playgroundReady(page);
  await expect(page.locator("html")).toHaveAttribute("data-playground", "ready");
  for (const panel of ["panel-sockets", "panel-conditions", "panel-stats", "panel-hex"]) await expect(page.getByTestId(panel)).toBeVisible();
}

/** Makes the page's engine use the network (a TCP server on a random port), so it connects to the signaling server. */
function goOnline(page: Page): Promise<number> {
  const port = 20_000 + Math.floor(Math.random() * 40_000);
  return page.evaluate((port) => globalThis.gmnet.network_create_server(globalThis.gmnet.network_socket_tcp, port, 4), port);
}

function simulated(page: Page): Promise<{ latency: unknown; jitter: unknown; loss: unknown }> {
  return page.evaluate(() => {
    const gm = globalThis.gmnet;
    return {
      latency: gm.network_get_config(gm.network_config_simulate_latency),
      jitter: gm.network_get_config(gm.network_config_simulate_jitter),
      loss: gm.network_get_config(gm.network_config_simulate_loss),
    };
  });
}

test.describe("live panels", () => {
  test("a running script's sockets and buffers show in the panels, and go when it stops", async ({ playground: page }) => {
    await openPlayground(page);
    const sockets = page.getByTestId("panel-sockets");
    const hex = page.getByTestId("panel-hex");
    await expect(sockets.getByTestId("sockets-empty")).toBeVisible();
    await expect(hex.getByTestId("hex-buffer-select")).toHaveValue("");

    const tcpPort = 20_000 + Math.floor(Math.random() * 20_000);
    const udpPort = tcpPort + 20_000;
    await typeScript(
      page,
      [
        `const server = network_create_server(network_socket_tcp, ${tcpPort}, 4);`,
        `const udp = network_create_socket_ext(network_socket_udp, ${udpPort});`,
        "const packet = buffer_create(16, buffer_grow, 1);",
        'buffer_write(packet, buffer_string, "live panels!");',
        `network_send_udp_raw(udp, "127.0.0.1", ${udpPort}, packet, buffer_tell(packet));`,
      ].join("\n"),
    );
    await page.getByTestId("run").click();
    await expect(page.getByTestId("run-state")).toHaveText("running");

    const rows = sockets.getByTestId("socket-row");
    await expect(rows).toHaveCount(2);
    await expect(sockets.getByTestId("sockets-empty")).toBeHidden();
    await expect(rows.nth(0).getByTestId("socket-kind")).toHaveText("tcp");
    await expect(rows.nth(0)).toHaveAttribute("data-role", "server");
    await expect(rows.nth(0).getByTestId("socket-port")).toHaveText(String(tcpPort));
    await expect(rows.nth(0)).toHaveAttribute("data-state", "open");
    await expect(rows.nth(0).getByTestId("socket-state")).toHaveText("listening");
    await expect(rows.nth(1).getByTestId("socket-kind")).toHaveText("udp");
    await expect(rows.nth(1)).toHaveAttribute("data-role", "socket");
    await expect(rows.nth(1).getByTestId("socket-port")).toHaveText(String(udpPort));
    await expect(rows.nth(1).getByTestId("socket-state")).toHaveText("open");
    // The datagram the script sent to itself: its 13 bytes, sent and received, in network_get_stats(udp).
    await expect(rows.nth(1).getByTestId("socket-sent")).toHaveText("13 B");
    await expect(rows.nth(1).getByTestId("socket-received")).toHaveText("13 B");
    await expect(sockets.getByTestId("connection-state")).toHaveText("connected", { timeout: NETWORK_TIMEOUT_MS });
    await expect(sockets.getByTestId("virtual-ip")).toHaveText(DOTTED_QUAD);
    // Neither has a round trip of its own: the TCP server's and the UDP socket's (to itself, never peer to peer) is the server's.
    await expect(rows.nth(0).getByTestId("socket-rtt")).toHaveText("server");
    await expect(rows.nth(1).getByTestId("socket-rtt")).toHaveText("server");
    await expect(rows.nth(1).getByTestId("socket-rtt")).toHaveAttribute("title", /signaling server/);

    // The hex inspector follows the script's newest buffer until one is picked.
    const buffer = await hex.getByTestId("hex-buffer-id").inputValue();
    expect(buffer).toMatch(/^\d+$/);
    await expect(hex.getByTestId("hex-buffer-select")).toHaveValue(buffer);
    await expect(hex.getByTestId("hex-dump")).toContainText("|live panels!....|");
    await expect(hex.getByTestId("hex-tell")).toHaveText("13");

    // Stop: the sockets show as closed, fading, then leave the list.
    await page.getByTestId("stop").click();
    await expect(page.getByTestId("run-state")).toHaveText("idle");
    await expect(rows).toHaveCount(2);
    for (const row of [rows.nth(0), rows.nth(1)]) {
      await expect(row).toHaveAttribute("data-state", "closed");
      await expect(row.getByTestId("socket-state")).toHaveText("closed");
    }
    await expect(rows.nth(1).getByTestId("socket-sent"), "a closed socket keeps its last numbers").toHaveText("13 B");
    await expect.poll(() => rows.nth(0).evaluate((row) => Number(getComputedStyle(row).opacity))).toBeLessThan(0.75);
    await expect(rows).toHaveCount(0, { timeout: LINGER_TIMEOUT_MS });
    await expect(sockets.getByTestId("sockets-empty")).toBeVisible();
    await expect(hex.getByTestId("hex-buffer-id")).toHaveValue("");
    await expect(hex.getByTestId("hex-dump")).toHaveText("");
    await expect(hex.getByTestId("hex-error")).toBeHidden();
  });

  test("socket states: connecting, open, failed and closed, as the script's calls and the engine's events tell them", async ({ playground: page }, testInfo) => {
    await openPlayground(page);
    const panel = page.getByTestId("panel-sockets");
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    // A server, a client that connects to it, and a client whose connect fails (nothing listens on port + 1).
    await typeScript(
      page,
      [
        `const server = network_create_server(network_socket_tcp, ${port}, 4);`,
        "const good = network_create_socket(network_socket_tcp);",
        "const bad = network_create_socket(network_socket_tcp);",
        `network_connect_async(good, "127.0.0.1", ${port});`,
        `network_connect_async(bad, "127.0.0.1", ${port + 1});`,
        'show_debug_message("sockets {0} {1} {2}", server, good, bad);',
        "function async_event(async_load, event_type) {",
        "  if (async_load.type === network_type_non_blocking_connect && async_load.succeeded === 1) {",
        '    show_debug_message("connected; closing {0}", async_load.socket);',
        "    network_destroy(async_load.socket);",
        "  }",
        "}",
      ].join("\n"),
    );
    // Ended rows leave the list LINGER_MS after they end, which a busy machine can spend before the
    // test looks: a recorder in the page keeps the last look of every row in every state instead.
    await page.evaluate(() => {
      const rows: Record<string, Record<string, string | null>> = {};
      const panel = document.querySelector('[data-testid="panel-sockets"]')!;
      const record = (): void => {
        for (const row of panel.querySelectorAll('[data-testid="socket-row"]')) {
          const cell = row.querySelector('[data-testid="socket-state"]');
          rows[`${row.getAttribute("data-socket-id")}:${row.getAttribute("data-state")}`] = {
            id: row.getAttribute("data-socket-id"),
            text: cell?.textContent ?? null,
            title: cell?.getAttribute("title") ?? null,
            animation: getComputedStyle(row).animationName,
            role: row.getAttribute("data-role"),
            port: row.querySelector('[data-testid="socket-port"]')?.textContent ?? null,
          };
        }
      };
      new MutationObserver(record).observe(panel, { subtree: true, childList: true, attributes: true, characterData: true });
      (globalThis as { socketRows?: typeof rows }).socketRows = rows;
    });
    const recorded = () => page.evaluate(() => (globalThis as { socketRows?: Record<string, Record<string, string | null>> }).socketRows ?? {});
    await page.getByTestId("run").click();
    await expect(page.getByTestId("run-state")).toHaveText("running");
    let ids: string[] = [];
    await expect
      .poll(async () => {
        const line = (await page.getByTestId("console-line").allTextContents()).find((text) => /sockets \d+ \d+ \d+/.test(text));
        ids = /sockets (\d+) (\d+) (\d+)/.exec(line ?? "")?.slice(1) ?? [];
        return ids.length;
      })
      .toBe(3);
    const [server, good, bad] = ids as [string, string, string];
    const row = (id: string) => panel.locator(`[data-testid="socket-row"][data-socket-id="${id}"]`);
    const ours = new Set([server, good, bad]);
    /** The row the server accepted for `good`: the one socket row none of the script's ids name. */
    const acceptedId = (rows: Record<string, Record<string, string | null>>) => Object.values(rows).find((entry) => !ours.has(entry.id!))?.id;
    await expect
      .poll(async () => {
        const rows = await recorded();
        const accepted = acceptedId(rows);
        return [`${bad}:failed`, `${good}:closed`, `${server}:open`, `${accepted}:closed`].filter((key) => rows[key] === undefined);
      }, { timeout: NETWORK_TIMEOUT_MS, message: "every socket reached its states" })
      .toEqual([]);
    const rows = await recorded();
    // The failed connect: failed, with the engine's reason in the tooltip, fading out.
    expect(rows[`${bad}:failed`]).toMatchObject({ text: "failed", animation: "lp-socket-fade" });
    expect(rows[`${bad}:failed`]!.title).toMatch(/^Failed: E_NETWORK_[A-Z_]+\.$/);
    // The good one connected (the server accepted it: a new row, open) and was destroyed: closed, fading out.
    expect(rows[`${good}:closed`]).toMatchObject({ text: "closed", title: "Closed: destroyed.", animation: "lp-socket-fade" });
    expect(rows[`${server}:open`]).toMatchObject({ text: "listening", role: "server", animation: "none" });
    // The server's client for it: closed once the other end went away (it may have been open too briefly to be drawn).
    const accepted = acceptedId(rows)!;
    expect(rows[`${accepted}:closed`]).toMatchObject({ text: "closed", animation: "lp-socket-fade", role: "socket", port: String(port) });
    expect(Object.values(rows).filter((entry) => !ours.has(entry.id!)).every((entry) => entry.id === accepted)).toBe(true);
    await mkdir(SCREENSHOTS, { recursive: true });
    const path = `${SCREENSHOTS}playground-sockets.png`;
    await panel.screenshot({ path });
    await testInfo.attach("playground-sockets", { path, contentType: "image/png" });

    // Ended sockets leave the list; the live server stays.
    await expect(panel.getByTestId("socket-row")).toHaveCount(1, { timeout: LINGER_TIMEOUT_MS });
    await expect(row(server)).toHaveAttribute("data-state", "open");

    // The next run starts with an empty list, whatever the last one left.
    await typeScript(page, "show_debug_message('nothing');");
    await page.getByTestId("run").click();
    await expect(panel.getByTestId("socket-row")).toHaveCount(0);
    await expect(panel.getByTestId("sockets-empty")).toBeVisible();
  });

  test("this tab: connection state and virtual IP once the engine is online; empty state without script sockets", async ({ playground: page }) => {
    await openPlayground(page);
    const panel = page.getByTestId("panel-sockets");
    await expect(panel.getByTestId("sockets-empty")).toBeVisible();
    await expect(panel.getByTestId("socket-row")).toHaveCount(0);

    expect(await goOnline(page)).toBeGreaterThanOrEqual(0);
    await expect(panel.getByTestId("connection-state")).toHaveText("connected", { timeout: NETWORK_TIMEOUT_MS });
    await expect(panel.getByTestId("virtual-ip")).toHaveText(DOTTED_QUAD);
    const ip = await page.evaluate(() => globalThis.gmnet.network_get_config(globalThis.gmnet.network_config_virtual_ip));
    await expect(panel.getByTestId("virtual-ip")).toHaveText(String(ip));
    await expect(panel.getByTestId("hostname")).toHaveText("—");
    // A socket made outside the script runner is not the script's: the list stays empty.
    await expect(panel.getByTestId("sockets-empty")).toBeVisible();
  });

  test("network conditions: sliders set the engine's simulation, the panel follows the engine, reset clears it", async ({ playground: page }) => {
    await openPlayground(page);
    const panel = page.getByTestId("panel-conditions");
    await expect(panel.getByTestId("latency-value")).toHaveText("0 ms");
    await expect(panel.getByTestId("loss-value")).toHaveText("0 %");

    await panel.getByTestId("latency-slider").fill("120");
    await panel.getByTestId("jitter-slider").fill("30");
    await panel.getByTestId("loss-slider").fill("7");
    await expect(panel.getByTestId("latency-value")).toHaveText("120 ms");
    await expect(panel.getByTestId("jitter-value")).toHaveText("30 ms");
    await expect(panel.getByTestId("loss-value")).toHaveText("7 %");
    // Loss is a share 0…1 in the engine; the slider shows percent.
    expect(await simulated(page)).toEqual({ latency: 120, jitter: 30, loss: 0.07 });

    // A script that sets the simulation itself is reflected in the panel.
    await page.evaluate(() => {
      const gm = globalThis.gmnet;
      gm.network_set_config(gm.network_config_simulate_latency, 250);
      gm.network_set_config(gm.network_config_simulate_loss, 0.25);
    });
    await expect(panel.getByTestId("latency-value")).toHaveText("250 ms");
    await expect(panel.getByTestId("loss-value")).toHaveText("25 %");
    await expect(panel.getByTestId("latency-slider")).toHaveValue("250");
    await expect(panel.getByTestId("loss-slider")).toHaveValue("25");

    await panel.getByTestId("conditions-reset").click();
    await expect(panel.getByTestId("latency-value")).toHaveText("0 ms");
    await expect(panel.getByTestId("jitter-value")).toHaveText("0 ms");
    await expect(panel.getByTestId("loss-value")).toHaveText("0 %");
    expect(await simulated(page)).toEqual({ latency: 0, jitter: 0, loss: 0 });
  });

  test("hex inspector: any buffer id, live refresh, the 4 KiB cap and a readable error for a dead id", async ({ playground: page }) => {
    await openPlayground(page);
    const panel = page.getByTestId("panel-hex");
    const buffer = await page.evaluate(() => {
      const gm = globalThis.gmnet;
      const id = gm.buffer_create(24, gm.buffer_fixed, 1);
      gm.buffer_write(id, gm.buffer_string, "Hello, gmnet");
      return id;
    });
    await panel.getByTestId("hex-buffer-id").fill(String(buffer));
    await expect(panel.getByTestId("hex-dump")).toHaveText(
      [
        "00000000  48 65 6c 6c 6f 2c 20 67  6d 6e 65 74 00 00 00 00  |Hello, gmnet....|",
        "00000010  00 00 00 00 00 00 00 00                           |........|",
        "00000018",
      ].join("\n"),
    );
    await expect(panel.getByTestId("hex-type")).toHaveText("buffer_fixed");
    await expect(panel.getByTestId("hex-size")).toHaveText("24");
    await expect(panel.getByTestId("hex-used")).toHaveText("13");
    await expect(panel.getByTestId("hex-tell")).toHaveText("13");
    await expect(panel.getByTestId("hex-alignment")).toHaveText("1");
    await expect(panel.getByTestId("hex-error")).toBeHidden();

    // Changes show up without touching the panel.
    await page.evaluate((id) => globalThis.gmnet.buffer_poke(id, 20, globalThis.gmnet.buffer_u32, 0x21434241), buffer);
    await expect(panel.getByTestId("hex-dump")).toContainText("00000010  00 00 00 00 41 42 43 21                           |....ABC!|");

    // Large buffers: the first 4 KiB, with a note.
    const big = await page.evaluate(() => {
      const gm = globalThis.gmnet;
      const id = gm.buffer_create(10_000, gm.buffer_grow, 1);
      gm.buffer_poke(id, 4095, gm.buffer_u8, 0x7a);
      return id;
    });
    await panel.getByTestId("hex-buffer-id").fill(String(big));
    await expect(panel.getByTestId("hex-note")).toHaveText("Showing the first 4096 of 10000 bytes (9.77 KiB).");
    await expect(panel.getByTestId("hex-dump")).toContainText("00000ff0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 7a  |...............z|\n00001000");

    // A deleted buffer, then an id that never existed: the engine's error code, in the panel.
    await page.evaluate((id) => globalThis.gmnet.buffer_delete(id), big);
    await expect(panel.getByTestId("hex-error")).toBeVisible();
    await expect(panel.getByTestId("hex-error")).toContainText(`E_INVALID_BUFFER`);
    await expect(panel.getByTestId("hex-error")).toContainText(`${big} is not a live buffer`);
    await expect(panel.getByTestId("hex-dump")).toHaveText("");
    await panel.getByTestId("hex-buffer-id").fill("987654");
    await expect(panel.getByTestId("hex-error")).toContainText("E_INVALID_BUFFER");
    await expect(panel.getByTestId("hex-error")).toContainText("987654 is not a live buffer");
    await panel.getByTestId("hex-buffer-id").fill(String(buffer));
    await expect(panel.getByTestId("hex-error")).toBeHidden();
    await expect(panel.getByTestId("hex-size")).toHaveText("24");
  });

  test("stats plots: sampled every second from network_get_stats, with RTT, bytes and relay traffic", async ({ playground: page }) => {
    await openPlayground(page);
    const panel = page.getByTestId("panel-stats");
    for (const plot of ["plot-rtt", "plot-bytes", "plot-paths"]) await expect(panel.getByTestId(plot).locator("canvas")).toBeVisible();

    // Traffic: datagrams to this tab's own address (counted as bytes, neither P2P nor relay) and
    // broadcasts (through the relay), every 100 ms until the test ends.
    expect(await goOnline(page)).toBeGreaterThanOrEqual(0);
    await expect(page.getByTestId("connection-state")).toHaveText("connected", { timeout: NETWORK_TIMEOUT_MS });
    await page.evaluate(() => {
      const gm = globalThis.gmnet;
      const port = 20_000 + Math.floor(Math.random() * 40_000);
      const udp = gm.network_create_socket_ext(gm.network_socket_udp, port);
      const ip = String(gm.network_get_config(gm.network_config_virtual_ip));
      const buffer = gm.buffer_create(100, gm.buffer_fixed, 1);
      setInterval(() => {
        gm.network_send_udp_raw(udp, ip, port, buffer, 100);
        gm.network_send_broadcast(udp, port + 1, buffer, 10);
        gm.async_event_dispatch(() => {});
      }, 100);
    });

    const samples = async (): Promise<number> => Number(await panel.getByTestId("stats-samples").textContent());
    await expect.poll(samples, { timeout: NETWORK_TIMEOUT_MS }).toBeGreaterThanOrEqual(3);
    await expect(panel.getByTestId("stats-rtt")).toHaveText(/^\d+ ms$/, { timeout: NETWORK_TIMEOUT_MS });
    await expect(panel.getByTestId("stats-bytes-sent")).toHaveText(/^[1-9][\d.]* (B|KiB)\/s$/, { timeout: NETWORK_TIMEOUT_MS });
    await expect(panel.getByTestId("stats-bytes-received")).toHaveText(/^[1-9][\d.]* (B|KiB)\/s$/, { timeout: NETWORK_TIMEOUT_MS });
    await expect(panel.getByTestId("stats-relay")).toHaveText(/^[1-9][\d.]*\/s$/, { timeout: NETWORK_TIMEOUT_MS });
    await expect(panel.getByTestId("stats-p2p")).toHaveText("0/s");
    await expect(panel.getByTestId("stats-error")).toBeHidden();
  });
});
