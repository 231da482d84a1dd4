/**
 * The MCP tools of one run and the calls agents made to them (docs/MCP.md), for the MCP panel:
 * told from what the script called (network_mcp_tool_register, _unregister, _respond) and from the
 * engine's events (network_type_mcp_tool: the server accepted or refused a tool;
 * network_type_mcp_call: an agent calls one; network_type_mcp_call_ended: a call ended unanswered),
 * as the socket tracker tells sockets. Calls are kept newest first, at most MAX_CALLS of them.
 *
 * Pure: no DOM, no engine calls; the engine's constants and the clock are passed in.
 */
import type { AsyncLoad } from "@gmnet/engine";

/** Calls kept (the oldest go first). */
export const MAX_CALLS = 50;
/** Arguments and answers longer than this are cut for the panel (…). */
export const MAX_SHOWN_CHARS = 2000;

/** The engine constants the tracker reads events with. */
export interface McpEventConstants {
  readonly ev_async_web_networking: number;
  readonly network_type_mcp_tool: number;
  readonly network_type_mcp_call: number;
  readonly network_type_mcp_call_ended: number;
}

/**
 * "pending": asked for, the server has not answered; "registered": offered to agents; "refused":
 * the server (or the connection) said no, with `error`; "withdrawn": unregistered by the script or at Stop.
 */
export type ToolStatus = "pending" | "registered" | "refused" | "withdrawn";

export interface TrackedTool {
  readonly name: string;
  readonly description: string;
  readonly status: ToolStatus;
  /** Why it was refused: the event's error code and message. */
  readonly error: string | undefined;
  readonly message: string | undefined;
}

/** "open": waiting for the script's answer; "answered"; "failed": answered with is_error; "ended": timeout, cancelled, connection_lost. */
export type CallState = "open" | "answered" | "failed" | "ended";

export interface TrackedCall {
  readonly callId: number;
  readonly tool: string;
  /** The arguments as JSON. */
  readonly args: string;
  readonly state: CallState;
  /** The script's answer as the agent gets it (text, or the JSON of anything else); undefined until answered. */
  readonly answer: string | undefined;
  /** How an unanswered call ended: "timeout", "cancelled", "connection_lost", or "stopped" (the run's Stop answered it). */
  readonly reason: string | undefined;
  /** performance.now() when the call came. */
  readonly at: number;
}

interface ToolEntry {
  name: string;
  description: string;
  status: ToolStatus;
  error: string | undefined;
  message: string | undefined;
}

type CallEntry = { -readonly [K in keyof TrackedCall]: TrackedCall[K] };

/** What network_mcp_tool_respond sends for `result` (a string as it is, anything else as its JSON). */
export function answerText(result: unknown): string {
  return typeof result === "string" ? result : (JSON.stringify(result) ?? "");
}

function shown(text: string): string {
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
}

export class McpTracker {
  private readonly toolEntries = new Map<string, ToolEntry>();
  /** Register request id → tool name, until the server answers. */
  private readonly requests = new Map<number, string>();
  /** Newest first. */
  private readonly callEntries: CallEntry[] = [];
  private changes = 0;

