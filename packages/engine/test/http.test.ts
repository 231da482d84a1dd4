/**
 * http_* against a real node:http server on a port the OS picks: every outcome arrives as an
 * ev_async_web event whose async_load is checked key by key. Expected bytes are built here in
 * Node (node:crypto, Buffer), never taken from the engine.
 *
 * Over 400 lines on purpose: one suite of one concern, the http_* functions, every test on the
 * one local server above them.
 */
import { createHash } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AsyncLoad, type Engine, createEngine, createMemoryStorage, ev_async_web } from "../src/index.js";
import { freePort } from "../../../signaling-server/test/support/free-port.js";
import { bufferFrom, bytesOf, thrownCode } from "./helpers.js";

const md5 = (bytes: Uint8Array): string => createHash("md5").update(bytes).digest("hex");

const TEXT = "héllo wörld ✓";
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);
const BIG_SIZE = 3 * 1024 * 1024;
const BIG = Uint8Array.from({ length: BIG_SIZE }, (_, i) => (i * 31 + (i >>> 8)) & 0xff);
const CHUNK = 64 * 1024;

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes `bytes` in CHUNK-sized pieces, waiting for the socket to drain, so the client sees it arrive over time. */
async function writeChunked(response: ServerResponse, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length; at += CHUNK) {
    if (!response.write(bytes.subarray(at, at + CHUNK))) await new Promise((resolve) => response.once("drain", resolve));
  }
  response.end();
}

async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  const body = await readBody(request);
  switch (path) {
    case "/text":
      response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "X-Custom": "yes" });
      return void response.end(TEXT);
    case "/echo":
      response.writeHead(200, { "Content-Type": "application/json" });
      return void response.end(
        JSON.stringify({
          method: request.method,
          contentType: request.headers["content-type"] ?? null,
          xTest: request.headers["x-test"] ?? null,
          xNumber: request.headers["x-number"] ?? null,
          body: body.toString("utf8"),
        }),
      );
    case "/echo-bytes":
      response.writeHead(201, { "Content-Type": "application/octet-stream" });
      return void response.end(body);
    case "/stash":
      if (request.method === "POST") {
        stashed = body;
        response.writeHead(201, { "Content-Type": "text/plain" });
        return void response.end(`${body.length} bytes stashed`);
      }
      response.writeHead(200, { "Content-Type": "application/octet-stream" });
      return void response.end(stashed);
    case "/bytes":
      response.writeHead(200, { "Content-Type": "application/octet-stream" });
      return void response.end(ALL_BYTES);
    case "/big":
      response.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(BIG_SIZE) });
      return writeChunked(response, BIG);
    case "/big-chunked":
      response.writeHead(200, { "Content-Type": "application/octet-stream" });
      return writeChunked(response, BIG);
    case "/redirect":
      response.writeHead(302, { Location: "/text" });
      return void response.end();
    case "/missing":
      response.writeHead(404, { "Content-Type": "text/plain" });
      return void response.end("no such page");
    case "/fail":
      response.writeHead(500, { "Content-Type": "text/plain" });
      return void response.end("server broke");
    case "/hang":
      return; // never answers
    case "/broken":
      response.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(BIG_SIZE) });
      response.write(BIG.subarray(0, 4 * CHUNK), () => response.destroy());
      return;
    default:
      response.writeHead(400);
      response.end();
  }
}

/** The last body POSTed to /stash, which GET /stash returns. */
let stashed: Buffer = Buffer.alloc(0);
let server: Server;
let base = "";

