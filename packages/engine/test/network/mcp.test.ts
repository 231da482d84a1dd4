/**
 * MCP tools end to end (docs/MCP.md, PROTOCOL.md §17): Node engines offer tools through the real
 * server on port 0, and the official SDK's MCP client calls them over Streamable HTTP at /mcp
 * with a bearer token, as an IDE's or a desktop assistant's MCP client would.
 */
import { randomBytes } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError, ResourceListChangedNotificationSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import wrtc from "@roamhq/wrtc";
import { WebSocket } from "ws";
import { type Engine, createEngine, createMemoryStorage } from "../../src/index.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { EventLog, type TestNetwork, mcpToolOnceFree, startNetwork } from "./support.js";

const APP = "test-app";
const OTHER_APP = "other-app";
const token = (): string => randomBytes(24).toString("hex");

let network: TestNetwork | undefined;
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
  await network?.close();
  network = undefined;
});

interface Host {
  gm: Engine;
  log: EventLog;
}

const MOVE_SCHEMA = {
  type: "object",
  properties: { player: { type: "string", maxLength: 32 }, dx: { type: "integer", minimum: -10, maximum: 10 }, dy: { type: "integer", minimum: -10, maximum: 10 } },
  required: ["player", "dx", "dy"],
  additionalProperties: false,
};

/** An engine of `appKey` that offers `tools` (name → schema), each accepted by the server. */
async function host(net: TestNetwork, tools: Record<string, object>, appKey = APP): Promise<Host> {
  const gm = net.engine({ appKey });
  const log = new EventLog(gm);
  for (const [name, schema] of Object.entries(tools)) {
    const id = gm.network_mcp_tool_register(name, `the ${name} tool`, JSON.stringify(schema));
    expect(await log.next({ type: gm.network_type_mcp_tool, id })).toMatchObject({ name, succeeded: 1 });
  }
  return { gm, log };
}

