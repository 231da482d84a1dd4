/**
 * /mcp: the server as an MCP server (Streamable HTTP transport, through the official SDK), one
 * MCP session per client, each bound to the app key its bearer token names (--mcp-token) and to
 * an LLM-session channel (2000–2999) on which its tool calls reach engines. docs/MCP.md.
 *
 * Before the SDK sees a request: an Origin header must be allowed (--mcp-allowed-origins; the MCP
 * spec's defence against DNS rebinding), the token must name an app key (401 otherwise, telling
 * nothing of any app), and a session id must belong to that app key (404, as for an unknown one).
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ErrorCode, ListResourcesRequestSchema, ListToolsRequestSchema, McpError, ReadResourceRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { Channel } from "@gmnet/protocol";
import { parseMcpToken } from "../config.js";
import type { ServerContext } from "../server-context.js";
import type { ToolDirectory } from "./tool-directory.js";
import { type ResourceSources, listResources, readResource } from "./mcp-resources.js";
import { RELAYED_HEADER, nodeOfSession, relay } from "./mcp-relay.js";

export const MCP_PATH = "/mcp";
const SERVER_INFO = { name: "gmnet", version: "0.1.0" };

interface McpSession {
  readonly appKey: string;
  readonly channel: number;
  readonly transport: StreamableHTTPServerTransport;
  idleTimer: unknown;
}

export interface McpEndpoint {
  /** Serves /mcp; false for any other path (or when no app key has a token). */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean;
  close(): Promise<void>;
}

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/** With --redis: where this node is among the others, for sessions opened on another node (mcp-relay.ts). */
export interface McpNodes {
  readonly nodeId: number;
  nodeUrl(node: number): Promise<string | undefined>;
}

