/**
 * The master services' composition root (PROTOCOL.md §16): accounts and sessions, rooms, chat,
 * parties, presence, characters and world state, served over the WebSocket's MASTER channel and over HTTP at
 * /api/.
 * Every service gets the same MasterDeps; the order below is the order logouts are cleaned up
 * in (rooms and parties before presence announces the account offline).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { MasterOp, MasterStatus, nameOf } from "@gmnet/engine/protocol";
import type { ServerContext } from "../server-context.js";
import type { SessionLifecycle } from "../session/session.js";
import { createAuthService } from "./accounts/auth-service.js";
import { createCharacterService } from "./characters/character-service.js";
import type { MasterDeps } from "./deps.js";
import { type Dispatch, createDispatcher } from "./dispatcher.js";
import { sendEvent } from "./events.js";
import { createHttpApi } from "./http-transport.js";
import { OnlineAccounts } from "./online.js";
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
  /** The app key's public rooms (the first 100), as room_list shows them. */
  rooms(appKey: string): Page<RoomView>;
  close(): void;
}

export function createMasterService(server: ServerContext): MasterService {
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
  const channel = registerMasterChannel(server, dispatch, online);
  const handleHttp = createHttpApi({ ...deps, dispatch, auth });

  return {
    onSessionOpen(session) {
      return session.helloToken === "" ? undefined : auth.resumeFromHello(session);
    },
    onSessionClose(session) {
      channel.onSessionClose(session);
      online.disconnected(session);
    },
    handleHttp,
    rooms: (appKey) => rooms.publicRooms(appKey),
    close: () => auth.close(),
  };
}
