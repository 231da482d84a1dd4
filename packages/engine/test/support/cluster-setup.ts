/**
 * Setup file of the "cluster" vitest project (vite.config.ts). Before the test file's hooks: starts
 * the process' private PostgreSQL, which every network of the file shares (one database each), so
 * initdb's seconds count against no test's or hook's time limit. After them (after hooks run in
 * reverse order, the file's own first): closes any network a test left open, then stops PostgreSQL.
 */
import { afterAll, beforeAll } from "vitest";
import { closeClusterServices, startSharedPostgres } from "./cluster-services.js";

beforeAll(async () => {
  await startSharedPostgres();
}, 120_000);

afterAll(closeClusterServices, 60_000);
