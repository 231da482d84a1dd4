/**
 * The playground's live panels, in the order the sidebar shows them. Each builds its own DOM in
 * the container main.ts gives it and talks to the playground only through the PanelHost.
 */
import type { MountPanel } from "../panel-host.js";
import { mountConditions } from "./conditions.js";
import { mountHexInspector } from "./hex-inspector.js";
import { mountMcp } from "./mcp.js";
import { mountSockets } from "./sockets.js";
import { mountStatsPlots } from "./stats-plots.js";

export interface PanelEntry {
  /** Heading shown above the panel. */
  readonly title: string;
  /** data-testid of the panel's container, for the e2e tests. */
  readonly testId: string;
  readonly mount: MountPanel;
}

export const PANELS: readonly PanelEntry[] = [
  { title: "This tab", testId: "panel-sockets", mount: mountSockets },
  { title: "Network conditions", testId: "panel-conditions", mount: mountConditions },
  { title: "Stats", testId: "panel-stats", mount: mountStatsPlots },
  { title: "Hex inspector", testId: "panel-hex", mount: mountHexInspector },
  { title: "MCP tools", testId: "panel-mcp", mount: mountMcp },
];
