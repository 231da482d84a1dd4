/**
 * The server's half of MCP tools (seed 003, PROTOCOL.md §17; the engine's half has the same file
 * name): engines offer tools on Channel.MCP, MCP clients of the same app key call them, and each
 * call travels to the tool's engine on the LLM-session channel of the MCP session that made it.
 *
 * A tool name belongs to the first engine of the app key that registers it, for as long as that
 * engine's session lasts (a resumed session keeps its tools); another engine asking for the same
 * name is told TAKEN. Arguments are checked against the tool's JSON Schema here, so a script only
 * ever sees arguments that match what it declared. Every call ends exactly once: with the engine's
 * answer, a timeout, the engine going away, or the MCP client cancelling.
 */
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CallEndReason, Channel, LlmCall, LlmCallEnded, LlmResult, LlmType, McpToolRegister, McpToolRegistered, McpToolUnregister, McpType, Priority, ProtocolError, TOOL_NAME_RULE, ToolStatus, formatIpv4, isValidToolName } from "@gmnet/protocol";
import type { ServerContext } from "../server-context.js";
import type { Session, SessionLifecycle } from "../session/session.js";
import { type CompiledSchema, compileToolSchema } from "./tool-schema.js";

/** Calls kept per tool for the call-log resource, newest last. */
export const CALL_LOG_SIZE = 20;
/** The longest result text a call-log entry keeps (the MCP client got all of it). */
const LOGGED_RESULT_CHARS = 1024;

/** What an MCP client sees of a tool in tools/list. */
export interface ToolInfo {
  name: string;
  description: string;
  inputSchema: { type: "object"; [key: string]: unknown };
}

/** One call as the call-log resource shows it. */
export interface CallLogEntry {
  callId: number;
  startedAt: string;
  arguments: unknown;
  outcome: "pending" | "answered" | "tool-error" | "timeout" | "engine-gone" | "cancelled";
  durationMs?: number;
  result?: string;
}

interface Tool extends ToolInfo {
  readonly owner: Session;
  readonly schema: CompiledSchema;
  readonly log: CallLogEntry[];
}

interface PendingCall {
  readonly owner: Session;
  readonly channel: number;
  readonly tool: string;
  readonly startedAt: number;
  readonly entry: CallLogEntry;
  settle(outcome: CallLogEntry["outcome"], result: CallToolResult | McpError): void;
}

interface AppTools {
  readonly tools: Map<string, Tool>;
  /** The app key's MCP sessions, told when its tool list changes. */
  readonly listeners: Set<() => void>;
  inFlight: number;
}

/** One connected engine of the app key, as the engines resource shows it. */
export interface EngineView {
  virtualIp: string;
  hostName: string | null;
  state: "connected" | "reconnecting";
  /** The tools it offers, by name. */
  tools: string[];
  framesReceived: number;
  backlogBytes: number;
}

/**
 * With --redis (mcp/tool-directory.ts): a tool name is claimed across nodes before the engine hears
 * it is registered, so two engines on two nodes never both own one.
 */
export interface McpShare {
  /** Resolves with ToolStatus OK, TAKEN, LIMIT or UNAVAILABLE (the shared table could not be reached). */
  claim(session: Session, tool: ToolInfo): Promise<number>;
  release(session: Session, name: string): void;
  /** This node's tools of the app key changed: the other nodes' MCP sessions are told. */
  changed(appKey: string): void;
}

