/**
 * The `playground` fixture: a page on the built playground, with `globalThis.gmnet` loaded, that
 * fails its test if the page throws an uncaught error or logs one with console.error.
 */
import { type Page, expect, test as base } from "@playwright/test";

/** Waits for playground/src/buffers/main.ts to have run (it sets globalThis.gmnet), e.g. after a reload. */
export async function playgroundReady(page: Page): Promise<void> {
  await page.waitForFunction(() => globalThis.gmnet !== undefined);
}

export const test = base.extend<{ playground: Page }>({
  playground: async ({ page, baseURL }, use) => {
    if (baseURL === undefined) {
      throw new Error("no baseURL: run the tests with --config e2e/playwright.config.ts, whose global setup starts the server");
    }
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`uncaught ${error.name}: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console.error: ${message.text()}`);
    });
    await page.goto("/buffers.html");
    await playgroundReady(page);
    await use(page);
    expect(problems, "errors reported by the page").toEqual([]);
  },
});

export { expect };
