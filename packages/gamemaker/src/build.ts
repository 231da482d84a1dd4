/**
 * Builds the extension: the engine and the glue as one IIFE script (gmnet.js) for GameMaker's
 * HTML5 runner, and the `gmnet` command for Node (cli.js). Both go to `outDir`
 * (default packages/gamemaker/dist, never committed).
 *
 *   npm run build -w @gmnet/gamemaker
 */
import { fileURLToPath } from "node:url";
import { type InlineConfig, build } from "vite";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export const DEFAULT_OUT_DIR = here("../dist");
/** The extension script's file name, in dist and in the GameMaker project. */
export const EXTENSION_FILE = "gmnet.js";

const engineAlias = [
  { find: /^@gmnet\/engine$/, replacement: here("../../engine/src/index.ts") },
  { find: /^@gmnet\/protocol$/, replacement: here("../../protocol/src/index.ts") },
];

/** One vite library build into `outDir`: the engine (and its protocol) from their sources, nothing minified, dist kept. */
function buildInto(outDir: string, options: NonNullable<InlineConfig["build"]>): ReturnType<typeof build> {
  return build({
    configFile: false,
    logLevel: "warn",
    root: here(".."),
    resolve: { alias: engineAlias },
    build: { outDir, emptyOutDir: false, minify: false, ...options },
  });
}

/** Builds gmnet.js into `outDir`; returns its path. */
export async function buildExtension(outDir: string = DEFAULT_OUT_DIR): Promise<string> {
  await buildInto(outDir, {
    target: "es2020",
    lib: { entry: here("./extension.ts"), formats: ["iife"], name: "gmnet_extension", fileName: () => EXTENSION_FILE },
  });
  return `${outDir}/${EXTENSION_FILE}`;
}

/** Builds the command (cli.js, ESM for Node) into `outDir`. */
export async function buildCli(outDir: string = DEFAULT_OUT_DIR): Promise<string> {
  await buildInto(outDir, {
    ssr: here("./cli.ts"),
    target: "node20",
    rollupOptions: { output: { format: "es", entryFileNames: "cli.js" }, external: [/^node:/, "@bscotch/yy", "ws"] },
  });
  return `${outDir}/cli.js`;
}
