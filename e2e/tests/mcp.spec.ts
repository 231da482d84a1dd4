/**
 * MCP tools from the browser (docs/MCP.md): pages offer tools through the real signaling server,
 * and an MCP client in the test process — the official SDK's Client over Streamable HTTP, no Origin
 * header, the per-run Bearer token global-setup.ts gave the server for the pages' app key — calls
 * them at /mcp, as an IDE's or a desktop assistant's agent would.
 *
 * The demo page (playground/src/demo/agent-tools.ts) hosts a game and offers list_players,
 * move_player and say (named after its lobby, "<lobby>_list_players", outside the default one):
 * the agent lists the players, walks the page's player somewhere else — the page's players list
 * shows it there, and a screenshot is attached — and says a line in the chat.
 * The playground runs the "MCP tools" example (roll_dice): the MCP panel lists the tool, the call
 * with its arguments and the script's answer, and Stop withdraws the tool. Screenshots of both
 * pages are saved to e2e/artifacts/screenshots/ and attached to the report.
 *
 * Every wait is a condition (expect.poll, toHaveText); nothing sleeps.
 */
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Page, TestInfo } from "@playwright/test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { MCP_TOKEN_ENV } from "../env.js";
import { type PeerOptions, expect, test } from "../support/network.js";
import { gotoPlayground, runExample, stop, waitForLine } from "../support/playground.js";

const SCREENSHOTS = fileURLToPath(new URL("../artifacts/screenshots/", import.meta.url));
/** WebRTC between contexts on a loopback-only machine needs a media permission (see demo.spec.ts). */
const WEBRTC: PeerOptions = { context: { permissions: ["microphone"] } };
/** Guest login, room list and room create on a busy 2-core machine. */
const JOIN_TIMEOUT_MS = 20_000;
/** The server accepting a page's tools after it went online. */
const TOOLS_TIMEOUT_MS = 10_000;

interface ToolResult {
  content: Array<{ type: string; text?: string }>;
  isError?: boolean;
}

