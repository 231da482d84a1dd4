/**
 * What the MCP panel writes for a tool's status and a call's answer. Pure: no DOM, no engine.
 */
import type { TrackedCall, TrackedTool } from "../runner/mcp-tracker.js";

export interface CellText {
  readonly text: string;
  readonly title: string;
}

/** "registered", "pending", "withdrawn", or "refused: E_…" with the server's message in the tooltip. */
export function toolStatusCell(tool: Pick<TrackedTool, "status" | "error" | "message">): CellText {
  switch (tool.status) {
    case "pending":
      return { text: "pending", title: "Registered by the script; the server has not answered yet (network_type_mcp_tool tells)." };
    case "registered":
      return { text: "registered", title: "Offered: MCP clients with this app key's token list it and can call it." };
    case "withdrawn":
      return { text: "withdrawn", title: "Withdrawn: network_mcp_tool_unregister, or the run stopped." };
    case "refused":
      return { text: `refused: ${tool.error ?? "refused"}`, title: tool.message ?? "The server refused the tool." };
  }
}

/** The script's answer, "error: …" for one marked is_error, "waiting…" while open, "ended: timeout" (cancelled, connection_lost, stopped) for an unanswered one. */
export function callAnswerCell(call: Pick<TrackedCall, "state" | "answer" | "reason">): CellText {
  switch (call.state) {
    case "open":
      return { text: "waiting…", title: "The agent waits for network_mcp_tool_respond." };
    case "answered":
      return { text: call.answer ?? "", title: "The script's answer, as the agent got it." };
    case "failed":
      return { text: `error: ${call.answer ?? ""}`, title: "Answered with is_error: the tool failed." };
    case "ended":
      return { text: `ended: ${call.reason ?? "ended"}`, title: "Ended unanswered (network_type_mcp_call_ended, or the run's Stop)." };
  }
}
