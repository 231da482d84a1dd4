/**
 * http_* in Chromium against a second origin: a node:http server on another port, started here.
 * It allows the page's origin (with credentials) on /cors, sends no CORS headers on /no-cors, and
 * reports whether the request carried the cookie set for it — so each crossorigin mode is checked
 * by what the browser really did.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConsoleMessage, Page } from "@playwright/test";
import { expect, playgroundReady, test } from "../fixtures.js";

const COOKIE = "gmnet_session=s3cret";

let server: Server;
let otherOrigin = "";
let pageOrigin = "";

test.beforeAll(async ({ baseURL }) => {
  if (baseURL === undefined) throw new Error("no baseURL: run with --config e2e/playwright.config.ts");
  pageOrigin = new URL(baseURL).origin;
  server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const body = JSON.stringify({ path, cookie: request.headers.cookie ?? null });
    if (path === "/cors") {
      response.writeHead(200, {
        "Content-Type": "application/json",
        "Access-Control-Allow-Origin": pageOrigin,
        "Access-Control-Allow-Credentials": "true",
        Vary: "Origin",
      });
    } else {
      response.writeHead(200, { "Content-Type": "application/json" });
    }
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  otherOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/**
 * The playground page, failing the test on uncaught errors and on console errors — except the
 * ones Chromium itself logs for the request to /no-cors that CORS blocks, which are the point.
 */
async function openPlayground(page: Page): Promise<{ problems: string[] }> {
  const problems: string[] = [];
  const expectedBlock = (message: ConsoleMessage): boolean =>
    `${message.text()} ${message.location().url}`.includes(`${otherOrigin}/no-cors`);
  page.on("pageerror", (error) => problems.push(`uncaught ${error.name}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !expectedBlock(message)) problems.push(`console.error: ${message.text()}`);
  });
  await page.goto("/buffers.html");
  await playgroundReady(page);
  return { problems };
}

/** Sets the crossorigin mode, calls http_get in the page and returns the final async_load, driven by async_event_wait + async_event_dispatch. */
function httpGetInPage(page: Page, url: string, mode: string): Promise<Record<string, unknown>> {
  return page.evaluate(
    async ({ url, mode }) => {
      const gm = globalThis.gmnet;
      gm.http_set_request_crossorigin(mode);
      const id = gm.http_get(url);
      const progress: unknown[] = [];
      for (;;) {
        if (!(await gm.async_event_wait(10_000))) return { timedOutWaiting: true };
        let final: Record<string, unknown> | undefined;
        gm.async_event_dispatch((load, event_type) => {
          if (load.id !== id) return;
          if ((load.status as number) > 0) progress.push(load);
          else final = { ...load, event_type, mode_after: gm.http_get_request_crossorigin(), progress: progress.length };
        });
        if (final !== undefined) return final;
      }
    },
    { url, mode },
  );
}

test("anonymous mode reads a CORS-enabled second origin without sending its cookie", async ({ page, context }) => {
  const { problems } = await openPlayground(page);
  await context.addCookies([{ name: "gmnet_session", value: "s3cret", url: otherOrigin }]);
  const url = `${otherOrigin}/cors`;
  const load = await httpGetInPage(page, url, "anonymous");
  expect(load).toEqual({
    id: expect.any(Number),
    url,
    status: 0,
    result: JSON.stringify({ path: "/cors", cookie: null }),
    http_status: 200,
    // A cross-origin response exposes only the CORS-safelisted headers.
    response_headers: expect.objectContaining({ "content-type": "application/json" }),
    event_type: 62,
    mode_after: "anonymous",
    progress: 0,
  });
  expect(problems).toEqual([]);
});

test("use-credentials mode sends the second origin's cookie", async ({ page, context }) => {
  const { problems } = await openPlayground(page);
  await context.addCookies([{ name: "gmnet_session", value: "s3cret", url: otherOrigin }]);
  const url = `${otherOrigin}/cors`;
  const load = await httpGetInPage(page, url, "use-credentials");
  expect(load).toMatchObject({ url, status: 0, http_status: 200, mode_after: "use-credentials" });
  expect(JSON.parse(load.result as string)).toEqual({ path: "/cors", cookie: COOKIE });
  // Back to anonymous: the cookie stays home again.
  const anonymous = await httpGetInPage(page, url, "anonymous");
  expect(JSON.parse(anonymous.result as string)).toEqual({ path: "/cors", cookie: null });
  expect(problems).toEqual([]);
});

test("a second origin without CORS headers is status -1 E_HTTP_NETWORK, in either mode", async ({ page }) => {
  const { problems } = await openPlayground(page);
  const url = `${otherOrigin}/no-cors`;
  for (const mode of ["anonymous", "use-credentials"]) {
    expect(await httpGetInPage(page, url, mode)).toEqual({
      id: expect.any(Number),
      url,
      status: -1,
      error: "E_HTTP_NETWORK",
      result: "",
      http_status: 0,
      response_headers: {},
      event_type: 62,
      mode_after: mode,
      progress: 0,
    });
  }
  expect(problems).toEqual([]);
});

test("an unknown crossorigin mode throws E_INVALID_ARGUMENT in the page", async ({ page }) => {
  await openPlayground(page);
  const thrown = await page.evaluate(() => {
    const gm = globalThis.gmnet;
    try {
      gm.http_set_request_crossorigin("same-origin");
      return "no error";
    } catch (error) {
      return error instanceof gm.GmnetError ? { code: error.code, mode: gm.http_get_request_crossorigin() } : String(error);
    }
  });
  expect(thrown).toEqual({ code: "E_INVALID_ARGUMENT", mode: "anonymous" });
});
