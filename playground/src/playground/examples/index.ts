/**
 * The runnable examples: each a short, commented script that works in ONE tab. Every example ends
 * by printing a line that starts with "✓" and carries real values (the RTT, the digest, the room id),
 * which the e2e test (e2e/tests/playground.spec.ts) checks. ported-chat, the example of
 * docs/PORTING.md, also works across two tabs; e2e/tests/porting.spec.ts runs it both ways, and
 * playground/test/porting-example.test.ts keeps the doc's copy of it identical to the file.
 *
 * The scripts are plain text files (not .js: they use the engine's names as free identifiers, which
 * no linter or type checker of this repository could resolve).
 */
import broadcast from "./broadcast.txt?raw";
import bufferHashing from "./buffer-hashing.txt?raw";
import httpGet from "./http-get.txt?raw";
import loginRooms from "./login-rooms.txt?raw";
import portedChat from "./ported-chat.txt?raw";
import tcpChat from "./tcp-chat.txt?raw";
import udpPing from "./udp-ping.txt?raw";

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
  { id: "ported-chat", title: "Ported GameMaker chat (1 or 2 tabs)", summary: "The chat of docs/PORTING.md: the first tab claims a host name and serves, a second tab joins it by name. Works alone too.", code: portedChat },
];

export const DEFAULT_EXAMPLE: Example = EXAMPLES[0]!;

export function exampleById(id: string): Example | undefined {
  return EXAMPLES.find((example) => example.id === id);
}