  constructor(
    private readonly constants: McpEventConstants,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Grows with every change: the panel redraws only when it moved. */
  get version(): number {
    return this.changes;
  }

  /** The script called network_mcp_tool_register(name, description, …) and got `requestId`. */
  registering(name: unknown, description: unknown, requestId: unknown): void {
    if (typeof name !== "string" || typeof requestId !== "number") return;
    this.requests.set(requestId, name);
    const entry = this.toolEntries.get(name);
    const about = typeof description === "string" ? description : "";
    // Registering a name again replaces its description; one already offered stays offered meanwhile.
    if (entry === undefined) this.toolEntries.set(name, { name, description: about, status: "pending", error: undefined, message: undefined });
    else Object.assign(entry, { description: about, ...(entry.status === "registered" ? {} : { status: "pending", error: undefined, message: undefined }) });
    this.changes++;
  }

  /** network_mcp_tool_unregister(name) returned `result` (0 when the tool was offered). */
  unregistered(name: unknown, result: unknown): void {
    const entry = typeof name === "string" ? this.toolEntries.get(name) : undefined;
    if (entry === undefined || result !== 0) return;
    entry.status = "withdrawn";
    this.changes++;
  }

  /** network_mcp_tool_respond(call_id, result, is_error) returned `status` (0: sent). */
  responded(callId: unknown, result: unknown, isError: unknown, status: unknown): void {
    if (status !== 0) return;
    const call = this.callEntries.find((entry) => entry.callId === callId);
    if (call === undefined || call.state !== "open") return;
    call.state = isError === true || isError === 1 ? "failed" : "answered";
    call.answer = shown(answerText(result));
    this.changes++;
  }

  /** Follows the engine's MCP events. */
  observe(load: AsyncLoad, eventType: number): void {
    const c = this.constants;
    if (eventType !== c.ev_async_web_networking) return;
    if (load.type === c.network_type_mcp_tool) this.toolAnswered(load);
    else if (load.type === c.network_type_mcp_call) this.callCame(load);
    else if (load.type === c.network_type_mcp_call_ended) this.callEnded(load.call_id, String(load.reason ?? "ended"));
  }

  /** Whether the run offers (or is asking to offer) `name`: calls to it are its own. */
  offers(name: unknown): boolean {
    const status = typeof name === "string" ? this.toolEntries.get(name)?.status : undefined;
    return status === "registered" || status === "pending";
  }

  /** Whether `callId` is a call to this run's tools. */
  hasCall(callId: unknown): boolean {
    return this.callEntries.some((entry) => entry.callId === callId);
  }

  /** The tools to withdraw at Stop. */
  offered(): string[] {
    return [...this.toolEntries.values()].filter((entry) => entry.status === "registered" || entry.status === "pending").map((entry) => entry.name);
  }

  /** Calls still waiting for the script's answer, oldest first. */
  openCalls(): number[] {
    return this.callEntries.filter((entry) => entry.state === "open").map((entry) => entry.callId).reverse();
  }

  /** The run stopped: its tools are withdrawn, and its open calls were answered with `reason` (by the resources' release). */
  stopped(reason = "stopped"): void {
    for (const entry of this.toolEntries.values()) if (entry.status === "registered" || entry.status === "pending") entry.status = "withdrawn";
    for (const call of this.callEntries) {
      if (call.state !== "open") continue;
      call.state = "ended";
      call.reason = reason;
    }
    this.requests.clear();
    this.changes++;
  }

  /** The tools in the order the script first registered them. */
  tools(): TrackedTool[] {
    return [...this.toolEntries.values()].map((entry) => ({ ...entry }));
  }

  /** The calls, newest first. */
  calls(): TrackedCall[] {
    return this.callEntries.map((entry) => ({ ...entry }));
  }

  private toolAnswered(load: AsyncLoad): void {
    const id = typeof load.id === "number" ? load.id : -1;
    const name = this.requests.get(id) ?? (typeof load.name === "string" ? load.name : undefined);
    this.requests.delete(id);
    const entry = name === undefined ? undefined : this.toolEntries.get(name);
    // A withdrawn tool (unregistered, or the run stopped) stays withdrawn whatever comes late.
    if (entry === undefined || entry.status === "withdrawn") return;
    if (load.succeeded === 1 || load.succeeded === true) Object.assign(entry, { status: "registered", error: undefined, message: undefined });
    else Object.assign(entry, { status: "refused", error: typeof load.error === "string" ? load.error : "refused", message: typeof load.message === "string" ? load.message : undefined });
    this.changes++;
  }

  private callCame(load: AsyncLoad): void {
    const callId = typeof load.call_id === "number" ? load.call_id : Number(load.id);
    const tool = String(load.tool ?? "");
    if (!this.offers(tool)) return;
    this.callEntries.unshift({ callId, tool, args: shown(JSON.stringify(load.arguments ?? {}) ?? "{}"), state: "open", answer: undefined, reason: undefined, at: this.now() });
    if (this.callEntries.length > MAX_CALLS) {
      // The oldest that is settled goes; an open call stays until it is answered or ends.
      let drop = this.callEntries.length - 1;
      for (let at = drop; at >= 0; at--) {
        if (this.callEntries[at]!.state !== "open") {
          drop = at;
          break;
        }
      }
      this.callEntries.splice(drop, 1);
    }
    this.changes++;
  }

  private callEnded(callId: unknown, reason: string): void {
    const call = this.callEntries.find((entry) => entry.callId === callId);
    if (call === undefined || call.state !== "open") return;
    call.state = "ended";
    call.reason = reason;
    this.changes++;
  }
}
