// Builds the docs site (VitePress; docs/.vitepress/config.ts) into a folder, for scripts/build.mjs
// and e2e/global-setup.ts:   node scripts/build-docs.mjs <outDir>
//
// The pages show docs/images/ as hashed assets; the folder is copied too, so /docs/images/demo.png
// (the path a file of the repository links) is there as well.
//
// VitePress bundles its server-side renderer into a temporary folder it deletes afterwards. That
// folder is under the repository (the bundle imports vue from node_modules), and by default the
// same one for every build: here each build gets its own, so two builds at once (npm start and the
// e2e tests) cannot delete each other's.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vitepress";

const outDir = process.argv[2];
if (outDir === undefined) {
  console.error("usage: node scripts/build-docs.mjs <outDir>");
  process.exit(2);
}
const root = fileURLToPath(new URL("../docs", import.meta.url));
const temps = fileURLToPath(new URL("../node_modules/.cache/vitepress-build/", import.meta.url));
mkdirSync(temps, { recursive: true });
const tempDir = mkdtempSync(temps);

try {
  await build(root, {
    outDir: resolve(outDir),
    onAfterConfigResolve(siteConfig) {
      siteConfig.tempDir = tempDir;
      siteConfig.logger.info = () => {};
    },
  });
  cpSync(fileURLToPath(new URL("../docs/images", import.meta.url)), resolve(outDir, "images"), { recursive: true });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  rmSync(tempDir, { recursive: true, force: true });
}
