/**
 * The engine's half of MCP tools (seed 003, PROTOCOL.md §17; the server's half has the same file
 * name): a script offers tools that LLM agents call through the signaling server's /mcp endpoint,
 * answers each call with network_mcp_tool_respond, and hears of calls that ended unanswered.
 * docs/MCP.md.
 */
import { ErrorCode, GmnetError } from "../errors.js";
import {
  CallEndReason,
  Channel,
  LlmCall,
  LlmCallEnded,
  LlmResult,
  LlmType,
  MAX_TOOL_DESCRIPTION_BYTES,
  MAX_TOOL_SCHEMA_BYTES,
  McpToolRegister,
  McpToolRegistered,
  McpToolUnregister,
  McpType,
  Priority,
  TOOL_NAME_RULE,
  ToolStatus,
  isValidToolName,
} from "@gmnet/protocol";
import { type EngineContext, requireNumber, requireString } from "../runtime/context.js";
import { NETWORK_SEND_FAILED, NETWORK_SEND_TOO_LARGE, network_type_mcp_call, network_type_mcp_call_ended, network_type_mcp_tool } from "./constants.js";
import { NetworkError, type NetworkFault } from "./errors.js";
import type { NetworkRuntime } from "./runtime.js";

/** The largest frame payload the server accepts when WELCOME has not said (its default maxFrameSize). */
const DEFAULT_MAX_FRAME_SIZE = 256 * 1024;
/** What a RESULT frame carries besides the answer's text. */
const RESULT_OVERHEAD = 5;
const utf8 = new TextEncoder();

interface ToolSpec {
  readonly description: string;
  readonly schema: string;
}

/** What TOOL_REGISTERED's status means to a script: the event's error code. */
const REFUSALS: Record<number, NetworkError> = {
  [ToolStatus.INVALID]: NetworkError.MCP_INVALID_TOOL,
  [ToolStatus.TAKEN]: NetworkError.MCP_TOOL_TAKEN,
  [ToolStatus.LIMIT]: NetworkError.LIMIT,
  [ToolStatus.DISABLED]: NetworkError.MCP_DISABLED,
  [ToolStatus.UNAVAILABLE]: NetworkError.MCP_UNAVAILABLE,
};