/** The tools of this node's engines: the registry, their calls and call logs. */
export interface McpTools extends SessionLifecycle {
  /** Whether MCP clients of this app key may connect (it has a token). */
  enabled(appKey: string): boolean;
  list(appKey: string): ToolInfo[];
  /** Calls a tool on its engine; rejects with an McpError for an unknown tool, bad arguments, a timeout or the engine leaving. */
  call(appKey: string, channel: number, name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult>;
  /** Ends the calls of an MCP session that closed (their engines hear CALL_ENDED CANCELLED). */
  cancelChannel(appKey: string, channel: number): void;
  /** Called whenever the app key's tool list changes; returns the unsubscribe function. */
  onChange(appKey: string, listener: () => void): () => void;
  /** A tool's recent calls, oldest first; undefined for a tool that is not registered. */
  callLog(appKey: string, name: string): CallLogEntry[] | undefined;
  /** This node's engines of the app key. */
  engines(appKey: string): EngineView[];
}

export function createMcpTools(context: ServerContext, appKeysWithTokens: ReadonlySet<string>, share?: McpShare): McpTools {
  const { router, config, clock, metrics } = context;
  const apps = new Map<string, AppTools>();
  const owned = new Map<Session, Set<string>>();
  const calls = new Map<number, PendingCall>();
  let lastCallId = 0;

  const appOf = (appKey: string): AppTools => {
    let app = apps.get(appKey);
    if (app === undefined) apps.set(appKey, (app = { tools: new Map(), listeners: new Set(), inFlight: 0 }));
    return app;
  };
  const changed = (appKey: string): void => {
    for (const listener of apps.get(appKey)?.listeners ?? []) listener();
    share?.changed(appKey);
  };
  const answer = (session: Session, name: string, status: number, message = ""): void =>
    session.send(Channel.MCP, McpType.TOOL_REGISTERED, Priority.HIGH, McpToolRegistered.encode({ name, status, message }));

  router.on(Channel.MCP, McpType.TOOL_REGISTER, (session, payload) => {
    const { name, description, schema } = McpToolRegister.decode(payload);
    if (!appKeysWithTokens.has(session.appKey)) return answer(session, name, ToolStatus.DISABLED, `the server has no MCP endpoint for app key "${session.appKey}" (start it with --mcp-token ${session.appKey}=<token>)`);
    if (!isValidToolName(name)) return answer(session, name, ToolStatus.INVALID, `a tool name has ${TOOL_NAME_RULE}`);
    const compiled = compileToolSchema(schema);
    if (typeof compiled === "string") return answer(session, name, ToolStatus.INVALID, compiled);
    const app = appOf(session.appKey);
    const existing = app.tools.get(name);
    if (existing !== undefined && existing.owner !== session) return answer(session, name, ToolStatus.TAKEN, `another engine of the app has a tool named "${name}"`);
    if (existing === undefined && app.tools.size >= config.mcpMaxTools) return answer(session, name, ToolStatus.LIMIT, `an app key may have at most ${config.mcpMaxTools} tools`);
    const tool: Tool = { name, description, inputSchema: compiled.schema, owner: session, schema: compiled, log: existing?.log ?? [] };
    if (share === undefined) return keep(app, tool);
    // The session's next frames (an unregister, a call's result) wait for the claim, so they find it decided.
    session.holdFramesUntil?.(
      share.claim(session, tool).then((status) => {
        if (session.closed) return share.release(session, name);
        if (status !== ToolStatus.OK) return answer(session, name, status, refusedClaim(status));
        // Another engine of this node that claimed the name first won in Redis too; this is for certainty.
        const now = app.tools.get(name);
        if (now !== undefined && now.owner !== session) return answer(session, name, ToolStatus.TAKEN, refusedClaim(ToolStatus.TAKEN));
        keep(app, tool);
      }),
    );
  });

  const refusedClaim = (status: number): string =>
    status === ToolStatus.TAKEN
      ? "another engine of the app (maybe on another node) has a tool of that name"
      : status === ToolStatus.LIMIT
        ? `an app key may have at most ${config.mcpMaxTools} tools`
        : "the nodes' shared tool table (Redis) cannot be reached now; register the tool again later";

  /** Registering again replaces the description and schema; the call log stays. */
  const keep = (app: AppTools, tool: Tool): void => {
    const { owner: session, name } = tool;
    app.tools.set(name, tool);
    let mine = owned.get(session);
    if (mine === undefined) owned.set(session, (mine = new Set()));
    mine.add(name);
    // A durable session offering tools resumes only on this node (the tools are this node's).
    session.pin?.("mcp tool");
    answer(session, name, ToolStatus.OK);
    changed(session.appKey);
  };

  router.on(Channel.MCP, McpType.TOOL_UNREGISTER, (session, payload) => {
    const { name } = McpToolUnregister.decode(payload);
    const app = apps.get(session.appKey);
    if (app?.tools.get(name)?.owner !== session) return;
    app.tools.delete(name);
    owned.get(session)?.delete(name);
    share?.release(session, name);
    changed(session.appKey);
  });

  router.onLlmChannels((session, payload, type, channel) => {
    if (type !== LlmType.RESULT) return session.sendError(ProtocolError.UNKNOWN_PACKET_TYPE, channel, type, 0, `LLM-session channels take RESULT (${LlmType.RESULT}) from clients`);
    const { callId, isError, content } = LlmResult.decode(payload);
    const call = calls.get(callId);
    // A RESULT after the call ended (its CALL_ENDED crossed it on the way) has nobody to go to.
    if (call === undefined || call.owner !== session || call.channel !== channel) return;
    call.settle(isError ? "tool-error" : "answered", { content: [{ type: "text", text: content }], isError });
  });

  const endCall = (callId: number, reason: number): void => {
    const call = calls.get(callId);
    if (call !== undefined) call.owner.send(call.channel, LlmType.CALL_ENDED, Priority.HIGH, LlmCallEnded.encode({ callId, reason }));
  };

  return {
    enabled: (appKey) => appKeysWithTokens.has(appKey),

    list: (appKey) => [...(apps.get(appKey)?.tools.values() ?? [])].map(({ name, description, inputSchema }) => ({ name, description, inputSchema })),

    call(appKey, channel, name, args, signal) {
      const app = appOf(appKey);
      const tool = app.tools.get(name);
      if (tool === undefined) {
        metrics.mcpCalls.inc({ outcome: "unknown-tool" });
        return Promise.reject(new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`));
      }
      const problem = tool.schema.check(args);
      if (problem !== undefined) {
        metrics.mcpCalls.inc({ outcome: "invalid-arguments" });
        return Promise.reject(new McpError(ErrorCode.InvalidParams, `Invalid arguments for tool ${name}: ${problem}`));
      }
      if (app.inFlight >= config.mcpMaxConcurrentCalls) {
        metrics.mcpCalls.inc({ outcome: "busy" });
        return Promise.reject(new McpError(ErrorCode.InternalError, `the app has ${config.mcpMaxConcurrentCalls} tool calls in flight, the most the server allows; try again when one has ended`));
      }
      do lastCallId = (lastCallId + 1) >>> 0;
      while (lastCallId === 0 || calls.has(lastCallId));
      const callId = lastCallId;
      const entry: CallLogEntry = { callId, startedAt: new Date(clock.wallNow?.() ?? Date.now()).toISOString(), arguments: args, outcome: "pending" };
      tool.log.push(entry);
      if (tool.log.length > CALL_LOG_SIZE) tool.log.shift();
      app.inFlight++;
      return new Promise<CallToolResult>((resolve, reject) => {
        const startedAt = clock.now();
        const timer = clock.setTimeout(() => {
          endCall(callId, CallEndReason.TIMEOUT);
          call.settle("timeout", new McpError(ErrorCode.RequestTimeout, `tool ${name} did not answer within ${config.mcpCallTimeoutMs} ms`));
        }, config.mcpCallTimeoutMs);
        const onAbort = (): void => {
          endCall(callId, CallEndReason.CANCELLED);
          call.settle("cancelled", new McpError(ErrorCode.RequestTimeout, `the call to ${name} was cancelled`));
        };
        const call: PendingCall = {
          owner: tool.owner,
          channel,
          tool: name,
          startedAt,
          entry,
          settle(outcome, result) {
            if (!calls.delete(callId)) return;
            clock.clearTimeout(timer);
            signal.removeEventListener("abort", onAbort);
            app.inFlight--;
            entry.outcome = outcome;
            entry.durationMs = Math.round(clock.now() - startedAt);
            metrics.mcpCalls.inc({ outcome });
            if (result instanceof McpError) {
              entry.result = result.message;
              reject(result);
            } else {
              const first = result.content[0];
              entry.result = first?.type === "text" ? first.text.slice(0, LOGGED_RESULT_CHARS) : "";
              resolve(result);
            }
          },
        };
        calls.set(callId, call);
        signal.addEventListener("abort", onAbort, { once: true });
        tool.owner.send(channel, LlmType.CALL, Priority.HIGH, LlmCall.encode({ callId, tool: name, args: JSON.stringify(args) }));
      });
    },

    cancelChannel(appKey, channel) {
      for (const [callId, call] of [...calls]) {
        if (call.channel !== channel || call.owner.appKey !== appKey) continue;
        endCall(callId, CallEndReason.CANCELLED);
        call.settle("cancelled", new McpError(ErrorCode.ConnectionClosed, `the MCP session ended before ${call.tool} answered`));
      }
    },

    onChange(appKey, listener) {
      const app = appOf(appKey);
      app.listeners.add(listener);
      return () => {
        app.listeners.delete(listener);
      };
    },

    callLog: (appKey, name) => apps.get(appKey)?.tools.get(name)?.log.map((entry) => ({ ...entry })),

    engines(appKey) {
      const engines: EngineView[] = [];
      for (const session of context.sessions.values()) {
        if (session.appKey !== appKey || session.closed) continue;
        engines.push({
          virtualIp: formatIpv4(session.virtualIp),
          hostName: context.directory.nameOf(session) ?? null,
          state: session.detached ? "reconnecting" : "connected",
          tools: [...(owned.get(session) ?? [])].sort(),
          framesReceived: session.receivedCount,
          backlogBytes: session.backlogBytes,
        });
      }
      return engines;
    },

    onSessionClose(session) {
      for (const [, call] of [...calls]) {
        if (call.owner === session) call.settle("engine-gone", new McpError(ErrorCode.InternalError, `the engine that offers ${call.tool} went away before it answered`));
      }
      const mine = owned.get(session);
      if (mine === undefined) return;
      owned.delete(session);
      const app = apps.get(session.appKey);
      if (app === undefined) return;
      for (const name of mine) {
        if (app.tools.get(name)?.owner !== session) continue;
        app.tools.delete(name);
        share?.release(session, name);
      }
      if (mine.size > 0) changed(session.appKey);
    },
  };
}
