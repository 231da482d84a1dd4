/** Driving the playground's script editor (CodeMirror) the way a user does: with the keyboard. */
import type { Page } from "@playwright/test";
import { expect } from "../fixtures.js";

/** Replaces the editor's script with `code` (select all, then insert: no auto-indent or bracket closing). */
export async function typeScript(page: Page, code: string): Promise<void> {
  const editor = page.getByTestId("editor-content");
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.press("Delete");
  await expect(editor).toHaveText("");
  await page.keyboard.insertText(code);
  await expect.poll(() => editor.evaluate((node) => (node as HTMLElement).innerText.replace(/\n+$/, ""))).toBe(code);
}
