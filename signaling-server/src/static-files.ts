/**
 * Static files from `staticDir` (the built playground) on the server's own port, so one URL serves
 * the pages, the WebSocket (/ws) and the REST API (/api). sirv does the serving; this module only
 * decides what sirv is asked and which cache policy each answer gets.
 *
 * sirv runs in its production mode: it lists the directory once, at startup, and answers from that
 * list, so a request path is only ever a key in a map (never joined onto a file-system path:
 * `..` cannot climb out) and dotfiles are never listed. A rebuild of the directory therefore needs
 * a restart to be served.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import sirv from "sirv";
import type { Logger } from "./observability/logger.js";

/** Vite names everything under /assets/ by its content hash: a changed file is a new URL. */
const HASHED_ASSETS = "/assets/";
const IMMUTABLE = "public, max-age=31536000, immutable";
/** Pages keep their URL across builds, so the browser must revalidate them (ETag) every time. */
const REVALIDATE = "no-cache";
const READ_ONLY_METHODS = "GET, HEAD";

/** Answers a request from the static directory, or calls notFound when no file matches. */
export type StaticFiles = (req: IncomingMessage, res: ServerResponse, notFound: () => void) => void;

export function createStaticFiles(dir: string, logger: Logger): StaticFiles {
  const serve = sirv(dir, {
    dev: false,
    dotfiles: false,
    etag: true,
    setHeaders: (res, pathname) => {
      res.setHeader("cache-control", pathname.startsWith(HASHED_ASSETS) ? IMMUTABLE : REVALIDATE);
      // The docs the playground links to: browsers download text/markdown but show plain text.
      if (pathname.endsWith(".md")) res.setHeader("content-type", "text/plain; charset=utf-8");
    },
  });
  return (req, res, notFound) => {
    // The static tree is read-only wherever it answers, file or not (as serve-static without fallthrough).
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: READ_ONLY_METHODS, "content-type": "text/plain" });
      res.end("method not allowed\n");
      return;
    }
    // sirv pipes a file stream into the response without an error listener: a file deleted since
    // startup would throw from that stream and take the whole process down. Cut this response instead.
    res.once("pipe", (source: Readable) => {
      source.once("error", (error) => {
        logger.warn({ err: error.message, url: req.url }, "static file unreadable");
        res.destroy();
      });
    });
    serve(req, res, notFound);
  };
}
