/**
 * Driving the script playground (playground/index.html) through its UI, as the playground and
 * porting specs do: wait for the page, read the output console, run an example, stop a run.
 * Every wait is a condition (expect / expect.poll); nothing sleeps.
 */
import type { Page } from "@playwright/test";
import { expect } from "./network.js";

/** Goes to the playground (optionally at `#hash`) and waits until it is ready and idle. */
export async function gotoPlayground(page: Page, hash = ""): Promise<void> {
  await page.goto(`/${hash}`);
  await expect(page.locator("html")).toHaveAttribute("data-playground", "ready");
  await expect(page.getByTestId("run-state")).toHaveText("idle");
}

/** The texts of the output console's lines (without their time stamps), oldest first. */
export function consoleTexts(page: Page): Promise<string[]> {
  return page.getByTestId("console-line").evaluateAll((rows) => rows.map((row) => row.querySelector(".text")?.textContent ?? ""));
}

/** Waits until a console line matches `pattern`, and returns its match and its position in the console. */
export async function waitForLine(page: Page, pattern: RegExp, timeout = 10_000): Promise<RegExpMatchArray & { line: number }> {
  let found: (RegExpMatchArray & { line: number }) | undefined;
  await expect
    .poll(
      async () => {
        for (const [line, text] of (await consoleTexts(page)).entries()) {
          const match = pattern.exec(text);
          if (match !== null) {
            found = Object.assign(match, { line });
            return true;
          }
        }
        return false;
      },
      { message: `a console line matching ${pattern}`, timeout },
    )
    .toBe(true);
  return found!;
}

/** Picks the example `id` in the example list and runs it. */
export async function runExample(page: Page, id: string): Promise<void> {
  await page.getByTestId("example-select").selectOption(id);
  await expect(page.getByTestId("example-summary")).not.toBeEmpty();
  await page.getByTestId("run").click();
  await expect(page.getByTestId("run-state")).toHaveText("running");
}

/** Stops the run and returns the runner's "■ Stopped after …" line. */
export async function stop(page: Page): Promise<string> {
  await page.getByTestId("stop").click();
  await expect(page.getByTestId("run-state")).toHaveText("idle");
  return (await waitForLine(page, /^■ Stopped after [\d.]+ s.*$/))[0];
}
