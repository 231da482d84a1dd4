/**
 * `staticDir`: the real server serving a directory laid out like Vite's build (pages at the top,
 * hashed files under assets/), over real HTTP. A file outside the directory, dotfiles inside it
 * and files named like the server's own paths check what must never be served.
 */
import { mkdtemp, mkdir, rm, unlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GmnetServer } from "../src/index.js";
import { startServer } from "./support/harness.js";

const INDEX_HTML = "<!doctype html><title>playground</title>";
const DEMO_HTML = "<!doctype html><title>demo</title>";
const SCRIPT = "console.log('main');";
const STYLE = "body { margin: 0 }";
const SECRET = "secret outside the static directory";
const DOCS_INDEX_HTML = "<!doctype html><title>docs</title>";
const DOCS_NETWORK_HTML = "<!doctype html><title>Networking</title>";

let root: string;
let server: GmnetServer;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "gmnet-static-"));
  const dir = join(root, "dist");
  await mkdir(join(dir, "assets"), { recursive: true });
  await mkdir(join(dir, ".hidden"));
  await mkdir(join(dir, "api"));
  await writeFile(join(root, "package.json"), SECRET);
  await writeFile(join(dir, "index.html"), INDEX_HTML);
  await writeFile(join(dir, "demo.html"), DEMO_HTML);
  await writeFile(join(dir, "assets", "main-3f2a1b.js"), SCRIPT);
  await writeFile(join(dir, "assets", "main-9c8d7e.css"), STYLE);
  await writeFile(join(dir, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  // The docs site as VitePress builds it (clean URLs: NETWORK.html is /docs/NETWORK), and one Markdown file.
  await mkdir(join(dir, "docs", "assets"), { recursive: true });
  await writeFile(join(dir, "docs", "index.html"), DOCS_INDEX_HTML);
  await writeFile(join(dir, "docs", "NETWORK.html"), DOCS_NETWORK_HTML);
  await writeFile(join(dir, "docs", "assets", "app.B1c2D3e4.js"), SCRIPT);
  await writeFile(join(dir, "docs", "notes.md"), "# Notes");
  await writeFile(join(dir, ".env"), SECRET);
  await writeFile(join(dir, ".hidden", "notes.txt"), SECRET);
  // Files named like the server's own paths: the server's answers must win.
  await writeFile(join(dir, "healthz"), "file named healthz");
  await writeFile(join(dir, "metrics"), "file named metrics");
  await writeFile(join(dir, "ws"), "file named ws");
  await writeFile(join(dir, "api", "rooms"), "file named api/rooms");
  server = await startServer({ staticDir: dir });
});

