/**
 * Argument checks for master_*. As for http_* and network_*, a call that can never be right (a
 * number where a string belongs, an unknown option) throws GmnetError E_INVALID_ARGUMENT before
 * anything is sent. The rules of values (name lengths, ranges) are the server's: it answers
 * them with status INVALID, so they are stated in one place only.
 */
import { ErrorCode, GmnetError } from "../errors.js";
import { CHAT_CHANNELS, type ChatChannel } from "@gmnet/protocol";
import { requireNumber, requireString } from "../runtime/context.js";
import { isPlainObject, snakeToCamel } from "./load.js";

type Check = (value: unknown, name: string, fn: string) => unknown;

const invalid = (message: string): GmnetError => new GmnetError(ErrorCode.INVALID_ARGUMENT, message);

export const stringArg: Check = requireString;
export const numberArg: Check = requireNumber;

/** true/false, or a GML boolean (a number: 0 is false). */
export const boolArg: Check = (value, name, fn) => {
  if (typeof value === "boolean") return value;
  if (typeof value === "number" && !Number.isNaN(value)) return value !== 0;
  throw invalid(`${fn}: ${name} must be true or false, not ${String(value)}`);
};

/** A map of the game's own names (room properties): a plain object, sent as it is. */
export const mapArg: Check = (value, name, fn) => {
  if (!isPlainObject(value)) throw invalid(`${fn}: ${name} must be a plain object (a struct), not ${describe(value)}`);
  return value;
};

/** A list of strings (world document names): an array of strings, sent as it is. */
export const stringsArg: Check = (value, name, fn) => {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) throw invalid(`${fn}: ${name} must be an array of strings, not ${describe(value)}`);
  return value;
};

/** The options each object argument takes, by GML (snake_case) name. */
export const ROOM_OPTIONS = { password: stringArg, public: boolArg, properties: mapArg } as const;
export const ROOM_CHANGES = { name: stringArg, max_players: numberArg, password: stringArg, public: boolArg, properties: mapArg } as const;
export const ROOM_FILTER = { name: stringArg, not_full: boolArg, no_password: boolArg, properties: mapArg, offset: numberArg, limit: numberArg } as const;
export const PRESENCE_FILTER = { username: stringArg, offset: numberArg, limit: numberArg } as const;
export const NEARBY_QUERY = { location: stringArg, x: numberArg, y: numberArg, z: numberArg, radius: numberArg, offset: numberArg, limit: numberArg } as const;

/**
 * An options object (or undefined/null for none, unless required) as a request body's fields:
 * each known key checked and camelCased; keys holding undefined are left out; an unknown key
 * throws, so a misspelt option is not silently ignored.
 */
export function optionsArg(value: unknown, allowed: Readonly<Record<string, Check>>, name: string, fn: string, required = false): Record<string, unknown> {
  if ((value === undefined || value === null) && !required) return {};
  if (!isPlainObject(value)) throw invalid(`${fn}: ${name} must be a plain object (a struct)${required ? "" : " or undefined"}, not ${describe(value)}`);
  const fields: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const check = Object.hasOwn(allowed, key) ? allowed[key] : undefined;
    if (check === undefined) throw invalid(`${fn}: "${key}" is not an option of ${name} (${Object.keys(allowed).join(", ")})`);
    if (item !== undefined) fields[snakeToCamel(key)] = check(item, `${name}.${key}`, fn);
  }
  return fields;
}

/** A master_chat_* constant as the wire's channel name. */
export function chatChannelArg(value: unknown, fn: string): ChatChannel {
  const channel = requireNumber(value, "channel", fn);
  const name = CHAT_CHANNELS[channel];
  if (!Number.isInteger(channel) || name === undefined) throw invalid(`${fn}: channel must be a master_chat_* constant (0 global, 1 room, 2 party, 3 whisper), not ${channel}`);
  return name;
}

/** master_request's opcode: any u16, so tests and newer servers can use opcodes this engine does not name. */
export function opArg(value: unknown, fn: string): number {
  const op = requireNumber(value, "op", fn);
  if (!Number.isInteger(op) || op < 0 || op > 0xffff) throw invalid(`${fn}: op must be a whole number from 0 to 65535, not ${op}`);
  return op;
}

const utf8 = new TextEncoder();

/** master_request's body: a string sent as it is (even if it is not JSON), an object or array as JSON, undefined/null as empty (`{}`). */
export function rawBodyArg(value: unknown, fn: string): Uint8Array {
  if (value === undefined || value === null) return new Uint8Array(0);
  if (typeof value === "string") return utf8.encode(value);
  if (typeof value !== "object") throw invalid(`${fn}: body must be a string or an object, not ${typeof value}`);
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw invalid(`${fn}: body cannot be sent as JSON: ${(error as Error).message}`);
  }
  return utf8.encode(json);
}

/** A request body built by master_*: its fields as JSON. */
export function jsonBody(fields: Record<string, unknown>, fn: string): Uint8Array {
  return rawBodyArg(fields, fn);
}

/** master_set_timeout's milliseconds: 0 (wait for the server) to 2³¹−1, as timers allow. */
export function timeoutArg(value: unknown, fn: string): number {
  const ms = requireNumber(value, "timeout_ms", fn);
  if (!(ms >= 0 && ms <= 2 ** 31 - 1)) throw invalid(`${fn}: timeout_ms must be from 0 to 2147483647, not ${ms}`);
  return Math.trunc(ms);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `a ${(value as object).constructor?.name ?? "object"}` : typeof value;
}
