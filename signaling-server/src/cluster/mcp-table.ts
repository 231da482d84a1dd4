/**
 * MCP tools shared by the nodes (PROTOCOL.md §15, "MCP across nodes"): which engine offers which
 * tool, which LLM-session channels are taken, and which nodes have MCP sessions to tell when an app
 * key's tools change.
 *
 *   gmnet:mcp:tools:{appKey}     name → "{nodeId}/{sessionId}\n{"description":…,"inputSchema":…}"
 *   gmnet:mcp:channels:{appKey}  LLM-session channel → nodeId
 *   gmnet:mcp:watchers:{appKey}  set of nodeIds with an MCP session of the app key
 *
 * As with host names (names.ts), an entry counts while its node's liveness key exists: what a dead
 * node left is free for the taking and left out of every list, so nothing needs cleaning up after
 * a kill -9. The node that registered a tool keeps its schema, its calls and its call log; the
 * table only says where it is.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { livenessKey } from "./routes.js";

const toolsKey = (appKey: string): string => `gmnet:mcp:tools:${appKey}`;
const channelsKey = (appKey: string): string => `gmnet:mcp:channels:${appKey}`;
const watchersKey = (appKey: string): string => `gmnet:mcp:watchers:${appKey}`;
const NODE_PREFIX = livenessKey(0).slice(0, -1);

/** What a tool entry holds besides its owner. */
export interface ToolEntry {
  readonly description: string;
  readonly inputSchema: { type: "object"; [key: string]: unknown };
}

/** A live entry: the node and session that offer the tool. */
export interface ToolOwner extends ToolEntry {
  readonly name: string;
  readonly node: number;
  readonly sessionId: string;
}

/** How a claim ended: the tool is this session's, another live engine has it, or the app key is full. */
export type ClaimResult = "ok" | "taken" | "limit";

/** Whether the entry `v` ("{node}/…") belongs to a live node (prefix ARGV[1]). */
const ALIVE = `local function alive(v)
  local node = string.match(v, '^(%d+)/')
  return node ~= nil and redis.call('EXISTS', ARGV[1] .. node) == 1
end
`;
/**
 * Claims tool ARGV[2] with value ARGV[3] for the owner prefix ARGV[4] ("{node}/{session}\n"):
 * 1 taken (another live owner), 2 the app key has ARGV[5] live tools already, 0 done. Entries of
 * dead nodes met on the way are deleted.
 */
const CLAIM = `${ALIVE}local v = redis.call('HGET', KEYS[1], ARGV[2])
if v and string.sub(v, 1, string.len(ARGV[4])) ~= ARGV[4] and alive(v) then return 1 end
if not v or not alive(v) then
  local live = 0
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if alive(all[i + 1]) then live = live + 1 else redis.call('HDEL', KEYS[1], all[i]) end
  end
  if live >= tonumber(ARGV[5]) then return 2 end
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 0`;
/** The live entries, as name, value, name, value… */
const LIST = `${ALIVE}local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if alive(all[i + 1]) then out[#out + 1] = all[i]; out[#out + 1] = all[i + 1] end
end
return out`;
/** Deletes field ARGV[1] only while its value starts with ARGV[2]. */
const RELEASE = `local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and string.sub(v, 1, string.len(ARGV[2])) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0`;
/** The first channel from ARGV[2] to ARGV[3] that is free or held by a dead node, taken for node ARGV[4]; 0 if none. */
const TAKE_CHANNEL = `for c = tonumber(ARGV[2]), tonumber(ARGV[3]) do
  local v = redis.call('HGET', KEYS[1], c)
  if not v or redis.call('EXISTS', ARGV[1] .. v) == 0 then redis.call('HSET', KEYS[1], c, ARGV[4]) return c end
end
return 0`;
/** Sets channel ARGV[2] for node ARGV[3] unless a live node has it: 1 done, 0 taken. */
const RETAKE_CHANNEL = `local v = redis.call('HGET', KEYS[1], ARGV[2])
if v and v ~= ARGV[3] and redis.call('EXISTS', ARGV[1] .. v) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1`;

export interface McpTable {
  /** Claims `name` for this node's session `sessionId`; "limit" when the app key has `maxTools` live tools. Rejects when Redis does. */
  claim(appKey: string, name: string, sessionId: string, entry: ToolEntry, maxTools: number): Promise<ClaimResult>;
  /** Compare-and-delete of the session's claim. */
  release(appKey: string, name: string, sessionId: string): void;
  /** The app key's live tools on every node, by name. */
  list(appKey: string): Promise<ToolOwner[]>;
  /** An LLM-session channel from first..last no live node uses, taken for this node; undefined if none. */
  takeChannel(appKey: string, first: number, last: number): Promise<number | undefined>;
  releaseChannel(appKey: string, channel: number): void;
  /** This node has MCP sessions of the app key (true) or no more (false). */
  watch(appKey: string, watching: boolean): void;
  /** The live nodes with MCP sessions of the app key. */
  watchers(appKey: string): Promise<number[]>;
  /** Writes this node's tools, channels and watches again (Redis came back, maybe without its data). */
  reannounce(): Promise<void>;
}

