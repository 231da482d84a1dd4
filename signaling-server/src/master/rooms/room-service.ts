/**
 * Rooms (PROTOCOL.md §16.4): ROOM_CREATE, ROOM_LIST, ROOM_JOIN, ROOM_LEAVE, ROOM_UPDATE and
 * ROOM_GET over the registry, with the events members hear. A room belongs to the connection
 * that created it: its address is that connection's virtual IP, stamped here, and it closes when
 * the host leaves, logs out or disconnects.
 */
import { MasterEvent, MasterOp, formatIpv4 } from "@gmnet/protocol";
import { z } from "zod";
import type { Session } from "../../session/session.js";
import type { Login } from "../caller.js";
import type { MasterDeps } from "../deps.js";
import { type AnyOperation, defineOperation } from "../operation.js";
import { fail, ok } from "../outcome.js";
import { MAX_PAGE_LIMIT, type Page } from "./paging.js";
import { type Room, RoomRegistry, type RoomView } from "./room-registry.js";
import { createBody, getBody, joinBody, listBody, updateBody } from "./room-schemas.js";

export interface RoomService {
  readonly operations: AnyOperation[];
  /** The room the session is in (hosting or joined), 0 for none. */
  roomOf(session: Session): number;
  /** Every session in the session's room (host included), empty when it is in none. */
  membersOf(session: Session): Session[];
  /**
   * Called after a session enters (roomId > 0) or leaves (roomId = 0) a room while it stays
   * logged in, for presence. A login that ends leaves its room without a call here (presence
   * announces the account offline instead); the other members of a room it closes are called.
   */
  onChange(listener: (session: Session, login: Login, roomId: number) => void): void;
  /** The app key's public rooms, as room_list shows them (the first MAX_PAGE_LIMIT), for MCP's read-only resources. */
  publicRooms(appKey: string): Page<RoomView>;
}

export function createRoomService(deps: MasterDeps): RoomService {
  const registry = new RoomRegistry<Session>(deps.server.random);
  const listeners: Array<(session: Session, login: Login, roomId: number) => void> = [];

  const changed = (session: Session, roomId: number, login = deps.online.loginOf(session)): void => {
    if (login === undefined) return;
    for (const listener of listeners) listener(session, login, roomId);
  };

  /** EVENT ROOM_UPDATE to every member, and to `also` (who just left). */
  const announce = (room: Room<Session>, reason: "joined" | "left" | "updated", username: string, also?: Session): void => {
    const body = { ...registry.view(room), reason, username };
    for (const member of room.members.keys()) deps.sendEvent(member, MasterEvent.ROOM_UPDATE, body);
    if (also !== undefined) deps.sendEvent(also, MasterEvent.ROOM_UPDATE, body);
  };

  /** What the creator and a joiner get: the room, and its address to connect to. */
  const entered = (room: Room<Session>) => ({ ...registry.view(room), ip: room.ip, port: room.port });

  /** Takes the session out of its room; false when it is in none. */
  const leave = (session: Session, login: Login, loginEnds: boolean): boolean => {
    const result = registry.leave(session);
    if (result === undefined) return false;
    const { room, closed, others } = result;
    if (closed) {
      for (const member of others) {
        deps.sendEvent(member, MasterEvent.ROOM_CLOSED, { roomId: room.id, reason: "host_left" });
        changed(member, 0);
      }
    } else {
      announce(room, "left", login.username, session);
    }
    if (!loginEnds) changed(session, 0, login);
    return true;
  };

  deps.online.listen({
    onLogout(session, login) {
      leave(session, login, true);
    },
  });

  const operations = [
    defineOperation({
      op: MasterOp.ROOM_CREATE,
      needs: "connection",
      body: createBody,
      run({ caller, body }) {
        const { session, login } = caller;
        const room = registry.create(session.appKey, session, login.username, formatIpv4(session.virtualIp), body);
        changed(session, room.id, login);
        return ok(entered(room));
      },
    }),
    defineOperation({
      op: MasterOp.ROOM_LIST,
      needs: "nothing",
      body: listBody,
      run({ caller, body }) {
        const page = registry.list(caller.appKey, body);
        return ok({ total: page.total, offset: page.offset, rooms: page.items });
      },
    }),
    defineOperation({
      op: MasterOp.ROOM_JOIN,
      needs: "connection",
      body: joinBody,
      run({ caller, body }) {
        const { session, login } = caller;
        const room = registry.join(session.appKey, session, login.username, body.roomId, body.password);
        announce(room, "joined", login.username);
        changed(session, room.id, login);
        return ok(entered(room));
      },
    }),
    defineOperation({
      op: MasterOp.ROOM_LEAVE,
      needs: "connection",
      body: z.strictObject({}),
      run({ caller }) {
        return leave(caller.session, caller.login, false) ? ok() : fail("not_in_room", "you are in no room");
      },
    }),
    defineOperation({
      op: MasterOp.ROOM_UPDATE,
      needs: "connection",
      body: updateBody,
      run({ caller, body }) {
        const room = registry.update(caller.session, body);
        announce(room, "updated", caller.login.username);
        return ok(registry.view(room));
      },
    }),
    defineOperation({
      op: MasterOp.ROOM_GET,
      needs: "nothing",
      body: getBody,
      run({ caller, body }) {
        const room = registry.get(caller.appKey, body.roomId);
        return room === undefined ? fail("room_not_found", `no room ${body.roomId}`) : ok(registry.view(room));
      },
    }),
  ];

  return {
    operations,
    roomOf: (session) => registry.roomOf(session)?.id ?? 0,
    membersOf: (session) => [...(registry.roomOf(session)?.members.keys() ?? [])],
    onChange(listener) {
      listeners.push(listener);
    },
    publicRooms: (appKey) => registry.list(appKey, { limit: MAX_PAGE_LIMIT }),
  };
}