beforeAll(async () => {
  server = createServer((request, response) => {
    route(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let gm: Engine;
beforeEach(() => {
  gm = createEngine({ storage: createMemoryStorage() });
});

/** Events dispatched while waiting for another request, per engine, oldest first. */
const backlog = new WeakMap<Engine, AsyncLoad[]>();

/** Every ev_async_web event of request `id`, up to and including its final one (status ≤ 0). */
async function eventsOf(engine: Engine, id: number): Promise<AsyncLoad[]> {
  const others = backlog.get(engine) ?? [];
  backlog.set(engine, others);
  const seen: AsyncLoad[] = [];
  const take = (load: AsyncLoad): void => {
    if (load.id === id) seen.push(load);
    else others.push(load);
  };
  others.splice(0).forEach(take);
  for (;;) {
    const last = seen.at(-1);
    if (last !== undefined && (last.status as number) <= 0) return seen;
    if (!(await engine.async_event_wait(10_000))) throw new Error(`no event for request ${id} within 10 s`);
    engine.async_event_dispatch((load, type) => {
      expect(type).toBe(ev_async_web);
      take(load);
    });
  }
}

/** The final event of request `id`, checking there were no progress events before it. */
async function finalOf(engine: Engine, id: number): Promise<AsyncLoad> {
  const events = await eventsOf(engine, id);
  expect(events).toHaveLength(1);
  return events[0]!;
}

interface Answer {
  result: unknown;
  http_status: number;
  response_headers: unknown;
}

/** The final async_load of request `id` for `url` when the server's response arrived whole: status 0 and the answer. */
const answered = (id: number, url: string, answer: Answer): AsyncLoad => ({ id, url, status: 0, ...answer });

/** The final async_load of request `id` for `url` when it failed after the response's headers came: no result. */
const failedAfterHeaders = (id: number, url: string, failure: Omit<Answer, "result"> & { status: number; error: string }): AsyncLoad => ({ id, url, result: "", ...failure });

describe("http_get and http_post_string", () => {
  it("http_get delivers the body as a UTF-8 string with the status and lowercase response headers", async () => {
    const url = `${base}/text`;
    const id = gm.http_get(url);
    expect(id).toBeGreaterThan(0);
    expect(await finalOf(gm, id)).toEqual(answered(id, url, { result: TEXT, http_status: 200, response_headers: expect.objectContaining({ "content-type": "text/plain; charset=utf-8", "x-custom": "yes" }) }));
  });

  it("http_post_string posts the string as application/x-www-form-urlencoded", async () => {
    const url = `${base}/echo`;
    const id = gm.http_post_string(url, "name=gmnet&score=42");
    const load = await finalOf(gm, id);
    expect(load).toEqual(answered(id, url, { result: expect.any(String), http_status: 200, response_headers: expect.any(Object) }));
    expect(JSON.parse(load.result as string)).toEqual({
      method: "POST",
      contentType: "application/x-www-form-urlencoded",
      xTest: null,
      xNumber: null,
      body: "name=gmnet&score=42",
    });
  });

  it("request ids come from the counter shared with buffer_save_async", async () => {
    const first = gm.http_get(`${base}/text`);
    const buffer = gm.buffer_create(1, gm.buffer_fixed, 1);
    const save = gm.buffer_save_async(buffer, "x.bin", 0, 1);
    const second = gm.http_get(`${base}/text`);
    expect([save, second]).toEqual([first + 1, first + 2]);
    const seen = new Map<number, AsyncLoad>();
    while (seen.size < 3) {
      await gm.async_event_wait(5_000);
      gm.async_event_dispatch((load) => seen.set(load.id as number, load));
    }
    expect(seen.get(save)).toEqual({ id: save, status: true });
    expect(seen.get(second)?.result).toBe(TEXT);
  });
});

describe("http_request", () => {
  it("sends custom methods and headers from a plain object or a Map", async () => {
    const url = `${base}/echo`;
    const put = gm.http_request(url, "put", { "X-Test": "from object", "Content-Type": "text/plain" }, "put body");
    expect(JSON.parse((await finalOf(gm, put)).result as string)).toEqual({
      method: "PUT",
      contentType: "text/plain",
      xTest: "from object",
      xNumber: null,
      body: "put body",
    });
    const headers = new Map<string, string | number>([["X-Test", "from map"], ["X-Number", 7]]);
    const patch = gm.http_request(url, "PATCH", headers, "patch body");
    expect(JSON.parse((await finalOf(gm, patch)).result as string)).toMatchObject({ method: "PATCH", xTest: "from map", xNumber: "7", body: "patch body" });
    const del = gm.http_request(url, "DELETE", undefined, "");
    expect(JSON.parse((await finalOf(gm, del)).result as string)).toMatchObject({ method: "DELETE", body: "" });
  });

  it("ignores a body on GET, and HEAD gets the headers with an empty result", async () => {
    const get = gm.http_request(`${base}/echo`, "GET", {}, "ignored");
    expect(JSON.parse((await finalOf(gm, get)).result as string)).toMatchObject({ method: "GET", body: "" });
    const url = `${base}/text`;
    const head = gm.http_request(url, "HEAD", {}, "ignored");
    expect(await finalOf(gm, head)).toEqual(answered(head, url, { result: "", http_status: 200, response_headers: expect.objectContaining({ "x-custom": "yes" }) }));
  });

  it("sends a buffer (seek ≠ 0) as the body and writes the echo into a buffer (seek 0), every byte value intact", async () => {
    const source = bufferFrom(gm, ALL_BYTES);
    gm.buffer_seek(source, gm.buffer_seek_end, 0);
    const stashUrl = `${base}/stash`;
    const posted = gm.http_request(stashUrl, "POST", { "Content-Type": "application/octet-stream" }, source);
    // The body was taken at call time: the script may reuse the source straight away.
    gm.buffer_fill(source, 0, gm.buffer_u8, 0, 256);
    expect(await finalOf(gm, posted)).toEqual(answered(posted, stashUrl, { result: "256 bytes stashed", http_status: 201, response_headers: expect.any(Object) }));
    expect(stashed).toEqual(Buffer.from(ALL_BYTES));

    const target = gm.buffer_create(1, gm.buffer_grow, 1);
    const fetched = gm.http_request(stashUrl, "GET", {}, target);
    expect(await finalOf(gm, fetched)).toEqual(answered(fetched, stashUrl, { result: 256, http_status: 200, response_headers: expect.objectContaining({ "content-type": "application/octet-stream" }) }));
    expect(gm.buffer_get_size(target)).toBe(256);
    expect(gm.buffer_get_used_size(target)).toBe(256);
    expect(gm.buffer_tell(target)).toBe(0);
    expect(bytesOf(gm, target)).toEqual(ALL_BYTES);
  });

  it("sends a buffer's bytes up to its used size, not its whole size", async () => {
    const source = gm.buffer_create(64, gm.buffer_fixed, 1);
    gm.buffer_write(source, gm.buffer_text, "only this");
    const posted = gm.http_request(`${base}/echo-bytes`, "PUT", {}, source);
    expect(await finalOf(gm, posted)).toMatchObject({ status: 0, http_status: 201, result: "only this" });
  });

  it("a fixed buffer keeps the bytes that fit and reports how many landed", async () => {
    const small = gm.buffer_create(100, gm.buffer_fixed, 1);
    const id = gm.http_request(`${base}/bytes`, "GET", undefined, small);
    expect((await finalOf(gm, id)).result).toBe(100);
    expect(bytesOf(gm, small)).toEqual(ALL_BYTES.subarray(0, 100));
  });

  it("reports E_HTTP_STORAGE when the target buffer is deleted before the response arrives", async () => {
    const target = gm.buffer_create(8, gm.buffer_grow, 1);
    const url = `${base}/bytes`;
    const id = gm.http_request(url, "GET", {}, target);
    gm.buffer_delete(target);
    expect(await finalOf(gm, id)).toEqual(failedAfterHeaders(id, url, { status: -4, error: "E_HTTP_STORAGE", http_status: 200, response_headers: expect.objectContaining({ "content-type": "application/octet-stream" }) }));
  });
});

describe("progress, redirects and HTTP errors", () => {
  it("streams a multi-megabyte body into a buffer with several increasing status 1 events, then one status 0", async () => {
    const target = gm.buffer_create(0, gm.buffer_grow, 1);
    const url = `${base}/big`;
    const id = gm.http_request(url, "GET", {}, target);
    const events = await eventsOf(gm, id);
    const progress = events.slice(0, -1);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    let previous = 0;
    for (const load of progress) {
      expect(load).toEqual({ id, url, status: 1, sizeDownloaded: expect.any(Number), contentLength: BIG_SIZE });
      expect(load.sizeDownloaded as number).toBeGreaterThan(previous);
      expect(load.sizeDownloaded as number).toBeLessThanOrEqual(BIG_SIZE);
      previous = load.sizeDownloaded as number;
    }
    expect(events.at(-1)).toEqual(answered(id, url, { result: BIG_SIZE, http_status: 200, response_headers: expect.any(Object) }));
    // A grow buffer may have grown past what it holds; the used size is exactly the body.
    expect(gm.buffer_get_used_size(target)).toBe(BIG_SIZE);
    expect(gm.buffer_md5(target, 0, BIG_SIZE)).toBe(md5(BIG));
  });

  it("reports contentLength -1 when the server does not announce the length", async () => {
    const id = gm.http_get_file(`${base}/big-chunked`, "downloads/big.bin");
    const events = await eventsOf(gm, id);
    expect(events.length).toBeGreaterThanOrEqual(4);
    for (const load of events.slice(0, -1)) expect(load).toMatchObject({ status: 1, contentLength: -1 });
    expect(events.at(-1)).toMatchObject({ status: 0, result: "downloads/big.bin", http_status: 200 });
    const loaded = gm.buffer_load("downloads/big.bin");
    expect(gm.buffer_get_size(loaded)).toBe(BIG_SIZE);
    expect(gm.buffer_md5(loaded, 0, -1)).toBe(md5(BIG));
  });

  it("follows a redirect and reports the requested url with the final response", async () => {
    const url = `${base}/redirect`;
    const id = gm.http_get(url);
    expect(await finalOf(gm, id)).toEqual(answered(id, url, { result: TEXT, http_status: 200, response_headers: expect.objectContaining({ "x-custom": "yes" }) }));
  });

  it("404 and 500 are status 0 with the http_status and the body the server sent", async () => {
    const missing = gm.http_get(`${base}/missing`);
    expect(await finalOf(gm, missing)).toEqual(answered(missing, `${base}/missing`, { result: "no such page", http_status: 404, response_headers: expect.objectContaining({ "content-type": "text/plain" }) }));
    const failed = gm.http_post_string(`${base}/fail`, "x=1");
    expect(await finalOf(gm, failed)).toEqual(answered(failed, `${base}/fail`, { result: "server broke", http_status: 500, response_headers: expect.any(Object) }));
  });

  it("a body that breaks off mid-download is status -3 E_HTTP_ABORTED, after its progress events", async () => {
    const url = `${base}/broken`;
    const id = gm.http_get(url);
    const events = await eventsOf(gm, id);
    expect(events.at(-1)).toEqual(failedAfterHeaders(id, url, { status: -3, error: "E_HTTP_ABORTED", http_status: 200, response_headers: expect.objectContaining({ "content-length": String(BIG_SIZE) }) }));
    for (const load of events.slice(0, -1)) expect(load).toMatchObject({ status: 1, contentLength: BIG_SIZE });
  });
});

describe("failures without a response", () => {
  it("a server that never answers times out with status -2 E_HTTP_TIMEOUT", async () => {
    expect(gm.http_get_connect_timeout()).toBe(60_000);
    gm.http_set_connect_timeout(200);
    expect(gm.http_get_connect_timeout()).toBe(200);
    const url = `${base}/hang`;
    const id = gm.http_get(url);
    expect(await finalOf(gm, id)).toEqual({ id, url, status: -2, error: "E_HTTP_TIMEOUT", result: "", http_status: 0, response_headers: {} });
  });

  it("a refused connection is status -1 E_HTTP_NETWORK", async () => {
    const url = `http://127.0.0.1:${await freePort()}/`;
    const id = gm.http_get(url);
    expect(await finalOf(gm, id)).toEqual({ id, url, status: -1, error: "E_HTTP_NETWORK", result: "", http_status: 0, response_headers: {} });
  });

  it("a URL fetch cannot parse is status -1 E_HTTP_NETWORK, not a throw", async () => {
    const id = gm.http_get("not a url");
    expect(await finalOf(gm, id)).toMatchObject({ id, status: -1, error: "E_HTTP_NETWORK" });
  });
});

describe("http_get_file", () => {
  it("writes the body into the storage buffer_load reads", async () => {
    const url = `${base}/bytes`;
    const id = gm.http_get_file(url, "cache/bytes.bin");
    expect(await finalOf(gm, id)).toEqual(answered(id, url, { result: "cache/bytes.bin", http_status: 200, response_headers: expect.objectContaining({ "content-type": "application/octet-stream" }) }));
    const loaded = gm.buffer_load("cache/bytes.bin");
    expect(loaded).toBeGreaterThan(0);
    expect(bytesOf(gm, loaded)).toEqual(ALL_BYTES);
  });

  it("reports E_HTTP_STORAGE when storage refuses the file", async () => {
    const refusing = createEngine({
      storage: { ...createMemoryStorage(), kind: "refusing", write: () => Promise.reject(new Error("quota exceeded")) },
    });
    const url = `${base}/text`;
    const id = refusing.http_get_file(url, "full.txt");
    expect(await finalOf(refusing, id)).toEqual(failedAfterHeaders(id, url, { status: -4, error: "E_HTTP_STORAGE", http_status: 200, response_headers: expect.any(Object) }));
  });
});

describe("the injected fetch and crossorigin modes", () => {
  function recordingEngine(): { engine: Engine; calls: Array<{ url: string; init: RequestInit }> } {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const engine = createEngine({
      storage: createMemoryStorage(),
      fetch: async (input, init) => {
        calls.push({ url: String(input), init: init ?? {} });
        return new Response("ok", { status: 200, headers: { "X-From": "fake" } });
      },
    });
    return { engine, calls };
  }

  it("maps anonymous to credentials same-origin and use-credentials to include", async () => {
    const { engine, calls } = recordingEngine();
    expect(engine.http_get_request_crossorigin()).toBe("anonymous");
    const first = engine.http_get("https://example.test/a");
    engine.http_set_request_crossorigin("use-credentials");
    expect(engine.http_get_request_crossorigin()).toBe("use-credentials");
    const second = engine.http_get("https://example.test/b");
    expect(await finalOf(engine, first)).toEqual(answered(first, "https://example.test/a", { result: "ok", http_status: 200, response_headers: { "content-type": "text/plain;charset=UTF-8", "x-from": "fake" } }));
    await finalOf(engine, second);
    expect(calls.map((call) => [call.url, call.init.credentials, call.init.method])).toEqual([
      ["https://example.test/a", "same-origin", "GET"],
      ["https://example.test/b", "include", "GET"],
    ]);
    expect(calls[0]?.init.signal).toBeInstanceOf(AbortSignal);
  });

  it("a fetch that throws synchronously becomes a status -1 event", async () => {
    const engine = createEngine({
      storage: createMemoryStorage(),
      fetch: () => {
        throw new TypeError("no network here");
      },
    });
    const id = engine.http_get("https://example.test/");
    expect(await finalOf(engine, id)).toMatchObject({ id, status: -1, error: "E_HTTP_NETWORK" });
  });

  it("arms the connect timeout on the engine's clock, and no timer at all for timeout 0", async () => {
    const armed: number[] = [];
    const clock = {
      now: () => performance.now(),
      setTimeout: (callback: () => void, ms: number) => {
        armed.push(ms);
        return setTimeout(callback, ms);
      },
      clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    const engine = createEngine({ storage: createMemoryStorage(), clock, fetch: async () => new Response("ok") });
    engine.http_set_connect_timeout(1234);
    await finalOf(engine, engine.http_get("https://example.test/"));
    engine.http_set_connect_timeout(0);
    expect(engine.http_get_connect_timeout()).toBe(0);
    await finalOf(engine, engine.http_get("https://example.test/"));
    // 10_000 is finalOf's own async_event_wait.
    expect(armed.filter((ms) => ms !== 10_000)).toEqual([1234]);
  });
});

describe("misuse throws GmnetError", () => {
  it("with the documented codes", () => {
    const deleted = gm.buffer_create(1, gm.buffer_fixed, 1);
    gm.buffer_delete(deleted);
    const cases: Array<[string, () => unknown]> = [
      ["E_INVALID_ARGUMENT", () => gm.http_get(42 as unknown as string)],
      ["E_INVALID_ARGUMENT", () => gm.http_post_string(base, {} as unknown as string)],
      ["E_INVALID_ARGUMENT", () => gm.http_request(base, "FETCH", {}, "")],
      ["E_INVALID_ARGUMENT", () => gm.http_request(base, "TRACE", {}, "")],
      ["E_INVALID_ARGUMENT", () => gm.http_request(base, "CONNECT", {}, "")],
      ["E_INVALID_ARGUMENT", () => gm.http_request(base, "GET", "X-A: b" as never, "")],
      ["E_INVALID_ARGUMENT", () => gm.http_request(base, "GET", [["a", "b"]] as never, "")],
      ["E_INVALID_ARGUMENT", () => gm.http_request(base, "GET", { "bad name": "x" }, "")],
      ["E_INVALID_ARGUMENT", () => gm.http_request(base, "GET", { "X-A": { nested: 1 } } as never, "")],
      ["E_INVALID_ARGUMENT", () => gm.http_request(base, "POST", {}, { bytes: [] } as never)],
      ["E_INVALID_BUFFER", () => gm.http_request(base, "POST", {}, deleted)],
      ["E_INVALID_FILENAME", () => gm.http_get_file(base, "../escape.bin")],
      ["E_INVALID_ARGUMENT", () => gm.http_set_request_crossorigin("same-origin")],
      ["E_INVALID_ARGUMENT", () => gm.http_set_connect_timeout(-1)],
      ["E_INVALID_ARGUMENT", () => gm.http_set_connect_timeout(Number.NaN)],
    ];
    expect(cases.map(([, call]) => thrownCode(call))).toEqual(cases.map(([code]) => code));
    expect(gm.async_event_pending()).toBe(0);
  });
});
