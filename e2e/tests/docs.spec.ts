/**
 * The docs site (docs/*.md and PROTOCOL.md rendered by VitePress) as the server serves it at
 * /docs/ beside the playground: the index with its screenshots, the sidebar, the local search, a
 * rendered table, the link to PROTOCOL.md, the old Markdown URLs, and the API reference, which
 * must list every function the engine exports, each linked to an anchor that exists on the page
 * that describes it. Screenshots of the index, a search, a function's table row and the API
 * reference are saved to e2e/artifacts/screenshots/ (docs-*.png) and attached to the report.
 *
 * Every wait is a condition; nothing sleeps. Each page fails its test on an uncaught error or a
 * console.error.
 */
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { defaultEngine } from "@gmnet/engine";
import { type Page, type TestInfo, test as base, expect } from "@playwright/test";

const SCREENSHOTS = fileURLToPath(new URL("../artifacts/screenshots/", import.meta.url));

/** Every function the engine exports, as the API reference must list them. */
const FUNCTIONS = Object.keys(defaultEngine).filter((name) => typeof defaultEngine[name as keyof typeof defaultEngine] === "function");

/** The pages of the sidebar, as file names of docs/ (and PROTOCOL.md), with their URL in the site. */
const PAGES = ["PORTING", "ASYNC_EVENTS", "NETWORK", "BUFFERS", "HTTP", "MASTER", "GML", "ERRORS", "api", "PROTOCOL"];

const test = base.extend<{ docs: Page }>({
  docs: async ({ page }, use) => {
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`uncaught ${error.name}: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console.error: ${message.text()}`);
    });
    await use(page);
    expect(problems, "errors reported by the page").toEqual([]);
  },
});

