/**
 * The rooms of every app key, in memory (PROTOCOL.md §16.4). Pure bookkeeping: who hosts and
 * who is in which room, the rules of creating, joining, leaving and updating, and the filtered,
 * paged public list. It sends nothing; the room service turns its results into events.
 *
 * `M` is whatever stands for a member (the live Session in the server, anything in tests). A
 * member hosts at most one room and is in at most one room; a room exists exactly as long as its
 * host is in it.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { MasterFailure } from "../outcome.js";
import { randomId } from "./ids.js";
import { DEFAULT_PAGE_LIMIT, type Page, pageOf } from "./paging.js";
import type { Properties, RoomChanges, RoomFilter, RoomSettings } from "./room-schemas.js";

/** A room as clients see it (PROTOCOL.md §16.4 "Room"). */
export type RoomView = {
  readonly roomId: number;
  readonly name: string;
  /** The host's user name. */
  readonly host: string;
  readonly players: number;
  readonly maxPlayers: number;
  readonly hasPassword: boolean;
  readonly public: boolean;
  readonly properties: Properties;
};

interface PasswordHash {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

export interface Room<M> {
  readonly id: number;
  readonly appKey: string;
  readonly host: M;
  /** The host connection's virtual IP (dotted), stamped at creation. */
  readonly ip: string;
  readonly port: number;
  name: string;
  maxPlayers: number;
  public: boolean;
  properties: Properties;
  password: PasswordHash | undefined;
  /** Member → user name, in joining order; the host first. */
  readonly members: Map<M, string>;
}

export interface LeaveResult<M> {
  readonly room: Room<M>;
  /** The host left: the room is gone and `others` are out of it. */
  readonly closed: boolean;
  /** When closed: the members that were in it besides the host. */
  readonly others: M[];
}

export class RoomRegistry<M> {
  private readonly byId = new Map<number, Room<M>>();
  /** appKey → its rooms by id, oldest first (Map order is creation order). */
  private readonly apps = new Map<string, Map<number, Room<M>>>();
  private readonly memberOf = new Map<M, Room<M>>();

  /** `random`: uniform in [0, 1), for room ids. */
  constructor(private readonly random: () => number) {}

  /** Rooms open across every app key. */
  get size(): number {
    return this.byId.size;
  }

  /** Members in any room, hosts included. */
  get memberCount(): number {
    return this.memberOf.size;
  }

  create(appKey: string, host: M, hostName: string, ip: string, settings: RoomSettings): Room<M> {
    const current = this.memberOf.get(host);
    if (current !== undefined) {
      throw current.host === host ? new MasterFailure("already_hosting", `you already host room ${current.id}`) : new MasterFailure("already_in_room", `you are in room ${current.id}; leave it first`);
    }
    const id = randomId(this.random, (candidate) => this.byId.has(candidate));
    const room: Room<M> = {
      id,
      appKey,
      host,
      ip,
      port: settings.port,
      name: settings.name,
      maxPlayers: settings.maxPlayers,
      public: settings.public ?? true,
      properties: copyProperties(settings.properties),
      password: settings.password === undefined || settings.password === "" ? undefined : hashPassword(settings.password),
      members: new Map([[host, hostName]]),
    };
    this.byId.set(id, room);
    let app = this.apps.get(appKey);
    if (app === undefined) this.apps.set(appKey, (app = new Map()));
    app.set(id, room);
    this.memberOf.set(host, room);
    return room;
  }

  /** The room with this id in this app key (public or not); other apps' rooms do not exist here. */
  get(appKey: string, roomId: number): Room<M> | undefined {
    const room = this.byId.get(roomId);
    return room !== undefined && room.appKey === appKey ? room : undefined;
  }

  /** The room `member` hosts or joined. */
  roomOf(member: M): Room<M> | undefined {
    return this.memberOf.get(member);
  }

