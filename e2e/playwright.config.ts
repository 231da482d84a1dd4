/**
 * Browser end-to-end tests of the playground, in Debian's Chromium (scripts/ensure-chromium.sh
 * installs it; Playwright's own browser downloads are never used).
 *
 * global-setup.ts builds the playground for production and starts the real signaling server on a
 * free port, serving that build beside /ws, /healthz, /metrics and /api (as `npm start` does); it
 * publishes the URL in GMNET_E2E_BASE_URL, which the workers (started after global setup, with its
 * environment) read below as `baseURL`.
 */
import { defineConfig } from "@playwright/test";
import { BASE_URL_ENV } from "./env.js";

export default defineConfig({
  testDir: "./tests",
  // Everything Playwright writes (traces, screenshots, error context) goes under e2e/artifacts/,
  // which is git-ignored and excluded from tsc.
  outputDir: "./artifacts/test-results",
  globalSetup: "./global-setup.ts",
  forbidOnly: true,
  retries: 0,
  workers: 2,
  fullyParallel: true,
  reporter: "list",
  timeout: 30_000,
  expect: { timeout: 5_000 },
  use: {
    baseURL: process.env[BASE_URL_ENV],
    browserName: "chromium",
    headless: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      // No --user-data-dir: browserType.launch() gives every browser a fresh temporary profile,
      // and every test gets its own browser context (own localStorage) within it.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        // WebRTC between two contexts of this browser on a machine that may have nothing but
        // loopback: Chromium gathers no loopback ICE candidates without this flag. The other half
        // (a media permission, so host candidates are not hidden behind mDNS names) is granted per
        // context by the tests that need P2P: see e2e/tests/network.spec.ts.
        "--allow-loopback-in-peer-connection",
      ],
    },
  },
});
