/**
 * docs/PORTING.md shows its complete example in full, and the playground runs the same script as
 * the "ported-chat" example (e2e/tests/porting.spec.ts runs it in one tab and in two). These tests
 * keep the two from drifting apart: the doc's block must be the example file, character for
 * character, and that file must be what the playground offers. They also check that the doc's
 * relative links lead to files and headings that exist.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { exampleById } from "../src/playground/examples/index.js";

const EXAMPLE_PATH = "playground/src/playground/examples/ported-chat.txt";
/** The comment that comes right before the example's code block in the doc. */
const MARKER = `<!-- example: ${EXAMPLE_PATH} -->`;

const repoPath = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const doc = readFileSync(repoPath("docs/PORTING.md"), "utf8");
const example = readFileSync(repoPath(EXAMPLE_PATH), "utf8");

/** The text of the ```js block right after the marker, up to (not including) its closing fence line. */
function exampleBlock(markdown: string): string {
  const start = markdown.indexOf(MARKER);
  if (start < 0) throw new Error(`docs/PORTING.md has no ${MARKER}`);
  if (markdown.indexOf(MARKER, start + 1) >= 0) throw new Error(`docs/PORTING.md has ${MARKER} twice`);
  const block = /^\n```js\n([\s\S]*?\n)```\n/.exec(markdown.slice(start + MARKER.length));
  if (block === null) throw new Error(`the line after ${MARKER} must open a \`\`\`js block that a \`\`\` line closes`);
  return block[1]!;
}

describe("docs/PORTING.md's example", () => {
  it("is the playground's ported-chat example file, character for character", () => {
    expect(example.length).toBeGreaterThan(1000);
    expect(exampleBlock(doc)).toBe(example);
  });

  it("is the script the playground offers as ported-chat", () => {
    expect(exampleById("ported-chat")?.code).toBe(example);
  });

  it("ends with a ✓ line carrying real values, as every example does", () => {
    expect(example).toMatch(/show_debug_message\("✓ [^"]*\{0\}/);
  });

  it("links only to files and headings that exist", () => {
    const links = [...doc.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!).filter((target) => !/^[a-z]+:/.test(target));
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) {
      const [file = "", anchor] = link.split("#");
      const text = file === "" ? doc : readFileSync(repoPath(`docs/${file}`), "utf8");
      if (anchor !== undefined) expect(headingSlugs(text), link).toContain(anchor);
    }
  });
});

/** GitHub's anchors for a markdown text's headings: lower case, punctuation dropped, spaces as hyphens. */
function headingSlugs(markdown: string): string[] {
  return [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((match) =>
    match[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replace(/ /g, "-"),
  );
}
