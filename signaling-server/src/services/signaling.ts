/** WebRTC signaling relay and ICE server list. (Being implemented.) */
import type { ServerContext } from "../server-context.js";
import type { SessionLifecycle } from "../session/session.js";

export function createSignalingService(_context: ServerContext): SessionLifecycle {
  return {};
}
