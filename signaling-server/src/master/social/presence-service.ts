/**
 * Presence (PROTOCOL.md §16.7): PRESENCE_LIST shows who of the app key is logged in on a live
 * connection, in login order, with their room and party; PRESENCE_SUBSCRIBE asks for an EVENT
 * PRESENCE whenever an account of the app key logs in, logs out (or disconnects), or enters or
 * leaves a room, or selects another character. A subscription belongs to the login and ends
 * with it. Each user carries the account's selected character (`characterId`, `character`; 0 and
 * "" for none) and the location its connection set (PRESENCE_SET_LOCATION, at most
 * `locationRateLimit` per second per connection: a location string and/or a 2D or 3D position,
 * kept for the login). PRESENCE_NEARBY finds the app key's logged-in users at the same location
 * string, or within a radius of a position, nearest first.
 */
import { MasterEvent, MasterOp } from "@gmnet/protocol";
import { z } from "zod";
import { RateLimiter } from "../../session/rate-limiter.js";
import type { Session } from "../../session/session.js";
import type { Login } from "../caller.js";
import type { CharacterService } from "../characters/character-service.js";
import type { MasterDeps } from "../deps.js";
import { type AnyOperation, defineOperation } from "../operation.js";
import { type Body, fail, ok } from "../outcome.js";
import { pageOf, pagingFields } from "../rooms/paging.js";
import type { RoomService } from "../rooms/room-service.js";
import type { PartyService } from "./party-service.js";

const listBody = z.strictObject({ username: z.string().max(64).optional(), ...pagingFields });

/** Largest coordinate and radius: far beyond any game world, small enough that distances stay exact-ish doubles. */
const MAX_COORDINATE = 1e12;
const coordinate = z.number().min(-MAX_COORDINATE).max(MAX_COORDINATE);
const locationName = z.string().max(64);

/** x and y together (z only with them): a 2D or 3D position. */
const positionFields = { x: coordinate.optional(), y: coordinate.optional(), z: coordinate.optional() };
const hasValidPosition = (body: { x?: number; y?: number; z?: number }): boolean => (body.x === undefined) === (body.y === undefined) && (body.z === undefined || body.x !== undefined);
const POSITION_RULE = { message: "x and y go together, and z only with them", path: ["x"] };

const setLocationBody = z.strictObject({ location: locationName.optional(), ...positionFields }).refine(hasValidPosition, POSITION_RULE);
const nearbyBody = z
  .strictObject({ location: locationName.min(1).optional(), ...positionFields, radius: z.number().min(0).max(MAX_COORDINATE).optional(), ...pagingFields })
  .refine(hasValidPosition, POSITION_RULE)
  .refine((body) => (body.location !== undefined) !== (body.x !== undefined), { message: "give either location or a position (x, y[, z]), not both", path: ["location"] })
  .refine((body) => (body.x === undefined) === (body.radius === undefined), { message: "radius goes with a position, and a position needs one", path: ["radius"] });

interface Position {
  readonly x: number;
  readonly y: number;
  readonly z?: number;
}

interface Whereabouts {
  readonly location: string;
  readonly position: Position | null;
}

const NOWHERE: Whereabouts = { location: "", position: null };

/** Between two positions: in 3D when the query has z (a position without z is at z 0), else in the plane. */
function distance(from: Position, to: Position): number {
  const dz = from.z === undefined ? 0 : from.z - (to.z ?? 0);
  return Math.hypot(from.x - to.x, from.y - to.y, dz);
}

export function createPresenceService(
  deps: MasterDeps,
  rooms: RoomService,
  parties: PartyService,
  characters: Pick<CharacterService, "selectedOf" | "onChange">,
): { operations: AnyOperation[] } {
  /** appKey → the connections subscribed to its presence. */
  const subscribers = new Map<string, Set<Session>>();
  /** Where each logged-in connection says it is; gone with the login. */
  const whereabouts = new Map<Session, Whereabouts>();
  const { locationRateLimit } = deps.server.config;
  // The limit is the connection's, so it survives logging out and in again (as chat's does).
  const buckets = new WeakMap<Session, RateLimiter>();
  const allowed = (session: Session): boolean => {
    const now = deps.server.clock.now();
    let bucket = buckets.get(session);
    if (bucket === undefined) buckets.set(session, (bucket = new RateLimiter(locationRateLimit, locationRateLimit, now)));
    return bucket.take(now);
  };
  const whereOf = (session: Session): Whereabouts => whereabouts.get(session) ?? NOWHERE;

  /** A User of §16.7. */
  const userOf = (session: Session, login: Login): Body => ({
    username: login.username,
    accountId: login.accountId,
    guest: login.guest,
    roomId: rooms.roomOf(session),
    partyId: parties.partyOf(session),
    ...characterOf(login.accountId),
    ...whereOf(session),
  });

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
      whereabouts.delete(session);
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
          ({ session, login }) => userOf(session, login),
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
    defineOperation({
      op: MasterOp.PRESENCE_SET_LOCATION,
      needs: "connection",
      body: setLocationBody,
      run({ caller, body }) {
        const { session } = caller;
        if (!allowed(session)) return fail("rate_limited", `at most ${locationRateLimit} location updates per second`);
        const position: Position | null = body.x === undefined || body.y === undefined ? null : body.z === undefined ? { x: body.x, y: body.y } : { x: body.x, y: body.y, z: body.z };
        const where: Whereabouts = { location: body.location ?? "", position };
        if (where.location === "" && position === null) whereabouts.delete(session);
        else whereabouts.set(session, where);
        return ok({ ...where });
      },
    }),
    defineOperation({
      op: MasterOp.PRESENCE_NEARBY,
      needs: "login",
      body: nearbyBody,
      run({ caller, body }) {
        const self = caller.login.accountId;
        const others = [...deps.online.logins(caller.appKey)].filter(({ login }) => login.accountId !== self);
        if (body.location !== undefined) {
          const page = pageOf(others, ({ session }) => whereOf(session).location === body.location, ({ session, login }) => userOf(session, login), body.offset, body.limit);
          return ok({ total: page.total, offset: page.offset, users: page.items });
        }
        const from: Position = body.z === undefined ? { x: body.x!, y: body.y! } : { x: body.x!, y: body.y!, z: body.z };
        const near = others
          .map((entry) => ({ ...entry, position: whereOf(entry.session).position }))
          .filter((entry): entry is typeof entry & { position: Position } => entry.position !== null)
          .map((entry) => ({ ...entry, distance: distance(from, entry.position) }))
          .filter((entry) => entry.distance <= body.radius!)
          // Stable: equal distances stay in login order.
          .sort((a, b) => a.distance - b.distance);
        const page = pageOf(near, () => true, ({ session, login, distance }) => ({ ...userOf(session, login), distance }), body.offset, body.limit);
        return ok({ total: page.total, offset: page.offset, users: page.items });
      },
    }),
  ];

  return { operations };
}
