/**
 * Where the MCP endpoint finds tools: on one node, this node's registry (mcp-tools.ts); with
 * --redis, every node's (PROTOCOL.md §15, "MCP across nodes"). An engine's tools stay with its
 * node: their schemas, calls and call logs. The nodes share which tool is where and which
 * LLM-session channels are taken (cluster/mcp-table.ts), and a call to a tool on another node
 * travels there and back through the bus ("mcpq"/"mcpr"). Every call still ends exactly once: with
 * the engine's answer, its node's timeout, the MCP client cancelling, or — when the node does not
 * answer at all or dies — this node's own limit.
 */
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ClusterLink } from "../cluster/cluster.js";
import type { McpQuery } from "../cluster/messages.js";
import type { ServerContext } from "../server-context.js";
import type { Session } from "../session/session.js";
import type { CallLogEntry, EngineView, McpShare, McpTools, ToolInfo } from "./mcp-tools.js";
import { ToolStatus } from "@gmnet/protocol";

export interface ToolDirectory {
  /** Whether MCP clients of this app key may connect (it has a token). */
  enabled(appKey: string): boolean;
  list(appKey: string): Promise<ToolInfo[]>;
  /** Calls a tool wherever its engine is; rejects with an McpError as McpTools.call does. */
  call(appKey: string, channel: number, name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult>;
  /** Ends the calls of an MCP session that closed. */
  cancelChannel(appKey: string, channel: number): void;
  /** Called whenever the app key's tool list changes, on any node; returns the unsubscribe function. */
  onChange(appKey: string, listener: () => void): () => void;
  callLog(appKey: string, name: string): Promise<CallLogEntry[] | undefined>;
  /** The app key's connected engines, on every node. */
  engines(appKey: string): Promise<EngineView[]>;
  /**
   * An LLM-session channel for a new MCP session, not in `inUse` (this node's) nor used by another
   * node; undefined when none is free. Rejects when the nodes' shared table cannot be reached.
   */
  takeChannel(appKey: string, inUse: ReadonlySet<number>, first: number, last: number): Promise<number | undefined>;
  releaseChannel(appKey: string, channel: number): void;
}

/** One node: the registry itself. */
export function createLocalToolDirectory(tools: McpTools): ToolDirectory {
  return {
    enabled: (appKey) => tools.enabled(appKey),
    list: async (appKey) => tools.list(appKey),
    call: (appKey, channel, name, args, signal) => tools.call(appKey, channel, name, args, signal),
    cancelChannel: (appKey, channel) => tools.cancelChannel(appKey, channel),
    onChange: (appKey, listener) => tools.onChange(appKey, listener),
    callLog: async (appKey, name) => tools.callLog(appKey, name),
    engines: async (appKey) => tools.engines(appKey),
    async takeChannel(_appKey, inUse, first, last) {
      for (let channel = first; channel <= last; channel++) if (!inUse.has(channel)) return channel;
      return undefined;
    },
    releaseChannel: () => undefined,
  };
}

/**
 * How much longer than mcpCallTimeoutMs this node waits for another node's answer: that node's own
 * timeout answers first (with its message); this one only when the node or the bus is silent.
 */
const BUS_ROUND_TRIP_ALLOWANCE_MS = 2000;

interface Asked {
  readonly node: number;
  readonly query: McpQuery;
  settle(outcome: { ok: true; body: unknown } | { ok: false; error: McpError }): void;
}

/** The MCP sessions of this node that want to hear of tool changes, by app key (shared by the share and the directory). */
export type McpListeners = Map<string, Set<() => void>>;

/** The McpShare the registry claims names through, for createMcpTools. */
export function createClusterShare(link: ClusterLink, context: ServerContext, listeners: McpListeners): McpShare {
  const { config, logger } = context;
  const notify = (appKey: string): void => {
    for (const listener of listeners.get(appKey) ?? []) listener();
  };
  return {
    async claim(session: Session, tool: ToolInfo) {
      try {
        const result = await link.mcp.claim(session.appKey, tool.name, session.id, { description: tool.description, inputSchema: tool.inputSchema }, config.mcpMaxTools);
        return result === "ok" ? ToolStatus.OK : result === "taken" ? ToolStatus.TAKEN : ToolStatus.LIMIT;
      } catch (error) {
        logger.warn({ err: error }, "mcp: claiming a tool name across nodes failed");
        return ToolStatus.UNAVAILABLE;
      }
    },
    release: (session, name) => link.mcp.release(session.appKey, name, session.id),
    changed(appKey) {
      link.mcp.watchers(appKey).then(
        (nodes) => {
          for (const node of nodes) {
            if (node === link.nodeId) notify(appKey);
            else link.send(node, { t: "mcpchanged", appKey });
          }
        },
        (error: unknown) => logger.warn({ err: error }, "mcp: telling the nodes of a tool change failed (their MCP clients see it at their next list)"),
      );
    },
  };
}

/** Several nodes: this node's registry for its engines, the others' through the bus. */
export function createClusterToolDirectory(context: ServerContext, tools: McpTools, link: ClusterLink, listeners: McpListeners): ToolDirectory {
  const { clock, config, logger } = context;
  const asked = new Map<number, Asked>();
  let nextId = 1;
  /** Calls other nodes asked of this node's engines, by `${node}/${id}`. */
  const served = new Map<string, { node: number; abort: AbortController }>();

  const errorOf = (error: unknown): McpError =>
    error instanceof McpError ? error : new McpError(ErrorCode.InternalError, "the nodes' shared tool table (Redis) cannot be reached now; try again");
  /** McpError prefixes its message with "MCP error <code>: "; the text alone travels, and the other side's McpError adds it again. */
  const textOf = (error: McpError): string => error.message.replace(/^MCP error -?\d+: /, "");

  const ask = (node: number, query: McpQuery, waitMs: number, signal?: AbortSignal): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const onAbort = (): void => link.send(node, { t: "mcpcancel", id });
      const timer = clock.setTimeout(
        () => entry.settle({ ok: false, error: new McpError(ErrorCode.InternalError, `the node that runs the engine did not answer within ${waitMs} ms`) }),
        waitMs,
      );
      const entry: Asked = {
        node,
        query,
        settle(outcome) {
          if (!asked.delete(id)) return;
          clock.clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          if (outcome.ok) resolve(outcome.body);
          else reject(outcome.error);
        },
      };
      asked.set(id, entry);
      signal?.addEventListener("abort", onAbort, { once: true });
      link.send(node, { t: "mcpq", id, q: query });
    });

  /** The live node whose engine offers `name`, when it is not this one. */
  const ownerOf = async (appKey: string, name: string): Promise<number | undefined> => {
    const owner = (await link.mcp.list(appKey).catch((error: unknown) => Promise.reject(errorOf(error)))).find((tool) => tool.name === name);
    return owner === undefined || owner.node === link.nodeId ? undefined : owner.node;
  };

  const answer = async (from: number, id: number, query: McpQuery): Promise<unknown> => {
    switch (query.kind) {
      case "call": {
        const abort = new AbortController();
        const key = `${from}/${id}`;
        served.set(key, { node: from, abort });
        try {
          return await tools.call(query.appKey, query.channel, query.name, query.args, abort.signal);
        } finally {
          served.delete(key);
        }
      }
      case "log":
        return tools.callLog(query.appKey, query.name) ?? null;
      case "engines":
        return tools.engines(query.appKey);
    }
  };

  link.on("mcpq", (from, { id, q }) => {
    answer(from, id, q).then(
      (body) => link.send(from, { t: "mcpr", id, ok: true, body }),
      (error: unknown) => {
        const failure = errorOf(error);
        if (!(error instanceof McpError)) logger.error({ err: error, from, kind: q.kind }, "mcp: a question from another node failed");
        link.send(from, { t: "mcpr", id, ok: false, code: failure.code, message: textOf(failure) });
      },
    );
  });
  link.on("mcpr", (from, reply) => {
    const entry = asked.get(reply.id);
    if (entry === undefined || entry.node !== from) return;
    entry.settle(reply.ok ? { ok: true, body: reply.body } : { ok: false, error: new McpError(reply.code, reply.message) });
  });
  link.on("mcpcancel", (from, { id }) => served.get(`${from}/${id}`)?.abort.abort());
  link.on("mcpchanged", (_from, { appKey }) => {
    for (const listener of listeners.get(appKey) ?? []) listener();
  });
  // A node that died answers nothing: what was asked of it fails now, what it asked is cancelled.
  link.watchNodes(
    () => [...[...asked.values()].map((entry) => entry.node), ...[...served.values()].map((call) => call.node)],
    (node) => {
      for (const entry of [...asked.values()]) {
        if (entry.node !== node) continue;
        const tool = entry.query.kind === "engines" ? "" : entry.query.name;
        entry.settle({ ok: false, error: new McpError(ErrorCode.InternalError, `the engine that offers ${tool} went away before it answered (its node stopped)`) });
      }
      for (const call of served.values()) if (call.node === node) call.abort.abort();
    },
  );

  return {
    enabled: (appKey) => tools.enabled(appKey),
    async list(appKey) {
      try {
        return (await link.mcp.list(appKey)).map(({ name, description, inputSchema }) => ({ name, description, inputSchema }));
      } catch (error) {
        throw errorOf(error);
      }
    },
    async call(appKey, channel, name, args, signal) {
      if (tools.list(appKey).some((tool) => tool.name === name)) return tools.call(appKey, channel, name, args, signal);
      const node = await ownerOf(appKey, name);
      if (node === undefined) return tools.call(appKey, channel, name, args, signal); // unknown here too: its error
      const query: McpQuery = { kind: "call", appKey, channel, name, args };
      return (await ask(node, query, config.mcpCallTimeoutMs + BUS_ROUND_TRIP_ALLOWANCE_MS, signal)) as CallToolResult;
    },
    cancelChannel(appKey, channel) {
      tools.cancelChannel(appKey, channel);
      for (const [id, entry] of asked) {
        const { query } = entry;
        if (query.kind === "call" && query.appKey === appKey && query.channel === channel) link.send(entry.node, { t: "mcpcancel", id });
      }
    },
    onChange(appKey, listener) {
      let mine = listeners.get(appKey);
      if (mine === undefined) {
        listeners.set(appKey, (mine = new Set()));
        link.mcp.watch(appKey, true);
      }
      mine.add(listener);
      return () => {
        mine.delete(listener);
        if (mine.size > 0 || listeners.get(appKey) !== mine) return;
        listeners.delete(appKey);
        link.mcp.watch(appKey, false);
      };
    },
    async callLog(appKey, name) {
      const here = tools.callLog(appKey, name);
      if (here !== undefined) return here;
      const node = await ownerOf(appKey, name);
      if (node === undefined) return undefined;
      return ((await ask(node, { kind: "log", appKey, name }, BUS_ROUND_TRIP_ALLOWANCE_MS)) ?? undefined) as CallLogEntry[] | undefined;
    },
    async engines(appKey) {
      const nodes = await link.liveNodes().catch(() => [link.nodeId]);
      const parts = await Promise.all(
        nodes.map((node) =>
          node === link.nodeId
            ? tools.engines(appKey)
            : (ask(node, { kind: "engines", appKey }, BUS_ROUND_TRIP_ALLOWANCE_MS) as Promise<EngineView[]>).catch((error: unknown) => {
                logger.warn({ err: error, node }, "mcp: a node did not list its engines");
                return [];
              }),
        ),
      );
      return parts.flat();
    },
    takeChannel: (appKey, _inUse, first, last) => link.mcp.takeChannel(appKey, first, last),
    releaseChannel: (appKey, channel) => link.mcp.releaseChannel(appKey, channel),
  };
}
