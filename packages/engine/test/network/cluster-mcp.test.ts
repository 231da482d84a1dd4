/**
 * MCP tools across nodes (PROTOCOL.md §15, docs/MULTI_NODE.md): an agent connected to node 1's /mcp
 * lists, calls and watches the tools of engines on nodes 2 and 3; a tool name is one engine's in the
 * whole network; LLM-session channels are unique across nodes; a call to an engine whose node goes
 * away ends with an MCP error. Real nodes on a private Redis and PostgreSQL, the official MCP SDK
 * client. Every wait is a condition.
 */
import { randomBytes } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import type { GmnetServer } from "@gmnet/signaling-server";
import { useEngineCluster } from "../support/engine-cluster.js";
import { mcpToolOnceFree } from "./support.js";

const APP_KEY = "cluster-mcp";
const SECRET = randomBytes(24).toString("hex");
const cluster = useEngineCluster({ database: "gmnet_cluster_mcp", nodes: [1, 2, 3], appKey: APP_KEY, options: { mcpTokens: [`${APP_KEY}=${SECRET}`] } });
const { nodes, engineOn, startNode } = cluster;

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
});

async function agentOn(server: GmnetServer): Promise<Client> {
  const client = new Client({ name: "gmnet-cluster-test", version: "1.0.0" });
  clients.push(client);
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.address().url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${SECRET}` } } }));
  return client;
}

/** An engine on `server` offering `names` (object schemas), each accepted. */
async function gameOn(server: GmnetServer, ...names: string[]) {
  const game = engineOn(server);
  for (const name of names) {
    const id = game.gm.network_mcp_tool_register(name, `the ${name} tool`, { type: "object", properties: { n: { type: "integer" } } });
    expect(await game.log.next({ type: game.gm.network_type_mcp_tool, id })).toMatchObject({ name, succeeded: 1 });
  }
  return game;
}

const names = async (client: Client): Promise<string[]> => (await client.listTools()).tools.map((tool) => tool.name).sort();

describe("MCP tools across nodes", () => {
  it("an agent on node 1 lists and calls the tools of engines on nodes 2 and 3, and reads their call logs and engines", async () => {
    const two = await gameOn(nodes[1]!, "jump");
    const three = await gameOn(nodes[2]!, "dig");
    const agent = await agentOn(nodes[0]!);
    expect(await names(agent)).toEqual(["dig", "jump"]);
    expect((await agent.listTools()).tools.find((tool) => tool.name === "jump")).toEqual({
      name: "jump",
      description: "the jump tool",
      inputSchema: { type: "object", properties: { n: { type: "integer" } } },
    });

    const result = agent.callTool({ name: "jump", arguments: { n: 3 } });
    const call = await two.log.next({ type: two.gm.network_type_mcp_call });
    expect(call).toMatchObject({ tool: "jump", arguments: { n: 3 } });
    expect(two.gm.network_mcp_tool_respond(call.call_id as number, "jumped 3")).toBe(0);
    expect(await result).toEqual({ content: [{ type: "text", text: "jumped 3" }], isError: false });

    // The schema is checked where the tool lives; its error comes back whole.
    const refused = await agent.callTool({ name: "dig", arguments: { n: "deep" } }).then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(McpError);
    expect((refused as McpError).message).toContain("/n must be integer");
    expect(three.log.seen.filter((event) => event.type === three.gm.network_type_mcp_call)).toEqual([]);

    const read = async (uri: string): Promise<unknown> => JSON.parse(((await agent.readResource({ uri })).contents[0] as { text: string }).text) as unknown;
    expect(await read("gmnet://tools/jump/calls")).toMatchObject({ calls: [{ arguments: { n: 3 }, outcome: "answered", result: "jumped 3" }] });
    const { engines } = (await read("gmnet://engines")) as { engines: Array<{ virtualIp: string; tools: string[] }> };
    const ipOf = (gm: typeof two.gm): string => gm.network_get_config(gm.network_config_virtual_ip) as string;
    expect(engines.map(({ virtualIp, tools }) => ({ virtualIp, tools })).sort((a, b) => a.tools[0]!.localeCompare(b.tools[0]!))).toEqual([
      { virtualIp: ipOf(three.gm), tools: ["dig"] },
      { virtualIp: ipOf(two.gm), tools: ["jump"] },
    ]);
    expect((await agent.listResources()).resources.map((resource) => resource.uri)).toEqual(["gmnet://engines", "gmnet://rooms", "gmnet://tools/dig/calls", "gmnet://tools/jump/calls"]);
  });

  it("gives a name to one engine in the whole network, and frees it when that engine leaves", async () => {
    const first = await gameOn(nodes[1]!, "build");
    const second = engineOn(nodes[2]!);
    const taken = second.gm.network_mcp_tool_register("build", "mine too", { type: "object" });
    expect(await second.log.next({ type: second.gm.network_type_mcp_tool, id: taken })).toMatchObject({ succeeded: 0, error: "E_NETWORK_MCP_TOOL_TAKEN" });

    first.gm.network_shutdown();
    await mcpToolOnceFree(second, "build");
    const agent = await agentOn(nodes[0]!);
    expect((await agent.listTools()).tools).toMatchObject([{ name: "build", description: "mine now" }]);
  });

  it("tells an agent on node 1 when tools come and go on node 3", async () => {
    const agent = await agentOn(nodes[0]!);
    let changes = 0;
    agent.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes++;
    });
    expect(await names(agent)).toEqual([]);
    // The notification stream (GET) opens after initialize: a change made before it is in place
    // is not missed by the test, only by that stream, so changes are made until one is heard.
    const game = engineOn(nodes[2]!);
    await expect
      .poll(async () => {
        const name = `t${changes}x${game.log.seen.length}`;
        const id = game.gm.network_mcp_tool_register(name, "a tool", { type: "object" });
        await game.log.next({ type: game.gm.network_type_mcp_tool, id });
        return changes;
      })
      .toBeGreaterThanOrEqual(1);
    const before = changes;
    const registered = await names(agent);
    expect(game.gm.network_mcp_tool_unregister(registered[0]!)).toBe(0);
    await expect.poll(() => changes).toBeGreaterThan(before);
    expect(await names(agent)).toEqual(registered.slice(1));
  });

  it("gives agents on different nodes different LLM-session channels", async () => {
    const game = await gameOn(nodes[1]!, "wave");
    const agents = await Promise.all([agentOn(nodes[0]!), agentOn(nodes[2]!), agentOn(nodes[0]!)]);
    const channels: number[] = [];
    for (const agent of agents) {
      const result = agent.callTool({ name: "wave", arguments: {} });
      const call = await game.log.next({ type: game.gm.network_type_mcp_call });
      channels.push(call.channel as number);
      game.gm.network_mcp_tool_respond(call.call_id as number, "waved");
      await result;
    }
    expect(new Set(channels).size).toBe(3);
    for (const channel of channels) expect(channel).toBeGreaterThanOrEqual(2000);
  });

  it("ends a call whose engine's node stops with an MCP error, and drops the node's tools", async () => {
    const fourth = await startNode(4);
    const game = await gameOn(fourth, "sleep");
    const agent = await agentOn(nodes[0]!);
    const result = agent.callTool({ name: "sleep", arguments: {} }).then(() => undefined, (error: unknown) => error);
    await game.log.next({ type: game.gm.network_type_mcp_call });
    await fourth.close();
    const error = await result;
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toMatch(/went away/);
    expect(await names(agent)).toEqual([]);
  });
});

describe("MCP sessions behind a round-robin balancer", () => {
  it("relays each request of a session to the node that opened it: lists, calls, notifications and the session's end", async () => {
    const game = await gameOn(nodes[1]!, "spin");
    let turn = 0;
    const hits: number[] = [];
    // Each HTTP request goes to the next node, as a round-robin balancer without any routing rule sends it.
    const roundRobin = (url: string | URL, init?: RequestInit): Promise<Response> => {
      const node = turn++ % nodes.length;
      hits.push(node);
      const target = new URL(url);
      target.host = new URL(nodes[node]!.address().url).host;
      return fetch(target, init);
    };
    const agent = new Client({ name: "gmnet-balanced", version: "1.0.0" });
    clients.push(agent);
    const transport = new StreamableHTTPClientTransport(new URL(`${nodes[0]!.address().url}/mcp`), { fetch: roundRobin, requestInit: { headers: { authorization: `Bearer ${SECRET}` } } });
    await agent.connect(transport);
    let changes = 0;
    agent.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes++;
    });
    for (let i = 0; i < 4; i++) expect(await names(agent)).toEqual(["spin"]);
    const result = agent.callTool({ name: "spin", arguments: {} });
    const call = await game.log.next({ type: game.gm.network_type_mcp_call });
    game.gm.network_mcp_tool_respond(call.call_id as number, "spun");
    expect(await result).toEqual({ content: [{ type: "text", text: "spun" }], isError: false });
    expect(new Set(hits).size).toBe(3);
    // The notification stream (a GET, relayed like the rest) carries a change made on node 3.
    const other = engineOn(nodes[2]!);
    await expect
      .poll(async () => {
        const id = other.gm.network_mcp_tool_register(`n${other.log.seen.length}`, "a tool", { type: "object" });
        await other.log.next({ type: other.gm.network_type_mcp_tool, id });
        return changes;
      })
      .toBeGreaterThanOrEqual(1);

    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    for (const node of nodes) {
      const answer = await fetch(`${node.address().url}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${SECRET}`, "mcp-session-id": sessionId },
        body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
      });
      expect(answer.status).toBe(404);
    }
  });
});

describe("MCP tools and a Redis restart", () => {
  it("refuses a tool while Redis is unreachable (E_NETWORK_MCP_UNAVAILABLE), and writes the ones it had again after a restart that lost every key", async () => {
    const game = await gameOn(nodes[1]!, "kept");
    await cluster.redis.restart({
      keepData: false,
      whileDown: async () => {
        const id = game.gm.network_mcp_tool_register("late", "too late", { type: "object" });
        expect(await game.log.next({ type: game.gm.network_type_mcp_tool, id })).toMatchObject({ succeeded: 0, error: "E_NETWORK_MCP_UNAVAILABLE" });
      },
    });
    // Until a node sees Redis again it refuses new MCP sessions (503): wait for every node.
    const redisUp = async (server: GmnetServer): Promise<boolean> => ((await (await fetch(`${server.address().url}/healthz`)).json()) as { cluster: { redis: string } }).cluster.redis === "up";
    for (const node of nodes) await expect.poll(() => redisUp(node), { timeout: 20_000 }).toBe(true);
    // Node 2 writes its tools again once it is connected (after its first liveness round).
    await expect.poll(async () => (await cluster.redis.call("HKEYS", `gmnet:mcp:tools:${APP_KEY}`)) as string[], { timeout: 20_000 }).toEqual(["kept"]);
    const agent = await agentOn(nodes[0]!);
    expect(await names(agent)).toEqual(["kept"]);
  }, 40_000);
});