export function createMcpTable(
  redis: Redis,
  nodeId: () => number,
  logger: Logger,
  track: (write: Promise<unknown>) => void,
  /** Which of these nodes are alive (the route table's check). */
  liveNodes: (nodes: readonly number[]) => Promise<Set<number>>,
): McpTable {
  const owner = (sessionId: string): string => `${nodeId()}/${sessionId}\n`;
  /** What this node wrote, for reannounce(). */
  const tools = new Map<string, { appKey: string; name: string; sessionId: string; value: string }>();
  const channels = new Map<string, { appKey: string; channel: number }>();
  const watched = new Set<string>();
  const key = (appKey: string, part: string | number): string => `${appKey}\n${part}`;
  /** While Redis is unreachable a claim or a list fails at once rather than wait in ioredis' offline queue. */
  const reachable = (): void => {
    if (redis.status !== "ready") throw new Error("redis is unreachable");
  };
  const quietly = (what: string, write: Promise<unknown>): void =>
    track(write.catch((error: unknown) => logger.warn({ err: error }, `cluster: ${what} failed`)));

  return {
    async claim(appKey, name, sessionId, entry, maxTools) {
      reachable();
      const value = `${owner(sessionId)}${JSON.stringify(entry)}`;
      const result = Number(await redis.eval(CLAIM, 1, toolsKey(appKey), NODE_PREFIX, name, value, owner(sessionId), maxTools));
      if (result !== 0) return result === 1 ? "taken" : "limit";
      tools.set(key(appKey, name), { appKey, name, sessionId, value });
      return "ok";
    },
    release(appKey, name, sessionId) {
      const held = key(appKey, name);
      if (tools.get(held)?.sessionId === sessionId) tools.delete(held);
      quietly("releasing an MCP tool", redis.eval(RELEASE, 1, toolsKey(appKey), name, owner(sessionId)));
    },
    async list(appKey) {
      reachable();
      const flat = (await redis.eval(LIST, 1, toolsKey(appKey), NODE_PREFIX)) as string[];
      const owners: ToolOwner[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const match = /^(\d+)\/([^\n]+)\n([\s\S]*)$/.exec(flat[i + 1]!);
        if (match === null) continue;
        const { description, inputSchema } = JSON.parse(match[3]!) as ToolEntry;
        owners.push({ name: flat[i]!, node: Number(match[1]), sessionId: match[2]!, description, inputSchema });
      }
      return owners.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async takeChannel(appKey, first, last) {
      reachable();
      const channel = Number(await redis.eval(TAKE_CHANNEL, 1, channelsKey(appKey), NODE_PREFIX, first, last, nodeId()));
      if (channel === 0) return undefined;
      channels.set(key(appKey, channel), { appKey, channel });
      return channel;
    },
    releaseChannel(appKey, channel) {
      channels.delete(key(appKey, channel));
      quietly("releasing an LLM-session channel", redis.eval(RELEASE, 1, channelsKey(appKey), channel, String(nodeId())));
    },
    watch(appKey, watching) {
      if (watching) {
        watched.add(appKey);
        quietly("adding an MCP watcher", redis.sadd(watchersKey(appKey), nodeId()));
      } else {
        watched.delete(appKey);
        quietly("removing an MCP watcher", redis.srem(watchersKey(appKey), nodeId()));
      }
    },
    async watchers(appKey) {
      const nodes = (await redis.smembers(watchersKey(appKey))).map(Number);
      const live = await liveNodes(nodes);
      return nodes.filter((node) => live.has(node));
    },
    async reannounce() {
      const writes: Array<Promise<unknown>> = [];
      for (const { appKey, name, value } of tools.values()) {
        writes.push(
          redis.hsetnx(toolsKey(appKey), name, value).then((done) => {
            if (done !== 1) logger.warn({ appKey, name }, "cluster: an MCP tool name was claimed elsewhere while Redis had lost this node's claim");
          }),
        );
      }
      for (const { appKey, channel } of channels.values()) {
        writes.push(
          redis.eval(RETAKE_CHANNEL, 1, channelsKey(appKey), NODE_PREFIX, channel, nodeId()).then((done) => {
            if (Number(done) !== 1) logger.warn({ appKey, channel }, "cluster: an LLM-session channel was taken elsewhere while Redis had lost this node's claim");
          }),
        );
      }
      for (const appKey of watched) writes.push(redis.sadd(watchersKey(appKey), nodeId()));
      try {
        await Promise.all(writes);
      } catch (error) {
        logger.warn({ err: error }, "cluster: announcing the MCP tools again failed");
      }
    },
  };
}
