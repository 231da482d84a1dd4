/**
 * The PostgreSQL storage against a private server (support/private-postgres.ts, started for this
 * file and stopped after it): the conformance suite, one fresh database per test, then what only a
 * shared database has to survive: storages in several processes (here: pools) racing.
 */
import { describe, expect, it } from "vitest";
import { parseVirtualNetwork } from "../../src/services/virtual-network.js";
import { LATEST_VERSION, MIGRATIONS } from "../../src/storage/migrations.js";
import { isPostgresUrl, openPostgresStorage } from "../../src/storage/postgres-storage.js";
import type { Storage } from "../../src/storage/storage.js";
import { queryOnce } from "../support/private-postgres.js";
import { usePrivatePostgres } from "../support/test-postgres.js";
import { seededRandom, storageConformance } from "./storage-conformance.js";

const postgres = usePrivatePostgres("gmnet_test");
const network = parseVirtualNetwork("10.0.0.0/8");

storageConformance("PostgreSQL", async () => {
  const url = await postgres.freshDatabase();
  return { open: (options) => openPostgresStorage({ url, ...options }), reopenable: true };
});

describe("PostgreSQL storage", () => {
  it("runs on a private server on a free port, never the default one", () => {
    expect(postgres.server.port).not.toBe(5432);
    expect(postgres.server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  });

  it("two pools racing to allocate 1 000 identities in a nearly full range give no address twice", async () => {
    const url = await postgres.freshDatabase();
    // 1 022 addresses for 1 000 identities, and both storages draw the same "random" addresses.
    const nearlyFull = parseVirtualNetwork("10.5.0.0/22");
    const storages: Storage[] = await Promise.all([1, 2].map(() => openPostgresStorage({ url, network: nearlyFull, random: seededRandom(42), maxConnections: 8 })));
    try {
      const identities = await Promise.all(Array.from({ length: 1000 }, (_, i) => storages[i % 2]!.identities.identify("app", `secret-${i}`)));
      expect(new Set(identities.map((identity) => identity.virtualIp)).size).toBe(1000);
      for (const identity of identities) expect(nearlyFull.contains(identity.virtualIp)).toBe(true);
      // Each secret got one identity, whichever storage asks.
      const again = await Promise.all(Array.from({ length: 1000 }, (_, i) => storages[(i + 1) % 2]!.identities.identify("app", `secret-${i}`)));
      expect(again).toEqual(identities);
      expect(await queryOnce(url, "SELECT COUNT(*) AS n, COUNT(DISTINCT virtual_ip) AS ips FROM identities")).toEqual([{ n: "1000", ips: "1000" }]);
    } finally {
      await Promise.all(storages.map((storage) => storage.close()));
    }
  });

  it("the same secret identified through two pools at once is one identity", async () => {
    const url = await postgres.freshDatabase();
    const [a, b] = await Promise.all([1, 2].map(() => openPostgresStorage({ url, network, random: Math.random })));
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a! : b!).identities.identify("app", `shared-${i % 4}`)));
      for (let i = 0; i < 4; i++) expect(new Set(results.filter((_, j) => j % 4 === i).map((identity) => JSON.stringify(identity))).size).toBe(1);
      expect(new Set(results.map((identity) => identity.virtualIp)).size).toBe(4);
    } finally {
      await a!.close();
      await b!.close();
    }
  });

  it("applies the migrations once when several processes start together, each recorded with its version", async () => {
    const url = await postgres.freshDatabase();
    const storages = await Promise.all([1, 2, 3, 4].map(() => openPostgresStorage({ url, network, random: Math.random, maxConnections: 2 })));
    try {
      for (const storage of storages) expect(await storage.schemaVersion()).toBe(LATEST_VERSION);
      expect(await queryOnce(url, "SELECT version, name FROM schema_migrations ORDER BY version")).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
    } finally {
      await Promise.all(storages.map((storage) => storage.close()));
    }
  });

  it("refuses a database a newer gmnet-server migrated: E_SCHEMA_TOO_NEW, nothing applied", async () => {
    const url = await postgres.freshDatabase();
    await (await openPostgresStorage({ url, network, random: Math.random })).close();
    // What a later release would have recorded: one version past the last this code knows.
    await queryOnce(url, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [MIGRATIONS.length + 1, "from-the-future", 1]);
    await expect(openPostgresStorage({ url, network, random: Math.random })).rejects.toMatchObject({ code: "E_SCHEMA_TOO_NEW", databaseVersion: MIGRATIONS.length + 1 });
    const rows = await queryOnce<{ count: string }>(url, "SELECT COUNT(*) AS count FROM schema_migrations");
    expect(Number(rows[0]!.count)).toBe(MIGRATIONS.length + 1);
  });

  it("world writes and character limits hold across pools", async () => {
    const url = await postgres.freshDatabase();
    const [a, b] = await Promise.all([1, 2].map(() => openPostgresStorage({ url, network, random: Math.random })));
    try {
      await a!.world.write("app", "doc", "{}", 0, 1, "admin", 32);
      const writes = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a! : b!).world.write("app", "doc", `{"i":${i}}`, 1, 2, "admin", 32)));
      expect(writes.filter((result) => "document" in result)).toHaveLength(1);
      const creates = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a! : b!).world.write("app", `new-${i}`, "{}", 0, 2, "admin", 5)));
      expect(creates.filter((result) => "document" in result)).toHaveLength(4); // 5 at most, "doc" is one
      const characters = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a! : b!).characters.create("app", 9, `c${i}`, "{}", 1, 3)));
      expect(characters.filter((result) => "character" in result)).toHaveLength(3);
    } finally {
      await a!.close();
      await b!.close();
    }
  });

  it("takes only postgres:// and postgresql:// URLs", async () => {
    expect(isPostgresUrl("postgres://u@h/db")).toBe(true);
    expect(isPostgresUrl("postgresql://u@h:5433/db")).toBe(true);
    expect(isPostgresUrl("mysql://u@h/db")).toBe(false);
    await expect(openPostgresStorage({ url: "./data/gmnet.sqlite", network, random: Math.random })).rejects.toThrow(/postgres:\/\//);
  });
});
