/**
 * The shapes of the room requests (PROTOCOL.md §16.4), each written once: the zod schema the room
 * service checks a body with, and the registry's type of it inferred from that schema, so the
 * two cannot drift apart.
 */
import { z } from "zod";
import { MAX_ID } from "./ids.js";
import { pagingFields } from "./paging.js";

export const MAX_PROPERTIES = 32;

const propertyValue = z.union([z.string().max(256), z.number(), z.boolean()]);
/** At most 32 keys of 1–32 characters; strings ≤ 256 characters, finite numbers, booleans. */
export const propertiesSchema = z
  .record(z.string().min(1).max(32), propertyValue)
  .refine((properties) => Object.keys(properties).length <= MAX_PROPERTIES, `at most ${MAX_PROPERTIES} properties`);
export type Properties = Readonly<z.infer<typeof propertiesSchema>>;

const roomName = z.string().min(1).max(64);
const maxPlayers = z.number().int().min(1).max(1000);
const roomId = z.number().int().min(1).max(MAX_ID);

/** ROOM_CREATE. */
export const createBody = z.strictObject({
  name: roomName,
  maxPlayers,
  port: z.number().int().min(1).max(65535),
  password: z.string().min(1).max(64).optional(),
  /** Default true. */
  public: z.boolean().optional(),
  properties: propertiesSchema.optional(),
});
export type RoomSettings = Readonly<z.infer<typeof createBody>>;

/** ROOM_LIST: the filter and the page. */
export const listBody = z.strictObject({
  /** Case-insensitive substring of the name. */
  name: z.string().max(64).optional(),
  notFull: z.boolean().optional(),
  noPassword: z.boolean().optional(),
  /** Keeps rooms whose properties equal every one given. */
  properties: propertiesSchema.optional(),
  ...pagingFields,
});
export type RoomFilter = Readonly<z.infer<typeof listBody>>;

/** ROOM_JOIN. */
export const joinBody = z.strictObject({ roomId, password: z.string().min(1).max(64).optional() });

/** ROOM_GET. */
export const getBody = z.strictObject({ roomId });

/** ROOM_UPDATE: only what is given changes; password "" removes it; properties replace the whole set. */
export const updateBody = z.strictObject({
  name: roomName.optional(),
  maxPlayers: maxPlayers.optional(),
  /** "" removes the password. */
  password: z.string().max(64).optional(),
  public: z.boolean().optional(),
  properties: propertiesSchema.optional(),
});
export type RoomChanges = Readonly<z.infer<typeof updateBody>>;
