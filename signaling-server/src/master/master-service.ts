/**
 * The master services' composition root (PROTOCOL.md §16): accounts and sessions, rooms, chat,
 * parties, presence, characters and world state, served over the WebSocket's MASTER channel and over HTTP at
 * /api/.
 * Every service gets the same MasterDeps; the order below is the order logouts are cleaned up
 * in (rooms and parties before presence announces the account offline).
 *
 * With --redis the services run on one node, the master home (cluster/master-home.ts); the other
 * nodes forward their requests to it (master-forwarder.ts) and the home stands in for their
 * sessions with proxies (remote-sessions.ts). The services themselves do not know.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { MasterEvent, MasterOp, MasterStatus, nameOf } from "@gmnet/protocol";
import type { ClusterLink } from "../cluster/cluster.js";
import type { ServerContext } from "../server-context.js";
import type { Session, SessionLifecycle } from "../session/session.js";
import { createAuthService } from "./accounts/auth-service.js";
import { createCharacterService } from "./characters/character-service.js";
import type { MasterDeps } from "./deps.js";
import { type Dispatch, createDispatcher } from "./dispatcher.js";
import { sendEvent } from "./events.js";
import { createHttpApi } from "./http-transport.js";
import { MASTER_RESTARTED, createMasterForwarder } from "./master-forwarder.js";
import { OnlineAccounts } from "./online.js";
import { RemoteSession, serveRemoteSessions } from "./remote-sessions.js";
import type { Page } from "./rooms/paging.js";
import type { RoomView } from "./rooms/room-registry.js";
import { createRoomService } from "./rooms/room-service.js";
import { createChatService } from "./social/chat-service.js";
import { createPartyService } from "./social/party-service.js";
import { createPresenceService } from "./social/presence-service.js";
import { createWorldService } from "./world/world-service.js";
import { registerMasterChannel } from "./ws-transport.js";

export interface MasterService extends SessionLifecycle {
  /** Serves /api/… requests; false for any other path. */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean;
  /** The app key's public rooms (the first 100), as room_list shows them (from the master home). */
  rooms(appKey: string): Promise<Page<RoomView>>;
  close(): void;
}

/** `cluster`: the node's link to the others (--redis); without it everything runs here. */
export function createMasterService(server: ServerContext, cluster?: ClusterLink): MasterService {
  const online = new OnlineAccounts();
  const deps: MasterDeps = {
    server,
    online,
    sendEvent,
    wallNow: () => server.clock.wallNow?.() ?? Date.now(),
  };
  const characters = createCharacterService(deps);
  const auth = createAuthService(deps, characters);
  const rooms = createRoomService(deps);
  const parties = createPartyService(deps);
  const chat = createChatService(deps, rooms, parties, characters);
  const presence = createPresenceService(deps, rooms, parties, characters);
  const world = createWorldService(deps);
  // Last of the logout listeners, so presence's "offline" still shows the character.
  online.listen({ onLogout: (_session, login, reason) => characters.forget(login.accountId, reason) });
  const handle = createDispatcher({
    operations: [...auth.operations, ...rooms.operations, ...parties.operations, ...chat.operations, ...presence.operations, ...characters.operations, ...world.operations],
    clock: server.clock,
    logger: server.logger,
    timeoutMs: server.config.masterRequestTimeoutMs,
  });
  const dispatch: Dispatch = async (caller, op, body) => {
    const outcome = await handle(caller, op, body);
    // Unknown opcodes share one label, so a client cannot grow the metric without bound.
    const opName = nameOf(MasterOp, op);
    server.metrics.masterRequests.inc({ via: caller.via, op: opName.startsWith("#") ? "unknown" : opName, status: nameOf(MasterStatus, outcome.status) });
    return outcome;
  };
  const forwarder = cluster === undefined ? undefined : createMasterForwarder(server, cluster);
  /** Whether the services run here (always on a single node). */
  const isHome = (): boolean => cluster === undefined || cluster.masterHome === cluster.nodeId;
  const routed: Dispatch = (caller, op, body) => (forwarder === undefined || isHome() ? dispatch(caller, op, body) : forwarder.forward(caller, op, body));
  const channel = registerMasterChannel(server, routed, online);
  const handleHttp = createHttpApi({ ...deps, dispatch: routed, auth });
  const sessionClosed = (session: Session): void => {
    channel.onSessionClose(session);
    online.disconnected(session);
  };
  if (cluster !== undefined && forwarder !== undefined) {
    const remote = serveRemoteSessions({
      link: cluster,
      dispatch,
      online,
      isHome,
      resumeFromHello: (session) => auth.resumeFromHello(session),
      rooms: (appKey) => ({ ...rooms.publicRooms(appKey) }),
      sessionClosed,
      logger: server.logger,
    });
    cluster.onMasterHomeChange((home, previous) => {
      if (previous === undefined) return;
      forwarder.homeChanged(previous);
      if (previous !== cluster.nodeId || home === cluster.nodeId) return;
      // This node stopped being the home: the new one starts empty, so nothing held here may linger.
      remote.dropAll();
      for (const session of online.sessions()) {
        if (session instanceof RemoteSession) continue;
        online.logout(session);
        sendEvent(session, MasterEvent.SESSION, { state: "ended", reason: MASTER_RESTARTED });
      }
    });
  }

  return {
    onSessionOpen(session) {
      if (session.helloToken === "") return undefined;
      return forwarder === undefined || isHome() ? auth.resumeFromHello(session) : forwarder.open(session);
    },
    onSessionClose(session) {
      sessionClosed(session);
      forwarder?.sessionClosed(session);
    },
    handleHttp,
    rooms: async (appKey) => (forwarder === undefined || isHome() ? rooms.publicRooms(appKey) : forwarder.rooms(appKey)),
    close: () => auth.close(),
  };
}
