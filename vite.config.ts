/**
 * One Vite config for the repository: it serves and builds the playground (root: playground/)
 * and configures Vitest for the unit and integration tests of every package.
 * In-repo imports of @gmnet/engine resolve to its TypeScript sources, so neither the dev server
 * nor the tests need a build first.
 */
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

const fromRoot = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * The reference docs (docs/*.md) go into the build as /docs/*.md, so the playground's Docs menu
 * works wherever the build is served; the Vite dev server answers them from docs/ directly.
 */
function referenceDocs(): Plugin {
  const dir = fromRoot("./docs");
  const names = (): string[] => readdirSync(dir).filter((name) => name.endsWith(".md"));
  return {
    name: "gmnet-reference-docs",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = /^\/docs\/([A-Z_]+\.md)$/.exec(req.url ?? "")?.[1];
        if (name === undefined || !names().includes(name)) return next();
        res.setHeader("content-type", "text/plain; charset=utf-8");
        res.end(readFileSync(`${dir}/${name}`));
      });
    },
    generateBundle() {
      for (const name of names()) this.emitFile({ type: "asset", fileName: `docs/${name}`, source: readFileSync(`${dir}/${name}`) });
    },
  };
}

export default defineConfig({
  root: fromRoot("./playground"),
  plugins: [referenceDocs()],
  resolve: {
    alias: [
      { find: /^@gmnet\/engine$/, replacement: fromRoot("./packages/engine/src/index.ts") },
      { find: /^@gmnet\/engine\/globals$/, replacement: fromRoot("./packages/engine/src/globals.ts") },
      { find: /^@gmnet\/engine\/protocol$/, replacement: fromRoot("./packages/engine/src/protocol/index.ts") },
      { find: /^@gmnet\/engine\/debug$/, replacement: fromRoot("./packages/engine/src/debug/index.ts") },
    ],
  },
  build: {
    outDir: fromRoot("./playground/dist"),
    emptyOutDir: true,
    // Three pages: the script playground, the two-tab demo game, and the buffer inspector.
    rollupOptions: {
      output: {
        // The editor and the plots in chunks of their own: they change far less often than the
        // playground's code, so browsers keep them cached across releases.
        manualChunks(id) {
          if (/node_modules\/(@codemirror|@lezer|crelt|style-mod|w3c-keyname)\//.test(id)) return "codemirror";
          if (id.includes("node_modules/uplot/")) return "uplot";
          return undefined;
        },
      },
      input: {
        playground: fromRoot("./playground/index.html"),
        demo: fromRoot("./playground/demo.html"),
        buffers: fromRoot("./playground/buffers.html"),
      },
    },
  },
  test: {
    root: fromRoot("."),
    include: ["packages/*/test/**/*.test.ts", "signaling-server/test/**/*.test.ts", "playground/test/**/*.test.ts"],
    // Network tests wait for real WebSocket and WebRTC events; each wait has its own, shorter deadline.
    testTimeout: 20_000,
  },
});
