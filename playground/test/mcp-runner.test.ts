/**
 * A playground run's MCP tools against the real server: the runner tracks what the script offers
 * and the calls agents make (the MCP panel's snapshot), and Stop answers the calls still open
 * with an error and withdraws the tools, so an agent neither waits for the server's timeout nor
 * sees a tool nobody answers. The MCP client is the official SDK's, as an agent's would be.
 */
import { randomBytes } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import * as engine from "@gmnet/engine";
import { afterEach, expect, it } from "vitest";
import { type TestNetwork, startNetwork } from "../../packages/engine/test/network/support.js";
import type { McpSnapshot } from "../src/playground/panel-host.js";
import type { EngineModule } from "../src/playground/runner/resources.js";
import { ScriptRunner } from "../src/playground/runner/script-runner.js";

const APP = "test-app";
let network: TestNetwork | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await network?.close();
  client = network = undefined;
});

const SCRIPT = `
const request = network_mcp_tool_register("echo", "Echoes its text, unless told to wait", {
  type: "object",
  properties: { text: { type: "string", maxLength: 40 }, wait: { type: "boolean" } },
  required: ["text"],
});
function async_event(async_load, event_type) {
  if (async_load.type === network_type_mcp_call && !async_load.arguments.wait) network_mcp_tool_respond(async_load.call_id, "echo: " + async_load.arguments.text);
}`;

it("tracks the run's tool and calls, and Stop answers the open call and withdraws the tool", async () => {
  const secret = randomBytes(24).toString("hex");
  network = await startNetwork({ mcpTokens: [`${APP}=${secret}`] });
  // The module's functions bound to an engine on the test server, as the page's are to its default
  // engine; a fresh engine (the runner reads the defaults from one) has the same server and app key.
  const net = network;
  const module = { ...engine, ...net.engine(), createEngine: () => net.engine() } as unknown as EngineModule;
  const lines: string[] = [];
  const runner = new ScriptRunner(module, { print: (line) => lines.push(line.text), problem: () => {}, event: () => {}, runStart: () => {}, state: () => {} });
  /** Ticks the runner (the script's events, the tracker) until `check` holds. */
  const until = async (check: (snapshot: McpSnapshot) => boolean): Promise<McpSnapshot> => {
    await expect
      .poll(() => {
        runner.tick(performance.now());
        return check(runner.mcp());
      })
      .toBe(true);
    return runner.mcp();
  };

  expect(runner.start(SCRIPT)).toBe(true);
  expect(runner.mcp().tools).toMatchObject([{ name: "echo", status: "pending" }]);
  await until((snapshot) => snapshot.tools[0]?.status === "registered");

  client = new Client({ name: "playground-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${network.server.address().url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${secret}` } } }));
  expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(["echo"]);

  const answered = client.callTool({ name: "echo", arguments: { text: "hi" } });
  await until((snapshot) => snapshot.calls[0]?.state === "answered");
  expect(await answered).toEqual({ content: [{ type: "text", text: "echo: hi" }], isError: false });

  const waiting = client.callTool({ name: "echo", arguments: { text: "later", wait: true } });
  const open = await until((snapshot) => snapshot.calls.length === 2);
  expect(open.calls.map(({ tool, args, state, answer }) => ({ tool, args, state, answer }))).toEqual([
    { tool: "echo", args: '{"text":"later","wait":true}', state: "open", answer: undefined },
    { tool: "echo", args: '{"text":"hi"}', state: "answered", answer: "echo: hi" },
  ]);

  runner.stop();
  expect(lines.at(-1)).toMatch(/^■ Stopped after [\d.]+ s: withdrew 1 MCP tool$/);
  expect(await waiting).toEqual({ content: [{ type: "text", text: "the playground script that offered this tool was stopped before it answered" }], isError: true });
  // The panel keeps showing the stopped run: the tool withdrawn, the call ended by the Stop.
  const stopped = runner.mcp();
  expect(stopped.tools.map((tool) => tool.status)).toEqual(["withdrawn"]);
  expect(stopped.calls.map((call) => [call.state, call.reason])).toEqual([
    ["ended", "stopped"],
    ["answered", undefined],
  ]);
  await expect.poll(async () => (await client!.listTools()).tools).toEqual([]);

  // The next run starts with an empty panel.
  runner.start("show_debug_message('next');");
  expect(runner.mcp()).toMatchObject({ tools: [], calls: [] });
  runner.stop();
});