/** The JSON text of a schema given as text or as a struct; throws E_INVALID_ARGUMENT for anything that is not an object schema. */
function schemaText(schema: unknown, fn: string): string {
  let text: string;
  let parsed: unknown = schema;
  if (typeof schema === "string") {
    text = schema;
    try {
      parsed = JSON.parse(schema);
    } catch (error) {
      throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: schema is not JSON (${(error as Error).message})`);
    }
  } else {
    text = JSON.stringify(schema) ?? "";
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || (parsed as { type?: unknown }).type !== "object") {
    throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: schema must be a JSON Schema object with "type": "object" (the tool's arguments are one object)`);
  }
  if (utf8.encode(text).length > MAX_TOOL_SCHEMA_BYTES) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: schema takes more than ${MAX_TOOL_SCHEMA_BYTES} bytes as JSON`);
  return text;
}

export function createMcpToolApi(context: EngineContext, net: NetworkRuntime) {
  /** Tools the server accepted, to offer again after a session that could not be resumed. */
  const tools = new Map<string, ToolSpec>();
  /** Register requests waiting for TOOL_REGISTERED, per name, oldest first (the server answers in order). */
  const pending = new Map<string, Array<{ id: number; spec: ToolSpec }>>();
  /** Calls the script has not answered yet: call id → the LLM-session channel and the tool. */
  const calls = new Map<number, { channel: number; tool: string }>();
  net.addNeed(() => tools.size > 0 || pending.size > 0);

  const answer = (id: number, name: string, problem?: NetworkFault): void => {
    const load: Record<string, unknown> = { type: network_type_mcp_tool, id, name, succeeded: problem === undefined ? 1 : 0 };
    if (problem !== undefined) Object.assign(load, { error: problem.code, message: problem.message });
    net.emit(load);
  };

  const sendRegister = (name: string, spec: ToolSpec): boolean =>
    net.signaling.send(Channel.MCP, McpType.TOOL_REGISTER, McpToolRegister.encode({ name, description: spec.description, schema: spec.schema }), Priority.HIGH);

  const ended = (callId: number, tool: string, reason: string, problem: NetworkFault): void =>
    net.emit({ type: network_type_mcp_call_ended, id: callId, call_id: callId, tool, reason, error: problem.code, message: problem.message });

  net.signaling.on(Channel.MCP, McpType.TOOL_REGISTERED, (payload) => {
    const { name, status, message } = McpToolRegistered.decode(payload);
    const waiting = pending.get(name);
    const request = waiting?.shift();
    if (waiting !== undefined && waiting.length === 0) pending.delete(name);
    const problem = status === ToolStatus.OK ? undefined : { code: REFUSALS[status] ?? NetworkError.MCP_INVALID_TOOL, message };
    if (request !== undefined) {
      if (problem === undefined) tools.set(name, request.spec);
      return answer(request.id, name, problem);
    }
    // Offered again after a new session: the script hears only if the tool was lost (another engine took the name meanwhile).
    if (problem !== undefined && tools.delete(name)) answer(-1, name, problem);
  });

  net.signaling.onLlmFrame = (channel, type, payload) => {
    if (type === LlmType.CALL) {
      const { callId, tool, args } = LlmCall.decode(payload);
      calls.set(callId, { channel, tool });
      // The server checked the arguments against the tool's schema: they are a JSON object.
      net.emit({ type: network_type_mcp_call, id: callId, call_id: callId, tool, arguments: JSON.parse(args) as unknown, channel });
    } else if (type === LlmType.CALL_ENDED) {
      const { callId, reason } = LlmCallEnded.decode(payload);
      const call = calls.get(callId);
      if (call === undefined) return;
      calls.delete(callId);
      if (reason === CallEndReason.TIMEOUT) ended(callId, call.tool, "timeout", { code: NetworkError.TIMEOUT, message: `the MCP client stopped waiting for ${call.tool} (the server's call timeout)` });
      else ended(callId, call.tool, "cancelled", { code: NetworkError.MCP_CANCELLED, message: `the MCP client cancelled its call to ${call.tool}, or its session ended` });
    }
  };

  // A new session: the server ended the old one's calls, and knows none of our tools.
  net.onSessionOpened(() => {
    for (const [name, spec] of tools) sendRegister(name, spec);
  });
  net.onConnectionLost((problem) => {
    for (const [callId, call] of [...calls]) ended(callId, call.tool, "connection_lost", problem);
    calls.clear();
    const waiting = [...pending];
    pending.clear();
    for (const [name, requests] of waiting) for (const { id } of requests) answer(id, name, problem);
  });

  return {
    api: {
      /**
       * Offers an MCP tool to the LLM agents of this app (docs/MCP.md): `name` (1–64 of A–Z a–z
       * 0–9 _ - .), a `description` for the agent, and `schema`, the JSON Schema of its arguments
       * (JSON text or a struct; "type": "object"). Returns a request id, answered by a
       * network_type_mcp_tool event with `id`, `name` and `succeeded`. Registering a name again
       * replaces its description and schema.
       */
      network_mcp_tool_register(name: string, description: string, schema: unknown): number {
        const fn = "network_mcp_tool_register";
        const text = requireString(name, "name", fn);
        if (!isValidToolName(text)) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: a tool name has ${TOOL_NAME_RULE}, not ${JSON.stringify(text)}`);
        const about = requireString(description, "description", fn);
        if (utf8.encode(about).length > MAX_TOOL_DESCRIPTION_BYTES) throw new GmnetError(ErrorCode.INVALID_ARGUMENT, `${fn}: a description has at most ${MAX_TOOL_DESCRIPTION_BYTES} bytes of UTF-8`);
        const spec: ToolSpec = { description: about, schema: schemaText(schema, fn) };
        const id = context.nextRequestId();
        const waiting = pending.get(text);
        if (waiting === undefined) pending.set(text, [{ id, spec }]);
        else waiting.push({ id, spec });
        net.whenOnline(
          () => {
            if (!sendRegister(text, spec)) net.emit({ type: network_type_mcp_tool, id, name: text, succeeded: 0, error: NetworkError.SIGNALING, message: "the connection to the signaling server was lost" });
          },
          (problem) => {
            const requests = pending.get(text);
            const at = requests?.findIndex((request) => request.id === id) ?? -1;
            if (at < 0) return;
            requests!.splice(at, 1);
            if (requests!.length === 0) pending.delete(text);
            answer(id, text, problem);
          },
        );
        return id;
      },

      /** Withdraws a tool this engine offers: 0, or -1 if it offers none of that name. Calls already made can still be answered. */
      network_mcp_tool_unregister(name: string): number {
        const text = requireString(name, "name", "network_mcp_tool_unregister");
        if (!tools.delete(text)) return -1;
        if (net.signaling.state === "open" || net.signaling.suspended) net.signaling.send(Channel.MCP, McpType.TOOL_UNREGISTER, McpToolUnregister.encode({ name: text }), Priority.HIGH);
        return 0;
      },

      /**
       * Answers the call `call_id` of a network_type_mcp_call event: `result` as text (a string),
       * or any other value as its JSON; `is_error` marks it as the tool failing. Returns 0, -1 if
       * the call is not open (answered, ended, or never made), or NETWORK_SEND_TOO_LARGE (-2) if
       * the answer is over the server's frame size (the call stays open for a shorter one). With
       * the signaling connection gone for good it is NETWORK_SEND_FAILED (-1) too.
       */
      network_mcp_tool_respond(call_id: number, result: unknown, is_error: boolean | number = false): number {
        const callId = requireNumber(call_id, "call_id", "network_mcp_tool_respond");
        const call = calls.get(callId);
        if (call === undefined) return -1;
        const content = typeof result === "string" ? result : (JSON.stringify(result) ?? "");
        if (utf8.encode(content).length + RESULT_OVERHEAD > (net.signaling.welcome?.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE)) return NETWORK_SEND_TOO_LARGE;
        calls.delete(callId);
        return net.signaling.send(call.channel, LlmType.RESULT, LlmResult.encode({ callId, isError: Boolean(is_error), content }), Priority.HIGH) ? 0 : NETWORK_SEND_FAILED;
      },
    },
    /** The tools the server accepted from this engine, by name. */
    registered(): string[] {
      return [...tools.keys()].sort();
    },
  };
}
