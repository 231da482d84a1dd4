/**
 * Which nodes have sessions bound to a UDP port of an app key, for BROADCAST across nodes
 * (PROTOCOL.md §15):
 *
 *   gmnet:udpnodes:{appKey}:{port}   set of node ids
 *
 * A node adds itself when its first session binds the port and removes itself when its last one
 * unbinds; a BROADCAST goes to every other live node in the set, through its stream (the bindings
 * themselves stay node-local). The set is read once and then kept in memory (member-cache.ts): a
 * node that binds or unbinds tells the others.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import type { Members } from "./member-cache.js";
import { createMemberships } from "./memberships.js";

const portKey = (appKey: string, port: number): string => `gmnet:udpnodes:${appKey}:${port}`;

export interface UdpPortTable {
  /** This node has a session bound to the port now. */
  bind(appKey: string, port: number): void;
  /** This node has no session bound to the port left. */
  unbind(appKey: string, port: number): void;
  /** The other live nodes with sessions bound to the port. */
  nodes(appKey: string, port: number): Promise<number[]>;
  /** Writes this node's bound ports again (Redis came back, maybe without its data). */
  reannounce(): Promise<void>;
}

export function createUdpPortTable(redis: Redis, nodeId: () => number, logger: Logger, track: (write: Promise<unknown>) => void, members: Members): UdpPortTable {
  const ports = createMemberships(redis, nodeId, logger, track, members, {
    setKey: portKey,
    memberKey: (appKey, port) => `udp\n${appKey}\n${port}`,
    joining: "recording a UDP binding",
    leaving: "removing a UDP binding",
    nodes: "a UDP port's nodes",
    reannouncing: "announcing this node's UDP bindings again",
  });
  return { bind: ports.join, unbind: ports.leave, nodes: ports.nodes, reannounce: () => ports.reannounce() };
}
