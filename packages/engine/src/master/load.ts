/**
 * Between the wire's JSON and GML's naming. Bodies name fields in camelCase (`maxPlayers`);
 * async_load keys and the option objects of master_* are snake_case (`max_players`), as every
 * other GameMaker key is. `properties` (room properties), `attributes` (a character's) and `value` (a
 * world document's) are the game's own maps: their keys are the game's names and pass through
 * unchanged in both directions.
 */

/** Keys whose value is a map of the game's own names, copied as they are. */
const VERBATIM_KEYS = new Set(["properties", "attributes", "value"]);

/** "maxPlayers" → "max_players", "roomId" → "room_id"; a run of capitals stays one word ("ipURL" → "ip_url"). */
export function camelToSnake(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}

/** "max_players" → "maxPlayers", "not_full" → "notFull". */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** A parsed JSON value with every object key snake_cased, at any depth (arrays included), `properties`, `attributes` and `value` maps excepted. */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[camelToSnake(key)] = VERBATIM_KEYS.has(key) ? item : snakeKeys(item);
  return out;
}

/** The async_load keys of a body: its fields snake_cased; nothing for a body that is not a JSON object. */
export function bodyKeys(body: unknown): Record<string, unknown> {
  return isPlainObject(body) ? (snakeKeys(body) as Record<string, unknown>) : {};
}

const utf8Decoder = new TextDecoder();

/** A body from the wire: JSON text in UTF-8 (empty = `{}`). A body that does not parse counts as `{}`: the status still tells the outcome. */
export function parseBody(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return {};
  try {
    return JSON.parse(utf8Decoder.decode(bytes)) as unknown;
  } catch {
    return {};
  }
}