  /** The public rooms of `appKey` that match, oldest first, one page of them. */
  list(appKey: string, filter: RoomFilter = {}): Page<RoomView> {
    const name = filter.name?.toLowerCase() ?? "";
    const wanted = Object.entries(filter.properties ?? {});
    const matches = (room: Room<M>): boolean =>
      room.public &&
      (name === "" || room.name.toLowerCase().includes(name)) &&
      (filter.notFull !== true || room.members.size < room.maxPlayers) &&
      (filter.noPassword !== true || room.password === undefined) &&
      wanted.every(([key, value]) => Object.hasOwn(room.properties, key) && room.properties[key] === value);
    return pageOf(this.apps.get(appKey)?.values() ?? [], matches, (room) => this.view(room), filter.offset ?? 0, filter.limit ?? DEFAULT_PAGE_LIMIT);
  }

  /** Adds `member` to the room after checking the rules (password before capacity). */
  join(appKey: string, member: M, memberName: string, roomId: number, password?: string): Room<M> {
    const current = this.memberOf.get(member);
    if (current !== undefined) {
      throw new MasterFailure("already_in_room", `you ${current.host === member ? "host" : "are in"} room ${current.id}; leave it first`);
    }
    const room = this.get(appKey, roomId);
    if (room === undefined) throw new MasterFailure("room_not_found", `no room ${roomId}`);
    if (room.password !== undefined && (password === undefined || !checkPassword(room.password, password))) {
      throw new MasterFailure("wrong_password", password === undefined ? "this room needs a password" : "wrong room password");
    }
    if (room.members.size >= room.maxPlayers) throw new MasterFailure("room_full", `the room has ${room.maxPlayers} of ${room.maxPlayers} players`);
    room.members.set(member, memberName);
    this.memberOf.set(member, room);
    return room;
  }

  /** Takes `member` out of its room; the host leaving closes it. Undefined when in no room. */
  leave(member: M): LeaveResult<M> | undefined {
    const room = this.memberOf.get(member);
    if (room === undefined) return undefined;
    if (room.host !== member) {
      room.members.delete(member);
      this.memberOf.delete(member);
      return { room, closed: false, others: [] };
    }
    const others = [...room.members.keys()].filter((other) => other !== member);
    this.close(room);
    return { room, closed: true, others };
  }

  /** The host changes its room. */
  update(member: M, changes: RoomChanges): Room<M> {
    const room = this.memberOf.get(member);
    if (room === undefined) throw new MasterFailure("not_in_room", "you are in no room");
    if (room.host !== member) throw new MasterFailure("not_host", "only the room's host may update it");
    if (changes.maxPlayers !== undefined && changes.maxPlayers < room.members.size) {
      throw new MasterFailure("invalid_body", `maxPlayers: the room has ${room.members.size} players; it cannot hold fewer`);
    }
    if (changes.name !== undefined) room.name = changes.name;
    if (changes.maxPlayers !== undefined) room.maxPlayers = changes.maxPlayers;
    if (changes.public !== undefined) room.public = changes.public;
    if (changes.properties !== undefined) room.properties = copyProperties(changes.properties);
    if (changes.password !== undefined) room.password = changes.password === "" ? undefined : hashPassword(changes.password);
    return room;
  }

  view(room: Room<M>): RoomView {
    return {
      roomId: room.id,
      name: room.name,
      host: room.members.get(room.host) ?? "",
      players: room.members.size,
      maxPlayers: room.maxPlayers,
      hasPassword: room.password !== undefined,
      public: room.public,
      properties: room.properties,
    };
  }

  private close(room: Room<M>): void {
    for (const member of room.members.keys()) this.memberOf.delete(member);
    room.members.clear();
    this.byId.delete(room.id);
    const app = this.apps.get(room.appKey);
    app?.delete(room.id);
    if (app?.size === 0) this.apps.delete(room.appKey);
  }
}

/** Own keys only, into a fresh object the caller cannot change afterwards. */
function copyProperties(properties: Properties | undefined): Properties {
  return Object.freeze(Object.fromEntries(Object.entries(properties ?? {})));
}

/** Room passwords are low-value and short-lived: a salted SHA-256 is enough. */
function hashPassword(password: string): PasswordHash {
  const salt = randomBytes(16);
  return { salt, hash: digest(salt, password) };
}

function checkPassword(stored: PasswordHash, password: string): boolean {
  return timingSafeEqual(stored.hash, digest(stored.salt, password));
}

function digest(salt: Buffer, password: string): Buffer {
  return createHash("sha256").update(salt).update(password, "utf8").digest();
}
