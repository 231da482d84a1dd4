/**
 * App keys (PROTOCOL.md §6 Hello, §13 app-key isolation): clients of different app keys never see
 * each other. One rule for everyone who takes a key: the server's HELLO, its master HTTP
 * transport's X-Gmnet-App-Key, its GameMaker bridges and --world-writer, and the engine's
 * network_set_config, so a key one of them accepts is never refused by another.
 */

const APP_KEY_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** The rule in words, for the messages that refuse a key. */
export const APP_KEY_RULE = "1–64 characters of A–Z a–z 0–9 . _ -";

/** Whether `key` is a valid app key: 1–64 characters of A–Z a–z 0–9 . _ - (nothing to escape in URLs, logs or storage keys). */
export function isValidAppKey(key: string): boolean {
  return APP_KEY_PATTERN.test(key);
}
