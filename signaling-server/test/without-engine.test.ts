/**
 * The server runs without the engine: its package depends on @gmnet/protocol for the wire
 * protocol, and the engine (simple-peer, pako, the hashes) only as a devDependency of its tests.
 * The lint configuration (eslint.config.js) keeps it so: every form of engine import in
 * signaling-server/src is refused, while the server's tests may still start engines.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const eslint = new ESLint({ cwd: repoRoot });

/** Whether the repository's lint configuration refuses `source` as an import, were it the file `path`. */
async function refused(source: string, path: string): Promise<boolean> {
  const [result] = await eslint.lintText(source, { filePath: `${repoRoot}${path}` });
  return result!.messages.some((message) => message.ruleId === "no-restricted-imports");
}

const ENGINE_IMPORTS = [
  'import { createEngine } from "@gmnet/engine";',
  'import type { Engine } from "@gmnet/engine";',
  'import { Channel } from "@gmnet/engine/protocol";',
  'import { createEngine } from "../../packages/engine/src/index.js";',
];

describe("the server without the engine", () => {
  it("depends on @gmnet/protocol at run time, and on @gmnet/engine only for its tests", () => {
    const manifest = JSON.parse(readFileSync(`${repoRoot}signaling-server/package.json`, "utf8")) as Record<string, Record<string, string>>;
    expect(Object.keys(manifest.dependencies!)).toContain("@gmnet/protocol");
    expect(Object.keys(manifest.dependencies!)).not.toContain("@gmnet/engine");
    expect(Object.keys(manifest.devDependencies!)).toContain("@gmnet/engine");
  });

  it("refuses every form of engine import in signaling-server/src", async () => {
    for (const source of ENGINE_IMPORTS) expect(await refused(source, "signaling-server/src/sample.ts"), source).toBe(true);
  });

  it("allows the protocol package there, and the engine in the server's tests", async () => {
    expect(await refused('import { Channel } from "@gmnet/protocol";', "signaling-server/src/sample.ts")).toBe(false);
    for (const source of ENGINE_IMPORTS) expect(await refused(source, "signaling-server/test/sample.test.ts"), source).toBe(false);
  });
});
