/**
 * The runnable examples: each a short, commented script that works in ONE tab. Every example ends
 * by printing a line that starts with "✓" and carries real values (the RTT, the digest, the room id),
 * which the e2e test (e2e/tests/playground.spec.ts) checks. ported-chat, the example of
 * docs/PORTING.md, also works across two tabs; e2e/tests/porting.spec.ts runs it both ways, and
 * playground/test/porting-example.test.ts keeps the doc's copy of it identical to the file.
 *
 * Before them in the picker, NEW_SCRIPT: a blank template to write one's own script in. An entry
 * the user has edited is shown as their own script ("My script", scriptTitle), not as the example.
 *
 * The scripts are plain text files (not .js: they use the engine's names as free identifiers, which
 * no linter or type checker of this repository could resolve).
 */
import broadcast from "./broadcast.txt?raw";
import encryptedChat from "./encrypted-chat.txt?raw";
import bufferHashing from "./buffer-hashing.txt?raw";
import httpGet from "./http-get.txt?raw";
import loginRooms from "./login-rooms.txt?raw";
import mcpTools from "./mcp-tools.txt?raw";
import newScript from "./new-script.txt?raw";
import portedChat from "./ported-chat.txt?raw";
import tcpChat from "./tcp-chat.txt?raw";
import udpPing from "./udp-ping.txt?raw";
import worldState from "./world-state.txt?raw";

export interface Example {
  /** URL hash and select value: #udp-ping. */
  readonly id: string;
  readonly title: string;
  /** One sentence under the picker. */
  readonly summary: string;
  readonly code: string;
}

export const EXAMPLES: readonly Example[] = [
  { id: "tcp-chat", title: "TCP chat: server + client", summary: "A TCP server and a client in this tab exchange buffer_string packets over the in-engine loopback.", code: tcpChat },
  { id: "udp-ping", title: "UDP ping with RTT", summary: "Two UDP sockets bounce timestamps; every pong prints its round trip. Try the network condition sliders.", code: udpPing },
  { id: "broadcast", title: "Broadcast discovery", summary: "A client broadcasts DISCOVER; a server on a second engine (another virtual machine) answers.", code: broadcast },
  { id: "http-get", title: "http_get with progress", summary: "Downloads this page's biggest script and prints every status 1 progress event, then the result.", code: httpGet },
  { id: "buffer-hashing", title: "Buffer hashing + compression", summary: "md5, sha1, crc32 and base64 of a known string, and a zlib round trip with sizes.", code: bufferHashing },
  { id: "login-rooms", title: "Login + rooms", summary: "Guest login, create a room for a game server, find it in the room list.", code: loginRooms },
  {
    id: "world-state",
    title: "World state",
    summary: "Subscribes to the app key's shared world documents, lists the shards and tries to capture one (only the server's configured writers may).",
    code: worldState,
  },
  {
    id: "encrypted-chat",
    title: "Encrypted chat",
    summary: "Three players on an app channel with end-to-end encryption: two share the game's secret and read each other, the third has another and reads nothing.",
    code: encryptedChat,
  },
  { id: "ported-chat", title: "Ported GameMaker chat (1 or 2 tabs)", summary: "The chat of docs/PORTING.md: the first tab claims a host name and serves, a second tab joins it by name. Works alone too.", code: portedChat },
  {
    id: "mcp-tools",
    title: "MCP tools for LLM agents",
    summary: "Offers a roll_dice tool to MCP clients (an IDE's or a desktop assistant's agent) and answers their calls. The server needs an MCP token: see the comment.",
    code: mcpTools,
  },
];

/** The blank template: the picker's first entry. */
export const NEW_SCRIPT: Example = {
  id: "new",
  title: "New script",
  summary: "A blank script of your own: the top level, step() and async_event() are ready to fill in.",
  code: newScript,
};

/** Everything the picker offers: the new script, then the examples. */
export const ENTRIES: readonly Example[] = [NEW_SCRIPT, ...EXAMPLES];

export const DEFAULT_EXAMPLE: Example = EXAMPLES[0]!;

export function exampleById(id: string): Example | undefined {
  return ENTRIES.find((example) => example.id === id);
}

/**
 * What the picker and the page call an entry whose editor holds `code`: the example's own title
 * while it is unchanged; once edited, it is the user's script — "My script", or "My script (from
 * TCP chat: server + client)" for an edited example.
 */
export function scriptTitle(entry: Example, code: string): string {
  if (code === entry.code) return entry.title;
  return entry.id === NEW_SCRIPT.id ? "My script" : `My script (from ${entry.title})`;
}

/** The line under the picker for `entry` holding `code`. */
export function scriptSummary(entry: Example, code: string): string {
  if (code === entry.code) return entry.summary;
  const kept = "Kept in this browser.";
  return entry.id === NEW_SCRIPT.id
    ? `Your own script. ${kept} Reset gives you a blank one.`
    : `Your own script, started from the “${entry.title}” example. ${kept} Reset puts the example back.`;
}
