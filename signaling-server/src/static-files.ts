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

/** Vite names everything under /assets/ (the playground's) and /docs/assets/ (the docs site's, VitePress) by its content hash: a changed file is a new URL. */
const HASHED_ASSETS = /^\/(?:docs\/)?assets\//;
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
      res.setHeader("cache-control", HASHED_ASSETS.test(pathname) ? IMMUTABLE : REVALIDATE);
      // A Markdown file, should the directory have one: browsers download text/markdown but show plain text.
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
    if (redirectDocsRoot(req, res)) return;
    // sirv pipes a file stream into the response without an error listener: a file deleted since
    // startup would throw from that stream and take the whole process down. Cut this response instead.
    res.once("pipe", (source: Readable) => {
      source.once("error", (error) => {
        logger.warn({ err: error.message, url: req.url }, "static file unreadable");
        res.destroy();
      });
    });
    serve(req, res, () => {
      if (!redirectMarkdown(req, res)) notFound();
    });
  };
}

/**
 * /docs is the docs site's index only as /docs/: its pages link relative to that folder, and its
 * router knows no page outside it.
 */
function redirectDocsRoot(req: IncomingMessage, res: ServerResponse): boolean {
  const [path = "", query] = (req.url ?? "").split(/\?(.*)/s, 2);
  if (path !== "/docs") return false;
  redirect(res, query === undefined ? "/docs/" : `/docs/?${query}`);
  return true;
}

/**
 * The docs site (/docs/) renders docs/NETWORK.md as /docs/NETWORK, and links written before it
 * (/docs/NETWORK.md, bookmarks, the playground's old Docs menu) name the Markdown file: a missing
 * `<name>.md` is answered with a permanent redirect to `<name>`, which is then the page or a 404.
 */
function redirectMarkdown(req: IncomingMessage, res: ServerResponse): boolean {
  const [path = "", query] = (req.url ?? "").split(/\?(.*)/s, 2);
  const page = /^(\/(?:[\w-]+\/)*[\w-]+)\.md$/.exec(path)?.[1];
  if (page === undefined) return false;
  redirect(res, query === undefined ? page : `${page}?${query}`);
  return true;
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(301, { location, "cache-control": REVALIDATE, "content-type": "text/plain" });
  res.end(`moved to ${location}\n`);
}