async function mcpClient(net: TestNetwork, bearer: string): Promise<Client> {
  const client = new Client({ name: "gmnet-test", version: "1.0.0" });
  clients.push(client);
  await client.connect(new StreamableHTTPClientTransport(new URL(`${net.server.address().url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } }));
  return client;
}

/** The MCP error a promise rejects with. */
async function mcpError(promise: Promise<unknown>): Promise<McpError> {
  const error = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(McpError);
  return error as McpError;
}

/** A raw POST of initialize to /mcp, as a client that does not use the SDK would send it. */
function rawInitialize(net: TestNetwork, headers: Record<string, string>): Promise<Response> {
  return fetch(`${net.server.address().url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
  });
}

describe("MCP tools", () => {
  it("lists a script's tool, calls it with checked arguments, and returns the script's answer", async () => {
    const secret = token();
    network = await startNetwork({ mcpTokens: [`${APP}=${secret}`] });
    const game = await host(network, { move_player: MOVE_SCHEMA });
    const client = await mcpClient(network, secret);

    const { tools } = await client.listTools();
    expect(tools).toEqual([{ name: "move_player", description: "the move_player tool", inputSchema: MOVE_SCHEMA }]);

    const result = client.callTool({ name: "move_player", arguments: { player: "ann", dx: 3, dy: -2 } });
    const call = await game.log.next({ type: game.gm.network_type_mcp_call });
    expect(call).toMatchObject({ tool: "move_player", arguments: { player: "ann", dx: 3, dy: -2 }, id: call.call_id });
    expect(call.channel).toBeGreaterThanOrEqual(2000);
    expect(call.channel).toBeLessThanOrEqual(2999);
    expect(game.gm.network_mcp_tool_respond(call.call_id as number, { x: 13, y: 8 })).toBe(0);
    expect(await result).toEqual({ content: [{ type: "text", text: '{"x":13,"y":8}' }], isError: false });
    // Answered once: a second answer has no call to go to.
    expect(game.gm.network_mcp_tool_respond(call.call_id as number, "again")).toBe(-1);

    // A text answer marked as an error is the tool failing, not the protocol.
    const failing = client.callTool({ name: "move_player", arguments: { player: "bob", dx: 0, dy: 0 } });
    const second = await game.log.next({ type: game.gm.network_type_mcp_call });
    expect(game.gm.network_mcp_tool_respond(second.call_id as number, "bob is not in the game", true)).toBe(0);
    expect(await failing).toEqual({ content: [{ type: "text", text: "bob is not in the game" }], isError: true });
  });

  it("refuses arguments that break the schema and unknown tools with -32602; the script sees neither", async () => {
    const secret = token();
    network = await startNetwork({ mcpTokens: [`${APP}=${secret}`] });
    const game = await host(network, { move_player: MOVE_SCHEMA });
    const client = await mcpClient(network, secret);

    const wrongType = await mcpError(client.callTool({ name: "move_player", arguments: { player: "ann", dx: "far", dy: 0 } }));
    expect(wrongType.code).toBe(ErrorCode.InvalidParams);
    expect(wrongType.message).toContain("/dx must be integer");
    const missing = await mcpError(client.callTool({ name: "move_player", arguments: { player: "ann" } }));
    expect(missing.code).toBe(ErrorCode.InvalidParams);
    expect(missing.message).toContain("must have required property 'dx'");
    const unknown = await mcpError(client.callTool({ name: "teleport", arguments: {} }));
    expect(unknown.code).toBe(ErrorCode.InvalidParams);
    expect(unknown.message).toContain("Unknown tool: teleport");

    // A good call after them is the first the script hears of.
    const result = client.callTool({ name: "move_player", arguments: { player: "ann", dx: 1, dy: 1 } });
    const call = await game.log.next({ type: game.gm.network_type_mcp_call });
    expect(call.arguments).toEqual({ player: "ann", dx: 1, dy: 1 });
    game.gm.network_mcp_tool_respond(call.call_id as number, "ok");
    await result;
    expect(game.log.seen.filter((event) => event.type === game.gm.network_type_mcp_call)).toHaveLength(1);
  });

  it("ends an unanswered call after the timeout with an MCP error, and tells the script", async () => {
    const secret = token();
    network = await startNetwork({ mcpTokens: [`${APP}=${secret}`], mcpCallTimeoutMs: 300 });
    const game = await host(network, { slow: { type: "object" } });
    const client = await mcpClient(network, secret);

    const result = client.callTool({ name: "slow", arguments: {} });
    const call = await game.log.next({ type: game.gm.network_type_mcp_call });
    const error = await mcpError(result);
    expect(error.code).toBe(ErrorCode.RequestTimeout);
    expect(error.message).toContain("slow did not answer within 300 ms");
    expect(await game.log.next({ type: game.gm.network_type_mcp_call_ended })).toMatchObject({ call_id: call.call_id, tool: "slow", reason: "timeout", error: "E_NETWORK_TIMEOUT" });
    expect(game.gm.network_mcp_tool_respond(call.call_id as number, "too late")).toBe(-1);
  });

  it("ends a call whose engine goes away with an MCP error, and drops its tools from the list", async () => {
    const secret = token();
    network = await startNetwork({ mcpTokens: [`${APP}=${secret}`] });
    const game = await host(network, { wait: { type: "object" } });
    const client = await mcpClient(network, secret);

    const result = client.callTool({ name: "wait", arguments: {} });
    await game.log.next({ type: game.gm.network_type_mcp_call });
    game.gm.network_shutdown();
    const error = await mcpError(result);
    expect(error.code).toBe(ErrorCode.InternalError);
    expect(error.message).toContain("the engine that offers wait went away");
    expect((await client.listTools()).tools).toEqual([]);
  });

  it("sends notifications/tools/list_changed when tools come and go", async () => {
    const secret = token();
    network = await startNetwork({ mcpTokens: [`${APP}=${secret}`] });
    const game = await host(network, { first: { type: "object" } });
    const client = await mcpClient(network, secret);
    let toolChanges = 0;
    let resourceChanges = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      toolChanges++;
    });
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      resourceChanges++;
    });
    const names = async (): Promise<string[]> => (await client.listTools()).tools.map((tool) => tool.name).sort();
    expect(await names()).toEqual(["first"]);
    // The client opens its notification stream (GET) after initialize; wait until the server has it.
    const until = async (condition: () => boolean): Promise<void> => {
      await expect.poll(condition, { timeout: 5_000 }).toBe(true);
    };

    const id = game.gm.network_mcp_tool_register("second", "another", { type: "object" });
    await game.log.next({ type: game.gm.network_type_mcp_tool, id });
    await until(() => toolChanges >= 1 && resourceChanges >= 1);
    expect(await names()).toEqual(["first", "second"]);

    expect(game.gm.network_mcp_tool_unregister("first")).toBe(0);
    expect(game.gm.network_mcp_tool_unregister("first")).toBe(-1);
    await until(() => toolChanges >= 2);
    expect(await names()).toEqual(["second"]);

    game.gm.network_shutdown();
    await until(() => toolChanges >= 3);
    expect(await names()).toEqual([]);
  });

  it("401 without a valid token, 403 for a foreign origin, and each app key sees only its own tools", async () => {
    const [secretA, secretB] = [token(), token()];
    network = await startNetwork({ mcpTokens: [`${APP}=${secretA}`, `${OTHER_APP}=${secretB}`], mcpAllowedOrigins: ["https://tools.example"] });
    await host(network, { a_tool: { type: "object" } });
    await host(network, { b_tool: { type: "object" } }, OTHER_APP);

    for (const headers of [{} as Record<string, string>, { authorization: "Bearer not-a-token-at-all" }, { authorization: `Basic ${secretA}` }, { authorization: `Bearer ${secretA}x` }]) {
      const response = await rawInitialize(network, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="gmnet-mcp"');
      expect(await response.text()).not.toMatch(/a_tool|b_tool|test-app|other-app/);
    }
    const foreign = await rawInitialize(network, { authorization: `Bearer ${secretA}`, origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect((await rawInitialize(network, { authorization: `Bearer ${secretA}`, origin: "https://tools.example" })).status).toBe(200);

    const a = await mcpClient(network, secretA);
    const b = await mcpClient(network, secretB);
    expect((await a.listTools()).tools.map((tool) => tool.name)).toEqual(["a_tool"]);
    expect((await b.listTools()).tools.map((tool) => tool.name)).toEqual(["b_tool"]);
    expect((await mcpError(a.callTool({ name: "b_tool", arguments: {} }))).message).toContain("Unknown tool: b_tool");

    // A's session id with B's token is as unknown as a made-up one.
    const sessionId = (a as unknown as { transport: StreamableHTTPClientTransport }).transport.sessionId!;
    const crossed = await fetch(`${network.server.address().url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${secretB}`, "mcp-session-id": sessionId },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    expect(crossed.status).toBe(404);
  });

  it("a name belongs to the first engine that offers it; the server checks names, schemas and the app's token", async () => {
    const secret = token();
    network = await startNetwork({ mcpTokens: [`${APP}=${secret}`] });
    const first = await host(network, { say: { type: "object" } });
    const second = await host(network, {});
    const taken = second.gm.network_mcp_tool_register("say", "mine too", "{\"type\":\"object\"}");
    expect(await second.log.next({ type: second.gm.network_type_mcp_tool, id: taken })).toMatchObject({ name: "say", succeeded: 0, error: "E_NETWORK_MCP_TOOL_TAKEN" });

    // A pattern without maxLength could make checking an agent's arguments slow: refused.
    const slow = second.gm.network_mcp_tool_register("find", "find", { type: "object", properties: { q: { type: "string", pattern: "^(a+)+$" } } });
    const refused = await second.log.next({ type: second.gm.network_type_mcp_tool, id: slow });
    expect(refused).toMatchObject({ succeeded: 0, error: "E_NETWORK_MCP_INVALID_TOOL" });
    expect(refused.message).toContain("maxLength");
    const badRef = second.gm.network_mcp_tool_register("fetch", "fetch", { type: "object", properties: { q: { $ref: "https://example.com/schema.json" } } });
    expect(await second.log.next({ type: second.gm.network_type_mcp_tool, id: badRef })).toMatchObject({ succeeded: 0, error: "E_NETWORK_MCP_INVALID_TOOL" });

    // The engine rejects what it can see is wrong before sending anything.
    expect(() => second.gm.network_mcp_tool_register("bad name", "x", { type: "object" })).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
    expect(() => second.gm.network_mcp_tool_register("ok", "x", "{not json")).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
    expect(() => second.gm.network_mcp_tool_register("ok", "x", { type: "string" })).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));

    // Once the first engine is gone, the name is free.
    first.gm.network_shutdown();
    await mcpToolOnceFree(second, "say");

    // An app key without a token has no MCP clients to offer tools to.
    const stranger = network.engine({ appKey: "no-mcp-app" });
    const strangerLog = new EventLog(stranger);
    const disabled = stranger.network_mcp_tool_register("say", "x", { type: "object" });
    expect(await strangerLog.next({ type: stranger.network_type_mcp_tool, id: disabled })).toMatchObject({ succeeded: 0, error: "E_NETWORK_MCP_DISABLED" });
  });

  it("caps calls in flight per app, tells the script of a cancelled call, and logs calls in a resource", async () => {
    const secret = token();
    network = await startNetwork({ mcpTokens: [`${APP}=${secret}`], mcpMaxConcurrentCalls: 1 });
    const game = await host(network, { move_player: MOVE_SCHEMA });
    const client = await mcpClient(network, secret);

    const abort = new AbortController();
    const pending = client.callTool({ name: "move_player", arguments: { player: "ann", dx: 1, dy: 0 } }, undefined, { signal: abort.signal });
    const call = await game.log.next({ type: game.gm.network_type_mcp_call });
    const busy = await mcpError(client.callTool({ name: "move_player", arguments: { player: "bob", dx: 1, dy: 0 } }));
    expect(busy.message).toContain("1 tool calls in flight");
    abort.abort();
    await expect(pending).rejects.toThrow();
    expect(await game.log.next({ type: game.gm.network_type_mcp_call_ended })).toMatchObject({ call_id: call.call_id, reason: "cancelled", error: "E_NETWORK_MCP_CANCELLED" });

    const answered = client.callTool({ name: "move_player", arguments: { player: "cy", dx: -1, dy: 2 } });
    const next = await game.log.next({ type: game.gm.network_type_mcp_call });
    game.gm.network_mcp_tool_respond(next.call_id as number, "moved");
    await answered;

    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toEqual(["gmnet://engines", "gmnet://rooms", "gmnet://tools/move_player/calls"]);
    const read = async (uri: string): Promise<unknown> => {
      const { contents } = await client.readResource({ uri });
      return JSON.parse((contents[0] as { text: string }).text) as unknown;
    };
    const log = (await read("gmnet://tools/move_player/calls")) as { calls: Array<Record<string, unknown>> };
    expect(log.calls.map(({ arguments: args, outcome, result }) => ({ args, outcome, result }))).toEqual([
      { args: { player: "ann", dx: 1, dy: 0 }, outcome: "cancelled", result: "MCP error -32001: the call to move_player was cancelled" },
      { args: { player: "cy", dx: -1, dy: 2 }, outcome: "answered", result: "moved" },
    ]);
    const engines = (await read("gmnet://engines")) as { engines: Array<Record<string, unknown>> };
    expect(engines.engines).toHaveLength(1);
    expect(engines.engines[0]).toMatchObject({ virtualIp: game.gm.network_get_config(game.gm.network_config_virtual_ip), state: "connected", tools: ["move_player"] });
    expect(await read("gmnet://rooms")).toEqual({ total: 0, rooms: [] });
    expect((await mcpError(client.readResource({ uri: "gmnet://tools/nothing/calls" }))).code).toBe(ErrorCode.InvalidParams);
  });

  it("keeps an engine's tools and its open call across a dropped connection it resumes", async () => {
    const secret = token();
    network = await startNetwork({ mcpTokens: [`${APP}=${secret}`] });
    const proxy: FaultProxy = await startFaultProxy({ host: "127.0.0.1", port: network.server.address().port });
    const gm = createEngine({
      storage: createMemoryStorage(),
      network: { WebSocket, wrtc, appKey: APP, signalingUrl: proxy.wsUrl("/ws"), reconnectDelayMs: 20, livenessTimeoutMs: 400, echoIntervalMs: 100 },
    });
    const log = new EventLog(gm);
    try {
      const id = gm.network_mcp_tool_register("move_player", "moves", MOVE_SCHEMA);
      expect(await log.next({ type: gm.network_type_mcp_tool, id })).toMatchObject({ succeeded: 1 });
      const client = await mcpClient(network, secret);
      const result = client.callTool({ name: "move_player", arguments: { player: "ann", dx: 1, dy: 1 } });
      const call = await log.next({ type: gm.network_type_mcp_call });
      proxy.block();
      proxy.reset();
      // Answered while the path is down: held by the engine's session and sent when it resumes.
      expect(gm.network_mcp_tool_respond(call.call_id as number, "moved")).toBe(0);
      proxy.unblock();
      expect(await result).toEqual({ content: [{ type: "text", text: "moved" }], isError: false });
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(["move_player"]);
      expect(gm.network_get_stats(-1)!.resumes).toBeGreaterThanOrEqual(1);
      expect(log.seen.filter((event) => event.type === gm.network_type_down || event.type === gm.network_type_mcp_call_ended)).toEqual([]);
    } finally {
      gm.network_shutdown();
      await proxy.close();
    }
  }, 30_000);

  it("answers malformed, oversized and out-of-session requests with an HTTP error, frees their slots, and ends idle and deleted sessions", async () => {
    const secret = token();
    network = await startNetwork({ mcpTokens: [`${APP}=${secret}`], mcpMaxSessions: 2, mcpSessionIdleMs: 300 });
    const url = `${network.server.address().url}/mcp`;
    const headers = { authorization: `Bearer ${secret}`, "content-type": "application/json", accept: "application/json, text/event-stream" };
    const post = (body: string, extra: Record<string, string> = {}): Promise<Response> => fetch(url, { method: "POST", headers: { ...headers, ...extra }, body });

    // None of these opens a session, so none keeps one of the two slots.
    for (let i = 0; i < 3; i++) {
      expect((await post("{not json")).status).toBe(400);
      expect((await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }))).status).toBe(400);
      expect((await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: {} }), { accept: "text/html" })).status).toBe(406);
      expect((await post("x".repeat(256 * 1024 + 64 * 1024 + 1))).status).toBe(413);
    }
    expect((await fetch(url, { headers })).status).toBe(400);
    expect((await post(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }), { "mcp-session-id": "made-up" })).status).toBe(404);

    // Two sessions fit; a third is refused until one ends.
    const first = await mcpClient(network, secret);
    const second = await mcpClient(network, secret);
    // Arguments larger than a frame can carry are refused before any engine hears of them.
    const game = await host(network, { big: { type: "object", properties: { text: { type: "string", maxLength: 300_000 } } } });
    const tooBig = await mcpError(first.callTool({ name: "big", arguments: { text: "y".repeat(270_000) } }));
    expect(tooBig.code).toBe(ErrorCode.InvalidParams);
    expect(game.log.seen.filter((event) => event.type === game.gm.network_type_mcp_call)).toEqual([]);
    expect((await rawInitialize(network, { authorization: `Bearer ${secret}` })).status).toBe(503);
    const transport = (first as unknown as { transport: StreamableHTTPClientTransport }).transport;
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    expect((await post(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/list" }), { "mcp-session-id": sessionId })).status).toBe(404);
    await mcpClient(network, secret);

    // A session with no request for mcpSessionIdleMs ends: its slot frees (asking for a new session
    // does not touch it) and its id is unknown afterwards.
    const idleId = (second as unknown as { transport: StreamableHTTPClientTransport }).transport.sessionId!;
    await second.close();
    await expect.poll(async () => (await rawInitialize(network!, { authorization: `Bearer ${secret}` })).status, { timeout: 5_000 }).toBe(200);
    expect((await post(JSON.stringify({ jsonrpc: "2.0", id: 4, method: "tools/list" }), { "mcp-session-id": idleId })).status).toBe(404);
  });

  it("has no /mcp unless an app key has a token", async () => {
    network = await startNetwork();
    expect((await rawInitialize(network, { authorization: `Bearer ${token()}` })).status).toBe(404);
  });
});
