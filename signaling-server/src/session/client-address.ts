/** Where a request or WebSocket came from, for rate limits (PROTOCOL.md §16.3). */
import type { IncomingMessage } from "node:http";

/** The client's address: the socket's, or the first X-Forwarded-For hop when a trusted proxy sets it. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = req.headers["x-forwarded-for"];
  if (trustProxy && typeof forwarded === "string" && forwarded.trim() !== "") return forwarded.split(",")[0]!.trim();
  return req.socket.remoteAddress ?? "";
}
