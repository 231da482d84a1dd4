/**
 * One Vite config for the repository: it serves and builds the playground (root: playground/)
 * and configures Vitest for the unit and integration tests of every package.
 * In-repo imports of @gmnet/protocol, @gmnet/engine and @gmnet/signaling-server resolve to their
 * TypeScript sources, so neither the dev server nor the tests need a build first.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const fromRoot = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * The engine's network and master integration suites, run a second time (vitest project "cluster")
 * against three nodes joined through Redis (GMNET_TEST_NODES=3, packages/engine/test/network/support.ts),
 * engines spread round-robin over the nodes (MCP clients talk to the first node, so their tools' engines
 * are mostly on the others).
 */
const CLUSTER_SUITES = [
  "packages/engine/test/network/{api-contract,channels,encryption,encryption-pair,lifecycle,mcp,node-listen,tcp,udp}.test.ts",
  "packages/engine/test/master/{accounts.integration,characters,nearby,rooms.integration,social.integration,timeout.integration,world}.test.ts",
];

export default defineConfig({
  root: fromRoot("./playground"),
  resolve: {
    alias: [
      { find: /^@gmnet\/protocol$/, replacement: fromRoot("./packages/protocol/src/index.ts") },
      { find: /^@gmnet\/engine$/, replacement: fromRoot("./packages/engine/src/index.ts") },
      { find: /^@gmnet\/engine\/globals$/, replacement: fromRoot("./packages/engine/src/globals.ts") },
      { find: /^@gmnet\/engine\/protocol$/, replacement: fromRoot("./packages/engine/src/protocol.ts") },
      { find: /^@gmnet\/engine\/debug$/, replacement: fromRoot("./packages/engine/src/debug/index.ts") },
      { find: /^@gmnet\/signaling-server$/, replacement: fromRoot("./signaling-server/src/index.ts") },
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
    // Network tests wait for real WebSocket and WebRTC events; each wait has its own, shorter deadline.
    testTimeout: 20_000,
    projects: [
      // A project extending this config gets its include lists concatenated with the root's, so
      // the root has none: every suite, one node each.
      {
        extends: true,
        test: {
          name: "default",
          include: ["packages/*/test/**/*.test.ts", "signaling-server/test/**/*.test.ts", "playground/test/**/*.test.ts", "docs/.vitepress/test/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "cluster",
          include: CLUSTER_SUITES,
          env: { GMNET_TEST_NODES: "3" },
          setupFiles: ["packages/engine/test/support/cluster-setup.ts"],
        },
      },
      // The same suites once more with durable sessions (--durable-sessions): every resumable
      // session's frames go through Redis, and nothing a game sees may change — except what
      // lifecycle.test.ts pins down, a stopping server's DRAIN, close 4000 and E_NETWORK_SHUTDOWN
      // events: a node with durable sessions hands them over instead (close 4008), which
      // cluster-durable.test.ts covers.
      {
        extends: true,
        test: {
          name: "durable",
          include: CLUSTER_SUITES,
          exclude: ["packages/engine/test/network/lifecycle.test.ts"],
          env: { GMNET_TEST_NODES: "3", GMNET_TEST_DURABLE: "1" },
          setupFiles: ["packages/engine/test/support/cluster-setup.ts"],
        },
      },
    ],
  },
});
