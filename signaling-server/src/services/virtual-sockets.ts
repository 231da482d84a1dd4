/**
 * Seed 002's virtual sockets on Channel.VSOCKET: name resolution and host names, the relayed
 * connect handshake, established streams, and datagrams. Each concern lives in ./vsockets/;
 * this module wires them to the router and to session lifecycle.
 */
import type { ClusterLink } from "../cluster/cluster.js";
import type { ServerContext } from "../server-context.js";
import type { SessionLifecycle } from "../session/session.js";
import { createDatagrams } from "./vsockets/datagrams.js";
import { createHandshakes } from "./vsockets/handshake.js";
import { registerNameHandlers } from "./vsockets/names.js";
import { type Streams, createStreams } from "./vsockets/streams.js";

export interface VirtualSocketService extends SessionLifecycle {
  /** The established streams, for server-side stream ends (the outbound GameMaker bridge). */
  readonly streams: Streams;
}

/** `cluster` (--redis): addresses not held here are looked up in the route table and reached through their node's stream. */
export function createVirtualSocketService(context: ServerContext, cluster?: ClusterLink): VirtualSocketService {
  const names = registerNameHandlers(context, cluster);
  const streams = createStreams(context, cluster);
  const handshakes = createHandshakes(context, streams, cluster);
  const datagrams = createDatagrams(context, cluster);
  // The Directory releases host names when the session leaves it; with --redis, names releases the shared claim.
  return {
    streams,
    onSessionClose(session, cause) {
      handshakes.onSessionClose(session);
      streams.onSessionClose(session, cause);
      datagrams.onSessionClose(session);
      names.onSessionClose(session);
    },
    onSessionResume(session) {
      streams.onSessionResume(session);
    },
    onSessionMovedIn(session, taken) {
      streams.onSessionMovedIn(session, taken);
      datagrams.onSessionMovedIn(session, taken);
    },
    // A move ends everything bound to the old address, as leaving would; peers see PEER_GONE.
    onSessionMove(session) {
      handshakes.onSessionClose(session);
      streams.onSessionClose(session, "closed");
      datagrams.onSessionClose(session);
      names.onSessionClose(session);
    },
  };
}
