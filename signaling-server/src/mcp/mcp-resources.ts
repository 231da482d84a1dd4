/**
 * The read-only MCP resources of an app key, for an agent watching a live session: its connected
 * engines, its public rooms, and each tool's recent calls. Each reads as JSON, fresh every time.
 */
import type { Resource } from "@modelcontextprotocol/sdk/types.js";
import type { Page } from "../master/rooms/paging.js";
import type { RoomView } from "../master/rooms/room-registry.js";
import type { ToolDirectory } from "./tool-directory.js";

export interface ResourceSources {
  readonly tools: ToolDirectory;
  /** From the master home when it runs on another node (--redis). */
  readonly rooms: (appKey: string) => Promise<Page<RoomView>>;
}

const ENGINES = "gmnet://engines";
const ROOMS = "gmnet://rooms";
const CALLS_PREFIX = "gmnet://tools/";
const CALLS_SUFFIX = "/calls";

export async function listResources(sources: ResourceSources, appKey: string): Promise<Resource[]> {
  return [
    { uri: ENGINES, name: "engines", description: "The app's connected engines: virtual IP, host name, state, the tools each offers and what the server counts of its session", mimeType: "application/json" },
    { uri: ROOMS, name: "rooms", description: "The app's public rooms, as room_list shows them", mimeType: "application/json" },
    ...(await sources.tools.list(appKey)).map(({ name }) => ({
      uri: `${CALLS_PREFIX}${name}${CALLS_SUFFIX}`,
      name: `${name} calls`,
      description: `The recent calls of tool ${name}, oldest first: arguments, outcome, duration and the start of each answer`,
      mimeType: "application/json",
    })),
  ];
}

/** The resource's JSON text, or undefined when `uri` names none of the app's resources. */
export async function readResource(sources: ResourceSources, appKey: string, uri: string): Promise<string | undefined> {
  if (uri === ENGINES) {
    return JSON.stringify({ engines: await sources.tools.engines(appKey) }, null, 2);
  }
  if (uri === ROOMS) {
    const page = await sources.rooms(appKey);
    return JSON.stringify({ total: page.total, rooms: page.items }, null, 2);
  }
  if (uri.startsWith(CALLS_PREFIX) && uri.endsWith(CALLS_SUFFIX)) {
    const log = await sources.tools.callLog(appKey, uri.slice(CALLS_PREFIX.length, -CALLS_SUFFIX.length));
    return log === undefined ? undefined : JSON.stringify({ calls: log }, null, 2);
  }
  return undefined;
}
