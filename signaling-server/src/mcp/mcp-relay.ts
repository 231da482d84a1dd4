/**
 * Several nodes (--redis): an MCP session lives on the node that opened it, and its id says which
 * (`{nodeId}.{uuid}`). A request for another node's session is relayed there as it came —
 * method, headers, body, and the answer streamed back (a notification stream included) — so a load
 * balancer in front of the nodes needs no header-based routing for /mcp. The owning node checks
 * the token and the session again; a relayed request is never relayed further.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../observability/logger.js";

/** Marks a relayed request: its node answers it itself (404 for a session it does not have). */
export const RELAYED_HEADER = "x-gmnet-mcp-relayed";

/** The node that opened the MCP session `id`, or undefined for an id without one. */
export function nodeOfSession(id: string): number | undefined {
  const match = /^(\d{1,3})\./.exec(id);
  return match === null ? undefined : Number(match[1]);
}

/** Sends `req` on to `baseUrl` and streams the answer to `res`; resolves when the exchange ended. */
export function relay(baseUrl: string, req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  const target = new URL(req.url ?? "/", baseUrl);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<void>((resolve) => {
    const onward = send(target, { method: req.method, headers: { ...req.headers, host: target.host, [RELAYED_HEADER]: "1" } });
    onward.on("response", (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on("end", resolve);
      answer.on("error", () => res.destroy());
    });
    onward.on("error", (error) => {
      logger.warn({ err: error.message, node: target.host }, "mcp: relaying a request to the session's node failed");
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "the node that holds this MCP session could not be reached; start a new session" }, id: null }));
      } else res.destroy();
      resolve();
    });
    // The client left (it closed its notification stream): so does the relayed request.
    res.on("close", () => {
      onward.destroy();
      resolve();
    });
    req.pipe(onward);
  });
}