afterEach(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

const url = (path: string): string => server.address().url + path;

/** A GET with the path sent exactly as written: fetch() would resolve `..` and `%2e%2e` before sending. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const { host, port } = server.address();
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: "GET" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("pages", () => {
  it("serves index.html at /, as HTML the browser must revalidate", async () => {
    const response = await fetch(url("/"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html;charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("etag")).toMatch(/^W\/"/);
    expect(await response.text()).toBe(INDEX_HTML);
  });

  it("serves the other pages by file name, and without .html", async () => {
    for (const path of ["/demo.html", "/demo"]) {
      const response = await fetch(url(path));
      expect(response.status, path).toBe(200);
      expect(response.headers.get("cache-control"), path).toBe("no-cache");
      expect(await response.text(), path).toBe(DEMO_HTML);
    }
  });

  it("answers a revalidation with an unchanged ETag with 304 and no body", async () => {
    const etag = (await fetch(url("/index.html"))).headers.get("etag");
    expect(etag).not.toBeNull();
    const again = await fetch(url("/index.html"), { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  it("answers HEAD with the headers of GET and no body", async () => {
    const response = await fetch(url("/"), { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html;charset=utf-8");
    expect(response.headers.get("content-length")).toBe(String(Buffer.byteLength(INDEX_HTML)));
    expect(await response.text()).toBe("");
  });
});

describe("assets", () => {
  it.each([
    ["/assets/main-3f2a1b.js", "text/javascript", SCRIPT],
    ["/assets/main-9c8d7e.css", "text/css", STYLE],
  ])("serves %s as %s, cached for a year as immutable", async (path, type, body) => {
    const response = await fetch(url(path));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(type);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await response.text()).toBe(body);
  });

  it("revalidates files outside assets/, whose names carry no hash", async () => {
    const response = await fetch(url("/favicon.svg"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/svg+xml");
    expect(response.headers.get("cache-control")).toBe("no-cache");
  });
});

describe("what is not served", () => {
  it("answers an unknown path 404 as the server does without static files", async () => {
    for (const path of ["/missing.html", "/assets/missing.js", "/assets/"]) {
      const response = await fetch(url(path));
      expect(response.status, path).toBe(404);
      expect(response.headers.get("content-type"), path).toBe("text/plain");
      expect(await response.text(), path).toBe("not found\n");
    }
  });

  it("answers methods other than GET and HEAD with 405 and Allow", async () => {
    for (const [method, path] of [["POST", "/"], ["PUT", "/index.html"], ["DELETE", "/assets/main-3f2a1b.js"], ["POST", "/missing.html"]] as const) {
      const response = await fetch(url(path), { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get("allow"), `${method} ${path}`).toBe("GET, HEAD");
    }
    // The refused PUT changed nothing.
    expect(await (await fetch(url("/index.html"))).text()).toBe(INDEX_HTML);
  });

  it.each(["/../package.json", "/%2e%2e/package.json", "/assets/../../package.json", "/..%2fpackage.json", "/%2e%2e%2fpackage.json", "/assets/%2e%2e/%2e%2e/package.json", "/%E0%A4%A"])(
    "never climbs out of the directory: %s",
    async (path) => {
      const { status, body } = await rawGet(path);
      expect(status).toBe(404);
      expect(body).not.toContain(SECRET);
    },
  );

  it("never serves dotfiles or what is inside dot directories", async () => {
    for (const path of ["/.env", "/.hidden/notes.txt", "/%2eenv"]) {
      const { status, body } = await rawGet(path);
      expect(status, path).toBe(404);
      expect(body, path).not.toContain(SECRET);
    }
  });

  it("cuts the response to a file deleted since startup, and goes on serving", async () => {
    await unlink(join(root, "dist", "demo.html"));
    await expect(fetch(url("/demo.html")).then((response) => response.text())).rejects.toThrow();
    expect((await fetch(url("/healthz"))).status).toBe(200);
    expect(await (await fetch(url("/"))).text()).toBe(INDEX_HTML);
  });
});

describe("the server's own paths keep priority", () => {
  it("answers /healthz and /metrics itself", async () => {
    const health = await fetch(url("/healthz"));
    expect(health.headers.get("content-type")).toBe("application/json");
    expect(await health.json()).toMatchObject({ status: "ok" });
    expect(await (await fetch(url("/metrics"))).text()).toContain("# TYPE gmnet_connections gauge");
  });

  it("answers /api/ with the REST API, unknown routes included", async () => {
    const rooms = await fetch(url("/api/rooms"));
    expect(rooms.status).toBe(200);
    expect(rooms.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await rooms.json()).toMatchObject({ rooms: [] });
    const unknown = await fetch(url("/api/nothing-here"));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: "unknown_operation" });
  });

  it("keeps /ws for the WebSocket: a plain GET there is 404", async () => {
    const response = await fetch(url("/ws"));
    expect(response.status).toBe(404);
    expect(await response.text()).toBe("not found\n");
  });
});

describe("the docs site", () => {
  it("serves its index at /docs/ and /docs/index.html, and its pages with and without .html", async () => {
    for (const [path, body] of [["/docs/", DOCS_INDEX_HTML], ["/docs/index.html", DOCS_INDEX_HTML], ["/docs/NETWORK", DOCS_NETWORK_HTML], ["/docs/NETWORK.html", DOCS_NETWORK_HTML]] as const) {
      const response = await fetch(url(path));
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type"), path).toBe("text/html;charset=utf-8");
      expect(response.headers.get("cache-control"), path).toBe("no-cache");
      expect(await response.text(), path).toBe(body);
    }
  });

  it("redirects /docs to /docs/, where its relative links and its router work", async () => {
    for (const [path, location] of [["/docs", "/docs/"], ["/docs?q=1", "/docs/?q=1"]] as const) {
      const response = await fetch(url(path), { redirect: "manual" });
      expect(response.status, path).toBe(301);
      expect(response.headers.get("location"), path).toBe(location);
    }
  });

  it("caches its hashed assets for a year as immutable", async () => {
    const response = await fetch(url("/docs/assets/app.B1c2D3e4.js"));
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it("redirects the old Markdown URLs (/docs/NETWORK.md) permanently to the rendered page, query kept", async () => {
    for (const [path, location] of [["/docs/NETWORK.md", "/docs/NETWORK"], ["/docs/NETWORK.md?x=1", "/docs/NETWORK?x=1"]] as const) {
      const response = await fetch(url(path), { redirect: "manual" });
      expect(response.status, path).toBe(301);
      expect(response.headers.get("location"), path).toBe(location);
    }
    const followed = await fetch(url("/docs/NETWORK.md"));
    expect(followed.status).toBe(200);
    expect(await followed.text()).toBe(DOCS_NETWORK_HTML);
    // A redirect to nothing ends in the usual 404.
    const missing = await fetch(url("/docs/MISSING.md"));
    expect(missing.status).toBe(404);
  });

  it("serves a Markdown file that exists as plain text, so a browser shows it instead of downloading it", async () => {
    const response = await fetch(url("/docs/notes.md"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(await response.text()).toBe("# Notes");
  });
});
