/**
 * "MCP tools": the tools the running script offers to LLM agents (network_mcp_tool_register,
 * docs/MCP.md) with their status — pending, registered, refused with the server's error, withdrawn
 * — and the calls agents made to them, newest first (at most MAX_CALLS), each with its arguments
 * and the script's answer, or how it ended unanswered. The runner tracks both
 * (runner/mcp-tracker.ts) from the script's calls and the engine's events; a new run starts empty.
 * Redrawn from the tick when something changed.
 */
import type { MountPanel } from "../panel-host.js";
import type { TrackedCall, TrackedTool } from "../runner/mcp-tracker.js";
import { el, showErrorIn, throttled } from "./format.js";
import { callAnswerCell, toolStatusCell } from "./mcp-view.js";
import "./panels.css";

const REFRESH_MS = 250;

export const mountMcp: MountPanel = (container, host) => {
  container.classList.add("lp-panel", "lp-mcp");

  const toolsEmpty = el("p", {
    className: "lp-empty",
    testId: "mcp-tools-empty",
    text: "The script offers no MCP tools. network_mcp_tool_register offers one to LLM agents: see the “MCP tools” example.",
  });
  const tools = el("ul", { className: "lp-mcp-list", testId: "mcp-tools" });
  const callsHeading = el("h3", { className: "lp-mcp-heading", text: "Calls, newest first" });
  const callsEmpty = el("p", { className: "lp-empty", testId: "mcp-calls-empty", text: "No agent has called a tool of this run yet." });
  const calls = el("ol", { className: "lp-mcp-list", testId: "mcp-calls" });
  const error = el("div", { className: "error-banner lp-panel-error", testId: "mcp-error" });
  error.hidden = true;
  container.append(toolsEmpty, tools, callsHeading, callsEmpty, calls, error);

  const toolItem = (tool: TrackedTool): HTMLLIElement => {
    const status = toolStatusCell(tool);
    const item = el(
      "li",
      { testId: "mcp-tool" },
      el("code", { className: "lp-mcp-name", testId: "mcp-tool-name", text: tool.name }),
      el("span", { className: "lp-badge", testId: "mcp-tool-status", text: status.text, title: status.title }),
      el("span", { className: "lp-note", testId: "mcp-tool-description", text: tool.description }),
    );
    item.dataset.name = tool.name;
    item.dataset.status = tool.status;
    return item;
  };

  const callItem = (call: TrackedCall): HTMLLIElement => {
    const answer = callAnswerCell(call);
    const item = el(
      "li",
      { testId: "mcp-call" },
      el("code", { className: "lp-mcp-name", testId: "mcp-call-tool", text: call.tool }),
      el("code", { className: "lp-mcp-args", testId: "mcp-call-args", text: call.args, title: "the arguments (checked against the tool's schema by the server)" }),
      el("span", { className: "lp-mcp-answer", testId: "mcp-call-answer", text: answer.text, title: answer.title }),
    );
    item.dataset.callId = String(call.callId);
    item.dataset.state = call.state;
    return item;
  };

  let shown = "";
  const refresh = (): void => {
    try {
      const snapshot = host.mcp();
      const key = `${snapshot.run}:${snapshot.version}`;
      if (key === shown) return;
      shown = key;
      tools.replaceChildren(...snapshot.tools.map(toolItem));
      calls.replaceChildren(...snapshot.calls.map(callItem));
      toolsEmpty.hidden = snapshot.tools.length > 0;
      tools.hidden = snapshot.tools.length === 0;
      callsHeading.hidden = snapshot.tools.length === 0 && snapshot.calls.length === 0;
      callsEmpty.hidden = snapshot.calls.length > 0 || snapshot.tools.length === 0;
      calls.hidden = snapshot.calls.length === 0;
      showErrorIn(error, undefined);
    } catch (problem) {
      showErrorIn(error, problem);
    }
  };

  refresh();
  host.onTick(throttled(REFRESH_MS, refresh));
};
