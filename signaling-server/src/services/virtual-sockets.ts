/** Seed 002's virtual sockets: resolve, host names, stream connections, datagrams. (Being implemented.) */
import type { ServerContext } from "../server-context.js";
import type { SessionLifecycle } from "../session/session.js";

export function createVirtualSocketService(_context: ServerContext): SessionLifecycle {
  return {};
}
