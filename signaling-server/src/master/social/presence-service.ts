/**
 * Presence (PROTOCOL.md §16.7): PRESENCE_LIST shows who of the app key is logged in on a live
 * connection, in login order, with their room and party; PRESENCE_SUBSCRIBE asks for an EVENT
 * PRESENCE whenever an account of the app key logs in, logs out (or disconnects), or enters or
 * leaves a room, or selects another character. A subscription belongs to the login and ends
 * with it. Each user carries the account's selected character (`characterId`, `character`; 0 and
 * "" for none).
 */
import { MasterEvent, MasterOp } from "@gmnet/engine/protocol";
import { z } from "zod";
import type { Session } from "../../session/session.js";
import type { Login } from "../caller.js";
import type { CharacterService } from "../characters/character-service.js";
import type { MasterDeps } from "../deps.js";
import { type AnyOperation, defineOperation } from "../operation.js";
import { ok } from "../outcome.js";
import { pageOf, pagingFields } from "../rooms/paging.js";
import type { RoomService } from "../rooms/room-service.js";
import type { PartyService } from "./party-service.js";

const listBody = z.strictObject({ username: z.string().max(64).optional(), ...pagingFields });

export function createPresenceService(
  deps: MasterDeps,
  rooms: RoomService,
  parties: PartyService,
  characters: Pick<CharacterService, "selectedOf" | "onChange">,
): { operations: AnyOperation[] } {
  /** appKey → the connections subscribed to its presence. */
  const subscribers = new Map<string, Set<Session>>();

  /** The account's selected character, as presence bodies carry it. */
  const characterOf = (accountId: number): { characterId: number; character: string } => {
    const selected = characters.selectedOf(accountId);
    return { characterId: selected?.id ?? 0, character: selected?.name ?? "" };
  };

  const unsubscribe = (session: Session): void => {
    const app = subscribers.get(session.appKey);
    app?.delete(session);
    if (app?.size === 0) subscribers.delete(session.appKey);
  };

  const publish = (session: Session, login: Login, online: boolean, roomId: number): void => {
    const app = subscribers.get(session.appKey);
    if (app === undefined) return;
    const body = { username: login.username, accountId: login.accountId, online, roomId, ...characterOf(login.accountId) };
    for (const subscriber of app) deps.sendEvent(subscriber, MasterEvent.PRESENCE, body);
  };

  deps.online.listen({
    onLogin(session, login) {
      publish(session, login, true, rooms.roomOf(session));
    },
    onLogout(session, login) {
      unsubscribe(session);
      publish(session, login, false, 0);
    },
  });
  rooms.onChange((session, login, roomId) => publish(session, login, true, roomId));
  characters.onChange((session, login) => publish(session, login, true, rooms.roomOf(session)));

  const operations = [
    defineOperation({
      op: MasterOp.PRESENCE_LIST,
      needs: "nothing",
      body: listBody,
      run({ caller, body }) {
        const prefix = body.username?.toLowerCase() ?? "";
        const page = pageOf(
          deps.online.logins(caller.appKey),
          ({ login }) => login.username.toLowerCase().startsWith(prefix),
          ({ session, login }) => ({
            username: login.username,
            accountId: login.accountId,
            guest: login.guest,
            roomId: rooms.roomOf(session),
            partyId: parties.partyOf(session),
            ...characterOf(login.accountId),
          }),
          body.offset,
          body.limit,
        );
        return ok({ total: page.total, offset: page.offset, users: page.items });
      },
    }),
    defineOperation({
      op: MasterOp.PRESENCE_SUBSCRIBE,
      needs: "connection",
      body: z.strictObject({ enabled: z.boolean() }),
      run({ caller, body }) {
        const { session } = caller;
        if (!body.enabled) {
          unsubscribe(session);
          return ok();
        }
        let app = subscribers.get(session.appKey);
        if (app === undefined) subscribers.set(session.appKey, (app = new Set()));
        app.add(session);
        return ok();
      },
    }),
  ];

  return { operations };
}
