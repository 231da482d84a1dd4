/**
 * MCP tool names (PROTOCOL.md §17, TOOL_REGISTER), the characters the MCP specification recommends
 * so that every MCP client accepts them: one rule for the engine, which refuses a bad
 * name at once (E_INVALID_ARGUMENT), and the server, which answers it INVALID, so a name one
 * accepts is never refused by the other.
 */

const TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** The rule in words, for the messages that refuse a name. */
export const TOOL_NAME_RULE = "1 to 64 characters from A–Z, a–z, 0–9, _, - and .";

/** Whether `name` is a valid MCP tool name: 1–64 characters of A–Z a–z 0–9 _ - . */
export function isValidToolName(name: string): boolean {
  return TOOL_NAME_PATTERN.test(name);
}