export function createMcpEndpoint(context: ServerContext, tools: ToolDirectory, sources: Omit<ResourceSources, "tools">, nodes?: McpNodes): McpEndpoint {
  const { config, clock, logger, metrics } = context;
  const tokens = config.mcpTokens.map((entry) => {
    const { appKey, token } = parseMcpToken(entry);
    return { appKey, digest: digest(token) };
  });
  const sessions = new Map<string, McpSession>();
  /** LLM-session channels in use, per app key (sessions being initialized included). */
  const channelsInUse = new Map<string, Set<number>>();
  /** Channel takes under way, per app key. */
  const takingFor = new Map<string, number>();
  let closing = false;

  /** The app key the request's bearer token names; every token is compared, in constant time. */
  const appKeyOf = (req: IncomingMessage): string | undefined => {
    const match = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    if (match === null) return undefined;
    const given = digest(match[1]!);
    let found: string | undefined;
    for (const { appKey, digest: expected } of tokens) if (timingSafeEqual(given, expected)) found ??= appKey;
    return found;
  };

  const refuse = (res: ServerResponse, status: number, reason: string, message: string, headers: Record<string, string> = {}): void => {
    metrics.mcpRequestsRefused.inc({ reason });
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: ErrorCode.InvalidRequest, message }, id: null }));
  };

  /** A channel for a new session of the app key; undefined past mcpMaxSessions (on this node) or when all are taken. */
  const takeChannel = async (appKey: string): Promise<number | undefined> => {
    let used = channelsInUse.get(appKey);
    if (used === undefined) channelsInUse.set(appKey, (used = new Set()));
    const taking = takingFor.get(appKey) ?? 0;
    // Takes still waiting for their (maybe remote) answer count too, so concurrent initializes cannot pass the limit.
    if (used.size + taking >= config.mcpMaxSessions) return undefined;
    takingFor.set(appKey, taking + 1);
    try {
      const channel = await tools.takeChannel(appKey, used, Channel.FIRST_LLM, Channel.LAST_LLM);
      if (channel !== undefined) used.add(channel);
      return channel;
    } finally {
      const left = takingFor.get(appKey)! - 1;
      if (left === 0) takingFor.delete(appKey);
      else takingFor.set(appKey, left);
      if (used.size === 0 && left === 0) channelsInUse.delete(appKey);
    }
  };

  const releaseChannel = (appKey: string, channel: number): void => {
    const used = channelsInUse.get(appKey);
    used?.delete(channel);
    if (used?.size === 0) channelsInUse.delete(appKey);
    tools.releaseChannel(appKey, channel);
  };

  const touch = (session: McpSession): void => {
    clock.clearTimeout(session.idleTimer);
    session.idleTimer = clock.setTimeout(() => {
      logger.debug({ appKey: session.appKey, channel: session.channel }, "mcp session idle, closed");
      void session.transport.close();
    }, config.mcpSessionIdleMs);
  };

  /** A new MCP session: its SDK server, with the app key's tools and resources behind it. */
  const openSession = (appKey: string, channel: number): StreamableHTTPServerTransport => {
    const server = new Server(SERVER_INFO, {
      capabilities: { tools: { listChanged: true }, resources: { listChanged: true } },
      instructions: `The tools of the live games of gmnet app "${appKey}". Each tool is offered by a running game engine and answered by its script; the resources show the app's connected engines, its rooms and each tool's recent calls.`,
    });
    const resourceSources: ResourceSources = { ...sources, tools };
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await tools.list(appKey) }));
    server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
      const args = request.params.arguments ?? {};
      if (Buffer.byteLength(JSON.stringify(args)) > config.maxFrameSize - 128) {
        throw new McpError(ErrorCode.InvalidParams, `the arguments take more than the ${config.maxFrameSize - 128} bytes a call may carry`);
      }
      return tools.call(appKey, channel, request.params.name, args, extra.signal);
    });
    server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: await listResources(resourceSources, appKey) }));
    server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
      const text = await readResource(resourceSources, appKey, request.params.uri);
      if (text === undefined) throw new McpError(ErrorCode.InvalidParams, `no resource ${request.params.uri}`);
      return { contents: [{ uri: request.params.uri, mimeType: "application/json", text }] };
    });
    const notify = (): void => {
      // Without a notification stream open the SDK has nowhere to send them: the next list is fresh anyway.
      server.sendToolListChanged().catch(() => undefined);
      server.sendResourceListChanged().catch(() => undefined);
    };
    const unsubscribe = tools.onChange(appKey, notify);

    const transport = new StreamableHTTPServerTransport({
      // With several nodes the id names this one, so any node can relay a request to it.
      sessionIdGenerator: () => (nodes === undefined ? randomUUID() : `${nodes.nodeId}.${randomUUID()}`),
      maxRequestBodySize: config.maxFrameSize + 64 * 1024,
      onsessioninitialized: (id) => {
        const session: McpSession = { appKey, channel, transport, idleTimer: undefined };
        sessions.set(id, session);
        touch(session);
        logger.debug({ appKey, channel }, "mcp session opened");
      },
    });
    let ended = false;
    transport.onclose = () => {
      if (ended) return;
      ended = true;
      unsubscribe();
      tools.cancelChannel(appKey, channel);
      releaseChannel(appKey, channel);
      const id = transport.sessionId;
      const session = id === undefined ? undefined : sessions.get(id);
      if (session !== undefined) {
        clock.clearTimeout(session.idleTimer);
        sessions.delete(id!);
      }
    };
    void server.connect(transport);
    return transport;
  };

  /** The base URL of the live node that opened session `id`, when it is another one and the request was not relayed already. */
  const homeOf = async (id: string, req: IncomingMessage): Promise<string | undefined> => {
    if (nodes === undefined || req.headers[RELAYED_HEADER] !== undefined) return undefined;
    const node = nodeOfSession(id);
    return node === undefined || node === nodes.nodeId ? undefined : nodes.nodeUrl(node);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    if (origin !== undefined && !config.mcpAllowedOrigins.includes(origin)) {
      return refuse(res, 403, "origin", `origin ${origin} may not use /mcp (the server's --mcp-allowed-origins)`);
    }
    const appKey = appKeyOf(req);
    if (appKey === undefined) {
      return refuse(res, 401, "token", "a valid token is needed: Authorization: Bearer <token> (docs/MCP.md)", { "www-authenticate": 'Bearer realm="gmnet-mcp"' });
    }
    const id = req.headers["mcp-session-id"];
    if (typeof id === "string") {
      const session = sessions.get(id);
      const home = session === undefined ? await homeOf(id, req) : undefined;
      if (home !== undefined) return relay(home, req, res, logger);
      // Another app key's session is as unknown as a made-up id: nothing tells the caller it exists.
      if (session === undefined || session.appKey !== appKey) return refuse(res, 404, "session", "no such MCP session; start a new one with initialize");
      touch(session);
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== "POST") return refuse(res, 400, "session", "an Mcp-Session-Id header is needed; a session starts with a POST of initialize");
    let channel: number | undefined;
    try {
      channel = await takeChannel(appKey);
    } catch (error) {
      logger.warn({ err: error }, "mcp: taking an LLM-session channel failed");
      return refuse(res, 503, "cluster", "the server's nodes cannot reach the table they share (Redis) now; try again");
    }
    if (channel === undefined) return refuse(res, 503, "limit", `the app has ${config.mcpMaxSessions} MCP sessions open, the most the server allows`);
    const transport = openSession(appKey, channel);
    await transport.handleRequest(req, res);
    // Anything but a good initialize leaves the transport without a session: it ends here.
    if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) await transport.close();
  };

  return {
    handleHttp(req, res) {
      const path = (req.url ?? "/").split("?")[0];
      if (path !== MCP_PATH || tokens.length === 0) return false;
      if (closing) {
        refuse(res, 503, "limit", "the server is shutting down");
        return true;
      }
      serve(req, res).catch((error: unknown) => {
        logger.warn({ err: error }, "mcp request failed");
        if (!res.headersSent) refuse(res, 500, "error", "the MCP request failed on the server");
        else res.end();
      });
      return true;
    },
    async close() {
      closing = true;
      await Promise.all([...sessions.values()].map((session) => session.transport.close()));
    },
  };
}