/** An MCP client of the test's own, connected to the server that serves the pages. */
async function mcpClient(baseURL: string | undefined): Promise<Client> {
  const token = process.env[MCP_TOKEN_ENV];
  if (baseURL === undefined || token === undefined) throw new Error(`no baseURL or ${MCP_TOKEN_ENV}: run with --config e2e/playwright.config.ts, whose global setup starts the server`);
  const client = new Client({ name: "gmnet-e2e", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", baseURL), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((tool) => tool.name);
}

/** Calls `name` and returns its answer's text (the tool's own failure, isError, included). */
async function callText(client: Client, name: string, args: Record<string, unknown>): Promise<{ text: string; isError: boolean }> {
  const result = (await client.callTool({ name, arguments: args })) as ToolResult;
  expect(result.content).toHaveLength(1);
  expect(result.content[0]!.type).toBe("text");
  return { text: result.content[0]!.text ?? "", isError: result.isError === true };
}

async function screenshot(page: Page, name: string, testInfo: TestInfo): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

interface ListedPlayers {
  phase: string;
  room: number | null;
  arena: { width: number; height: number };
  players: Array<{ id: number; name: string; x: number | null; y: number | null; you: boolean }>;
}

test("an agent lists the demo's players, walks the host's player somewhere else and says hello in the chat", async ({ openPeer, baseURL }, testInfo) => {
  test.setTimeout(60_000);
  const lobby = `e2e-${Math.random().toString(36).slice(2, 10)}`;
  const host = await openPeer("host", WEBRTC);
  await host.page.goto(`/demo.html?lobby=${lobby}`);
  await expect(host.page.getByTestId("role")).toHaveText("host", { timeout: JOIN_TIMEOUT_MS });
  const roomId = Number(await host.page.getByTestId("room-id").textContent());

  const client = await mcpClient(baseURL);
  try {
    const names = { list: `${lobby}_list_players`, move: `${lobby}_move_player`, say: `${lobby}_say` };
    // Other tests' pages offer tools for the same app key: only this lobby's matter here.
    await expect
      .poll(async () => (await toolNames(client)).filter((name) => name.startsWith(`${lobby}_`)).sort(), { message: "the demo's tools are listed", timeout: TOOLS_TIMEOUT_MS })
      .toEqual([names.list, names.move, names.say]);
    const move = (await client.listTools()).tools.find((tool) => tool.name === names.move)!;
    expect(move.inputSchema).toMatchObject({ type: "object", required: ["x", "y"], properties: { x: { type: "integer" }, y: { type: "integer" } } });

    const listed = await callText(client, names.list, {});
    expect(listed.isError).toBe(false);
    const game = JSON.parse(listed.text) as ListedPlayers;
    expect(game).toMatchObject({ phase: "host", room: roomId, arena: { width: 960, height: 540 } });
    expect(game.players).toHaveLength(1);
    const me = game.players[0]!;
    expect(me).toMatchObject({ id: 1, you: true });
    const item = host.page.locator('[data-testid="player"][data-local="true"]');
    await expect(item).toHaveAttribute("data-name", me.name);

    // Somewhere well away from where it stands, inside the arena.
    const target = { x: me.x! < 480 ? me.x! + 250 : me.x! - 250, y: me.y! < 270 ? me.y! + 120 : me.y! - 120 };
    const moved = await callText(client, names.move, target);
    expect(moved.isError).toBe(false);
    expect(JSON.parse(moved.text)).toEqual({ player: me.name, id: 1, ...target, arrived: true });
    // The page's players list (refreshed five times a second) shows the player there.
    await expect(item).toHaveAttribute("data-x", String(target.x));
    await expect(item).toHaveAttribute("data-y", String(target.y));
    await screenshot(host.page, "mcp-demo-moved", testInfo);

    // Only this tab's player can be moved; and the server checks the bounds before the page hears of it.
    const other = await callText(client, names.move, { player: "nobody-here", x: 100, y: 100 });
    expect(other).toEqual({ isError: true, text: `there is no player nobody-here: this tab can move only its own player, ${me.name}` });
    const outside = await client.callTool({ name: names.move, arguments: { x: 5000, y: 100 } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(outside).toBeInstanceOf(McpError);
    expect((outside as McpError).code).toBe(ErrorCode.InvalidParams);

    const said = await callText(client, names.say, { text: "hello from the agent" });
    expect(said).toEqual({ isError: false, text: JSON.stringify({ said: "[agent] hello from the agent" }) });
    await expect(host.page.getByTestId("chat-line").last()).toHaveText(`${me.name}: [agent] hello from the agent`);
    await expect(host.page.locator('[data-testid="messages"] [data-level="error"]')).toHaveCount(0);
  } finally {
    await client.close();
  }
});

test("the playground's MCP panel lists the example's tool and an agent's call with the script's answer", async ({ openPeer, baseURL }, testInfo) => {
  const peer = await openPeer("playground");
  const page = peer.page;
  await gotoPlayground(page);
  const panel = page.getByTestId("panel-mcp");
  await expect(panel.getByTestId("mcp-tools-empty")).toBeVisible();

  await runExample(page, "mcp-tools");
  await waitForLine(page, /^✓ mcp tools: roll_dice is offered to the MCP clients of app key "gmnet"$/, TOOLS_TIMEOUT_MS);
  const tool = panel.getByTestId("mcp-tool");
  await expect(tool).toHaveCount(1);
  await expect(tool.getByTestId("mcp-tool-name")).toHaveText("roll_dice");
  await expect(tool.getByTestId("mcp-tool-status")).toHaveText("registered");
  await expect(tool.getByTestId("mcp-tool-description")).toHaveText("Rolls a die with the given number of sides and answers with the number on top.");
  await expect(panel.getByTestId("mcp-calls-empty")).toBeVisible();

  const client = await mcpClient(baseURL);
  try {
    expect(await toolNames(client)).toContain("roll_dice");
    const rolled = await callText(client, "roll_dice", { sides: 20 });
    expect(rolled.isError).toBe(false);
    const answer = JSON.parse(rolled.text) as { sides: number; value: number };
    expect(answer.sides).toBe(20);
    expect(answer.value).toBeGreaterThanOrEqual(1);
    expect(answer.value).toBeLessThanOrEqual(20);
    // Arguments that break the schema never reach the script, nor the panel.
    const refused = await client.callTool({ name: "roll_dice", arguments: { sides: 1 } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((refused as McpError).code).toBe(ErrorCode.InvalidParams);
    const second = await callText(client, "roll_dice", { sides: 6 });

    const calls = panel.getByTestId("mcp-call");
    await expect(calls).toHaveCount(2);
    // Newest first.
    await expect(calls.nth(0).getByTestId("mcp-call-args")).toHaveText('{"sides":6}');
    await expect(calls.nth(0).getByTestId("mcp-call-answer")).toHaveText(second.text);
    await expect(calls.nth(1).getByTestId("mcp-call-tool")).toHaveText("roll_dice");
    await expect(calls.nth(1).getByTestId("mcp-call-args")).toHaveText('{"sides":20}');
    await expect(calls.nth(1).getByTestId("mcp-call-answer")).toHaveText(rolled.text);
    await expect(calls.nth(1)).toHaveAttribute("data-state", "answered");
    await waitForLine(page, new RegExp(`^an agent rolled a d20: ${answer.value}$`));
    await screenshot(page, "mcp-playground-panel", testInfo);

    // Stop withdraws the tool: the panel says so, and agents no longer see it.
    expect(await stop(page)).toMatch(/withdrew 1 MCP tool/);
    await expect(tool.getByTestId("mcp-tool-status")).toHaveText("withdrawn");
    await expect.poll(() => toolNames(client), { message: "roll_dice is no longer listed" }).not.toContain("roll_dice");
  } finally {
    await client.close();
  }
});
