/**
 * Events that arrive after their run ended (script-runner.ts): about a socket, request or MCP
 * call of a run that is over. The runner logs them as "stale" and never hands them to the next
 * run's script; an MCP call to an ended run is answered at once, and a tool the server accepted
 * after its run ended is withdrawn.
 */
import type { AsyncLoad } from "@gmnet/engine";
import type { EngineModule, RunResources } from "./resources.js";

/** The run going on now, as far as stale events are concerned. */
export interface CurrentRun {
  readonly active: boolean;
  readonly resources: RunResources;
}

export class StaleEvents {
  /** Sockets and request ids of runs that ended: their late events are not the current run's. */
  private readonly retiredSockets = new Set<number>();
  private readonly retiredRequests = new Set<number>();

  constructor(private readonly engine: EngineModule) {}

  /** A run ended: later events about its sockets and requests are stale. */
  retire(resources: RunResources): void {
    for (const id of resources.everSockets) this.retiredSockets.add(id);
    for (const id of resources.requests) this.retiredRequests.add(id);
  }

  /** Whether an event is about a socket, request or MCP call of a run that has ended. */
  isStale(load: AsyncLoad, eventType: number, current: CurrentRun | undefined): boolean {
    const e = this.engine;
    const id = load.id;
    if (typeof id !== "number" || id < 0) return false;
    if (eventType === e.ev_async_web_networking) {
      // A call's id is its call_id: neither a socket nor a request.
      if (load.type === e.network_type_mcp_call) return !(current?.resources.mcp.offers(load.tool) ?? false);
      if (load.type === e.network_type_mcp_call_ended) return !(current?.resources.mcp.hasCall(load.call_id) ?? false);
      if (load.type === e.network_type_mcp_tool) return this.retiredRequests.has(id);
      const isRequest = load.type === e.network_type_resolve || load.type === e.network_type_hostname;
      return isRequest ? this.retiredRequests.has(id) : this.retiredSockets.has(id);
    }
    if (eventType === e.ev_async_social) return load.type === e.master_type_response && this.retiredRequests.has(id);
    return this.retiredRequests.has(id);
  }

  /**
   * MCP events no running script will handle: a call to a tool of a run that ended is answered
   * with an error at once (the agent would otherwise wait for the server's timeout), and a tool
   * the server accepted after its run ended is withdrawn (unless the current run offers it too).
   */
  settleMcp(load: AsyncLoad, eventType: number, current: CurrentRun | undefined, showError: (error: unknown) => void): void {
    const e = this.engine;
    if (eventType !== e.ev_async_web_networking) return;
    const offered = (name: unknown): boolean => current?.active === true && current.resources.mcp.offers(name);
    try {
      if (load.type === e.network_type_mcp_call && typeof load.call_id === "number") {
        e.network_mcp_tool_respond(load.call_id, `no running playground script offers ${String(load.tool)} (it was stopped)`, true);
      } else if (load.type === e.network_type_mcp_tool && load.succeeded === 1 && typeof load.name === "string" && !offered(load.name)) {
        e.network_mcp_tool_unregister(load.name);
      }
    } catch (error) {
      showError(error);
    }
  }
}