async function screenshot(page: Page, testInfo: TestInfo, name: string, fullPage = false): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}${name}.png`;
  await page.screenshot({ path, fullPage });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

test("the index at /docs/ has the site's navigation and its screenshots load", async ({ docs: page }, testInfo) => {
  await page.goto("/docs/");
  await expect(page).toHaveTitle(/gmnet docs/);
  await expect(page.locator(".VPHero .name")).toHaveText("gmnet");
  // The navigation bar, and a sidebar entry for every page (the sidebar is a drawer on narrow screens).
  await expect(page.locator(".VPNavBar").getByRole("link", { name: "API reference" })).toBeVisible();
  await page.goto("/docs/NETWORK");
  const sidebar = page.locator(".VPSidebar");
  for (const name of PAGES) await expect(sidebar.locator(`a[href="/docs/${name}"]`), name).toHaveCount(1);

  await page.goto("/docs/index.html");
  const images = page.locator(".vp-doc img");
  await expect(images).toHaveCount(2);
  for (const image of await images.all()) {
    await image.scrollIntoViewIfNeeded();
    await expect.poll(() => image.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth), { message: await image.getAttribute("src") ?? "" }).toBeGreaterThan(0);
  }
  await screenshot(page, testInfo, "docs-index", true);
});

test("the local search finds a word of any page and opens it there", async ({ docs: page }, testInfo) => {
  await page.goto("/docs/");
  await page.locator(".VPNavBarSearch button").click();
  const input = page.locator("#localsearch-input");
  await expect(input).toBeFocused();
  await input.fill("heartbeat");
  const hit = page.locator(".VPLocalSearchBox .results a.result").filter({ hasText: /session/i }).first();
  await expect(hit).toBeVisible();
  await expect(hit).toHaveAttribute("href", /^\/docs\/PROTOCOL#/);
  await screenshot(page, testInfo, "docs-search");
  await hit.click();
  await expect(page).toHaveURL(/\/docs\/PROTOCOL#/);
  await expect(page.locator("h1")).toHaveText(/gmnet wire protocol/);
  await expect(page.locator(".VPLocalSearchBox")).toHaveCount(0);
});

test("a table renders as a table, and a function's anchor opens at its row", async ({ docs: page }, testInfo) => {
  await page.goto("/docs/NETWORK#network_send_packet");
  const table = page.locator(".vp-doc table").filter({ has: page.locator("th", { hasText: /^function$/ }) }).first();
  await expect(table.locator("th")).toHaveText(["function", "returns", "notes"]);
  expect(await table.locator("tbody tr").count()).toBeGreaterThan(10);
  const anchor = page.locator("code#network_send_packet");
  await expect(anchor).toHaveText(/^network_send_packet\(socket, buffer, size\)$/);
  // The anchor is the code span in the row's first cell, and the page opened there.
  await expect(anchor.locator("xpath=ancestor::td[1]")).toHaveCount(1);
  await expect(anchor).toBeInViewport();
  expect(await anchor.evaluate((element) => element.matches(":target"))).toBe(true);
  await screenshot(page, testInfo, "docs-table");
});

test("the link to PROTOCOL.md opens the protocol as a page, and its contents link to its sections", async ({ docs: page }) => {
  await page.goto("/docs/ERRORS");
  const link = page.locator(".vp-doc a", { hasText: /^PROTOCOL\.md$/ }).first();
  await expect(link).toHaveAttribute("href", "./PROTOCOL");
  await link.click();
  await expect(page).toHaveURL(/\/docs\/PROTOCOL$/);
  await expect(page.locator("h1")).toHaveText(/gmnet wire protocol, version 1/);
  // Its table of contents links to its numbered sections with GitHub's anchors.
  await page.locator(".vp-doc a[href='#10-error-codes']").first().click();
  await expect(page).toHaveURL(/\/docs\/PROTOCOL#10-error-codes$/);
  await expect(page.locator('h2[id="10-error-codes"]')).toBeInViewport();
  // A source file it names is text here, not a link into nowhere.
  await expect(page.locator(".vp-doc .repo-path").first()).toHaveAttribute("title", /\.ts in the gmnet repository$/);
});

test("the old Markdown URLs, /docs/index.html and the repository's image paths reach the site", async ({ request }) => {
  for (const [path, url, type] of [
    ["/docs/NETWORK.md", /\/docs\/NETWORK$/, /^text\/html/],
    ["/docs/index.html", /\/docs\/index\.html$/, /^text\/html/],
    ["/docs", /\/docs\/$/, /^text\/html/],
    ["/docs/PROTOCOL.html", /\/docs\/PROTOCOL\.html$/, /^text\/html/],
    ["/docs/images/demo.png", /\/docs\/images\/demo\.png$/, /^image\/png$/],
  ] as const) {
    const response = await request.get(path);
    expect(response.status(), path).toBe(200);
    expect(response.url(), path).toMatch(url);
    expect(response.headers()["content-type"], path).toMatch(type);
  }
});

test("the API reference lists every function the engine exports, each linked to an anchor that exists", async ({ docs: page, request }, testInfo) => {
  expect(FUNCTIONS.length).toBeGreaterThan(100);
  await page.goto("/docs/api");
  await expect(page.locator("h1")).toHaveText(/API reference/);
  const links = await page.locator(".vp-doc table tbody tr td:first-child a").evaluateAll((anchors) =>
    anchors.map((anchor) => ({ text: anchor.textContent ?? "", href: (anchor as HTMLAnchorElement).href })),
  );
  const listed = links.map((link) => /^[a-z0-9_]+/.exec(link.text)?.[0]);
  expect([...listed].sort()).toEqual([...FUNCTIONS].sort());
  // Grouped by family, in the reference's order.
  await expect(page.locator(".vp-doc h2")).toHaveText(["buffer_*", "network_*", "http_*", "master_*", "ds_*", "show_*", "async_event_*"].map((family) => new RegExp(`^${family.replace("*", "\\*")}`)));

  // Every link names its function's anchor, and that anchor is on the page it points to.
  const pages = new Map<string, string>();
  for (const { text, href } of links) {
    const url = new URL(href);
    const name = /^[a-z0-9_]+/.exec(text)?.[0];
    expect(url.hash, text).toBe(`#${name}`);
    if (!pages.has(url.pathname)) {
      const response = await request.get(url.pathname);
      expect(response.status(), url.pathname).toBe(200);
      pages.set(url.pathname, await response.text());
    }
    expect(pages.get(url.pathname), `${text} → ${href}`).toContain(`id="${name}"`);
  }
  await screenshot(page, testInfo, "docs-api");

  // And following one lands on its row.
  await page.locator(".vp-doc a", { hasText: /^buffer_md5/ }).click();
  await expect(page).toHaveURL(/\/docs\/BUFFERS#buffer_md5$/);
  await expect(page.locator("code#buffer_md5")).toBeInViewport();
});
