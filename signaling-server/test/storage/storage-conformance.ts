/**
 * What every Storage implementation must do (src/storage/storage.ts), as one suite run against each
 * backend: sqlite-storage.test.ts (a temp file and :memory:) and postgres-storage.test.ts (a private
 * PostgreSQL). The expectations follow what the server has always done on SQLite.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseVirtualNetwork } from "../../src/services/virtual-network.js";
import { LATEST_VERSION } from "../../src/storage/migrations.js";
import { type Storage, type StorageOptions, TOKEN_FORMAT, hashToken } from "../../src/storage/storage.js";

/** A fresh, empty database of one backend. */
export interface StorageTarget {
  /** Opens a storage on the database (again: a second connection, or a restart, when `reopenable`). */
  open(options: StorageOptions): Promise<Storage>;
  /** False for :memory:, where every open is another database. */
  readonly reopenable: boolean;
}

export type StorageFactory = () => Promise<StorageTarget>;

/** mulberry32: a seeded uniform random in [0, 1), so two storages can draw the same addresses. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOW = 1_700_000_000_000;

export function storageConformance(name: string, factory: StorageFactory): void {
  describe(`Storage conformance: ${name}`, () => {
    const opened: Storage[] = [];
    afterEach(async () => {
      for (const storage of opened.splice(0).reverse()) await storage.close();
    });

    async function setup(options: Partial<StorageOptions> = {}) {
      const target = await factory();
      const full: StorageOptions = { network: parseVirtualNetwork("10.0.0.0/8"), random: Math.random, ...options };
      const open = async (more: Partial<StorageOptions> = {}): Promise<Storage> => {
        const storage = await target.open({ ...full, ...more });
        opened.push(storage);
        return storage;
      };
      return { target, open, storage: await open() };
    }

    describe("migrations", () => {
      it("brings a new database to the latest schema version, and opening it again applies nothing twice", async () => {
        const { target, storage, open } = await setup();
        expect(await storage.schemaVersion()).toBe(LATEST_VERSION);
        if (!target.reopenable) return;
        await storage.accounts.create("app", "kept", null, NOW);
        const again = await open();
        expect(await again.schemaVersion()).toBe(LATEST_VERSION);
        expect(await again.accounts.findByName("app", "kept")).toMatchObject({ username: "kept" });
      });
    });

    describe("identities", () => {
      it("gives a secret the same identity and virtual IP every time, per app key", async () => {
        const { storage } = await setup();
        const network = parseVirtualNetwork("10.0.0.0/8");
        const a = await storage.identities.identify("app", "secret-a");
        const b = await storage.identities.identify("app", "secret-b");
        expect(await storage.identities.identify("app", "secret-a")).toEqual(a);
        expect(b.identityId).not.toBe(a.identityId);
        expect(b.virtualIp).not.toBe(a.virtualIp);
        for (const identity of [a, b]) expect(network.contains(identity.virtualIp)).toBe(true);
        const elsewhere = await storage.identities.identify("other", "secret-a");
        expect(elsewhere.identityId).not.toBe(a.identityId);
        expect(elsewhere.virtualIp).not.toBe(a.virtualIp);
      });

      it("keeps accounts' and services' identities apart from clients' and from each other", async () => {
        const { storage } = await setup();
        const account = await storage.identities.accountIdentity("app", 7);
        expect(await storage.identities.accountIdentity("app", 7)).toEqual(account);
        const service = await storage.identities.serviceIdentity("app", "bridge:6510");
        expect(await storage.identities.serviceIdentity("app", "bridge:6510")).toEqual(service);
        // A client whose secret is the text of those keys is someone else.
        const client1 = await storage.identities.identify("app", "account:7");
        const client2 = await storage.identities.identify("app", "service:bridge:6510");
        const ips = new Set([account, service, client1, client2].map((identity) => identity.virtualIp));
        expect(ips.size).toBe(4);
        expect((await storage.identities.accountIdentity("other", 7)).virtualIp).not.toBe(account.virtualIp);
      });

      it("fills a crowded range (probes, then the highest plus one, then the lowest gap) and refuses when it is full", async () => {
        const network = parseVirtualNetwork("10.1.2.0/29"); // 6 addresses
        // Every probe draws the last address.
        const { storage } = await setup({ network, random: () => (network.size - 1) / network.size });
        const ips: number[] = [];
        for (let i = 0; i < network.size; i++) ips.push((await storage.identities.identify("app", `s${i}`)).virtualIp);
        expect(ips).toEqual([network.last, network.first, network.first + 1, network.first + 2, network.first + 3, network.first + 4]);
        await expect(storage.identities.identify("app", "one too many")).rejects.toThrow(/no free address/);
        // Known identities still resolve.
        expect((await storage.identities.identify("app", "s0")).virtualIp).toBe(network.last);
      });

      it("hands out unique addresses to many identifications at once", async () => {
        const network = parseVirtualNetwork("10.9.0.0/24"); // 254 addresses
        const { storage } = await setup({ network, random: seededRandom(1) });
        const identities = await Promise.all(Array.from({ length: 200 }, (_, i) => storage.identities.identify("app", `secret-${i}`)));
        expect(new Set(identities.map((identity) => identity.virtualIp)).size).toBe(200);
        expect(new Set(identities.map((identity) => identity.identityId)).size).toBe(200);
        // And the same secret identified concurrently is one identity.
        const same = await Promise.all(Array.from({ length: 10 }, () => storage.identities.identify("app", "together")));
        expect(new Set(same.map((identity) => identity.identityId)).size).toBe(1);
      });

      it("keeps identities across a close and a reopen", async () => {
        const { target, storage, open } = await setup();
        if (!target.reopenable) return;
        const a = await storage.identities.identify("app", "durable");
        const account = await storage.identities.accountIdentity("app", 3);
        await storage.close();
        const reopened = await open();
        expect(await reopened.identities.identify("app", "durable")).toEqual(a);
        expect(await reopened.identities.accountIdentity("app", 3)).toEqual(account);
      });
    });

    describe("accounts", () => {
      it("creates accounts with names unique per app key in any case, and finds them by name and id", async () => {
        const { storage } = await setup();
        const alice = await storage.accounts.create("app", "Alice", "hash-1", NOW);
        expect(alice).toEqual({ id: expect.any(Number), appKey: "app", username: "Alice", passwordHash: "hash-1", guest: false, createdAt: NOW });
        expect(await storage.accounts.create("app", "ALICE", "hash-2", NOW)).toBeUndefined();
        const elsewhere = await storage.accounts.create("other", "alice", "hash-3", NOW + 1);
        expect(elsewhere?.id).not.toBe(alice!.id);
        expect(await storage.accounts.findByName("app", "aLiCe")).toEqual(alice);
        expect(await storage.accounts.findById(alice!.id)).toEqual(alice);
        expect(await storage.accounts.findByName("app", "bob")).toBeUndefined();
        expect(await storage.accounts.findById(999_999)).toBeUndefined();
        await storage.accounts.recordLogin(alice!.id, NOW + 5);
        expect(await storage.accounts.findById(alice!.id)).toEqual(alice);
      });

      it("creates guests without a password hash, with ever-growing ids", async () => {
        const { storage } = await setup();
        const first = await storage.accounts.create("app", "guest-1", null, NOW);
        const second = await storage.accounts.create("app", "guest-2", null, NOW);
        expect(first).toMatchObject({ passwordHash: null, guest: true });
        expect(second!.id).toBeGreaterThan(first!.id);
      });

      it("lets exactly one of many concurrent registrations of a name succeed", async () => {
        const { storage } = await setup();
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => storage.accounts.create("app", i % 2 === 0 ? "Racer" : "racer", `h${i}`, NOW)));
        expect(results.filter((account) => account !== undefined)).toHaveLength(1);
      });
    });

    describe("session tokens", () => {
      it("issues 43-character base64url tokens, stored only as their SHA-256", async () => {
        const { storage } = await setup();
        const issued = await storage.tokens.issue("app", 7, NOW, 60_000);
        expect(issued.token).toMatch(TOKEN_FORMAT);
        expect(issued.tokenHash).toBe(hashToken(issued.token));
        expect(issued.expiresAt).toBe(NOW + 60_000);
        const other = await storage.tokens.issue("app", 7, NOW, 60_000);
        expect(other.token).not.toBe(issued.token);
      });

      it("checks a token: its account until expiry, then token_expired; token_invalid elsewhere, revoked, unknown or malformed", async () => {
        const { storage } = await setup();
        const issued = await storage.tokens.issue("app", 7, NOW, 60_000);
        expect(await storage.tokens.check("app", issued.token, NOW)).toEqual({ accountId: 7, tokenHash: issued.tokenHash, expiresAt: NOW + 60_000 });
        expect(await storage.tokens.check("app", issued.token, NOW + 59_999)).toMatchObject({ accountId: 7 });
        expect(await storage.tokens.check("app", issued.token, NOW + 60_000)).toEqual({ problem: "token_expired" });
        expect(await storage.tokens.check("other", issued.token, NOW)).toEqual({ problem: "token_invalid" });
        expect(await storage.tokens.check("app", "A".repeat(43), NOW)).toEqual({ problem: "token_invalid" });
        for (const malformed of ["", "short", `${issued.token}x`, "x".repeat(256)]) expect(await storage.tokens.check("app", malformed, NOW)).toEqual({ problem: "token_invalid" });
        await storage.tokens.revoke(issued.tokenHash);
        expect(await storage.tokens.check("app", issued.token, NOW)).toEqual({ problem: "token_invalid" });
        await storage.tokens.revoke("0".repeat(64)); // unknown: nothing happens
      });

      it("sweeps expired and revoked rows, after which they read as never issued", async () => {
        const { storage } = await setup();
        const expired = await storage.tokens.issue("app", 1, NOW, 1000);
        const revoked = await storage.tokens.issue("app", 2, NOW, 60_000);
        const kept = await storage.tokens.issue("app", 3, NOW, 60_000);
        await storage.tokens.revoke(revoked.tokenHash);
        expect(await storage.tokens.sweep(NOW + 1000)).toBe(2);
        expect(await storage.tokens.sweep(NOW + 1000)).toBe(0);
        expect(await storage.tokens.check("app", expired.token, NOW)).toEqual({ problem: "token_invalid" });
        expect(await storage.tokens.check("app", kept.token, NOW + 1000)).toMatchObject({ accountId: 3 });
      });
    });

    describe("characters", () => {
      it("creates, lists (oldest first), selects one at a time, deselects and deletes an account's characters", async () => {
        const { storage } = await setup();
        const created = await storage.characters.create("app", 1, "Hero", '{"level":3,"tags":["a"]}', NOW, 8);
        expect(created).toEqual({ character: { id: expect.any(Number), accountId: 1, name: "Hero", attributes: { level: 3, tags: ["a"] }, selected: false, createdAt: NOW } });
        const hero = "character" in created ? created.character : undefined;
        const mage = await storage.characters.create("app", 1, "Mage", "{}", NOW + 1, 8);
        const mageId = "character" in mage ? mage.character.id : -1;
        expect((await storage.characters.list(1)).map((character) => character.name)).toEqual(["Hero", "Mage"]);
        expect(await storage.characters.selected(1)).toBeUndefined();

        expect(await storage.characters.select(1, hero!.id)).toMatchObject({ id: hero!.id, selected: true });
        expect(await storage.characters.selected(1)).toEqual({ id: hero!.id, name: "Hero" });
        await storage.characters.select(1, mageId);
        expect(await storage.characters.selected(1)).toEqual({ id: mageId, name: "Mage" });
        expect((await storage.characters.list(1)).map((character) => character.selected)).toEqual([false, true]);
        await storage.characters.deselect(1);
        expect(await storage.characters.selected(1)).toBeUndefined();

        expect(await storage.characters.delete(1, hero!.id)).toBe(true);
        expect(await storage.characters.delete(1, hero!.id)).toBe(false);
        expect((await storage.characters.list(1)).map((character) => character.name)).toEqual(["Mage"]);
        // A deleted character's id is never given to another.
        const next = await storage.characters.create("app", 1, "Rogue", "{}", NOW, 8);
        expect("character" in next && next.character.id).toBeGreaterThan(mageId);
      });

      it("keeps names unique per app key in any case, and counts only the account's own characters", async () => {
        const { storage } = await setup();
        expect(await storage.characters.create("app", 1, "Zed", "{}", NOW, 2)).toHaveProperty("character");
        expect(await storage.characters.create("app", 2, "ZED", "{}", NOW, 2)).toEqual({ problem: "name_taken" });
        expect(await storage.characters.create("other", 2, "zed", "{}", NOW, 2)).toHaveProperty("character");
        expect(await storage.characters.create("app", 1, "Two", "{}", NOW, 2)).toHaveProperty("character");
        expect(await storage.characters.create("app", 1, "Three", "{}", NOW, 2)).toEqual({ problem: "too_many" });
        expect(await storage.characters.create("app", 3, "Three", "{}", NOW, 2)).toHaveProperty("character");
      });

      it("does not let one account select or delete another's character", async () => {
        const { storage } = await setup();
        const mine = await storage.characters.create("app", 1, "Mine", "{}", NOW, 8);
        const id = "character" in mine ? mine.character.id : -1;
        expect(await storage.characters.select(2, id)).toBeUndefined();
        expect(await storage.characters.delete(2, id)).toBe(false);
        expect(await storage.characters.selected(2)).toBeUndefined();
        expect(await storage.characters.list(1)).toHaveLength(1);
      });

      it("holds the limit and the single selection under concurrent calls", async () => {
        const { storage } = await setup();
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => storage.characters.create("app", 5, `C${i}`, "{}", NOW, 4)));
        expect(results.filter((result) => "character" in result)).toHaveLength(4);
        const ids = (await storage.characters.list(5)).map((character) => character.id);
        await Promise.all(ids.flatMap((id) => [storage.characters.select(5, id), storage.characters.select(5, id)]));
        expect((await storage.characters.list(5)).filter((character) => character.selected)).toHaveLength(1);
      });
    });

    describe("world documents", () => {
      it("creates at version 1, writes over the version read, and answers a stale write with the current version", async () => {
        const { storage } = await setup();
        expect(await storage.world.get("app", "config")).toBeUndefined();
        const created = await storage.world.write("app", "config", '{"speed":1}', 0, NOW, "admin", 32);
        expect(created).toEqual({ document: { name: "config", value: { speed: 1 }, version: 1, updatedAt: NOW, updatedBy: "admin" } });
        expect(await storage.world.write("app", "config", '{"speed":2}', 0, NOW, "admin", 32)).toEqual({ problem: "conflict", version: 1 });
        expect(await storage.world.write("app", "missing", "{}", 3, NOW, "admin", 32)).toEqual({ problem: "conflict", version: 0 });
        const second = await storage.world.write("app", "config", '{"speed":2}', 1, NOW + 1, "root", 32);
        expect(second).toEqual({ document: { name: "config", value: { speed: 2 }, version: 2, updatedAt: NOW + 1, updatedBy: "root" } });
        expect(await storage.world.get("app", "config")).toEqual("document" in second ? second.document : undefined);
        expect(await storage.world.get("other", "config")).toBeUndefined();
      });

      it("lists an app key's documents by name in code point order, and limits how many it may create", async () => {
        const { storage } = await setup();
        for (const name of ["b", "Z", "a", "_x", "B"]) expect(await storage.world.write("app", name, `{"n":"${name}"}`, 0, NOW, "admin", 5)).toHaveProperty("document");
        await storage.world.write("other", "c", "{}", 0, NOW, "admin", 5);
        expect((await storage.world.list("app")).map((document) => document.name)).toEqual(["B", "Z", "_x", "a", "b"]);
        expect(await storage.world.write("app", "sixth", "{}", 0, NOW, "admin", 5)).toEqual({ problem: "too_many" });
        // Updating an existing document is not creating one.
        expect(await storage.world.write("app", "a", "{}", 1, NOW, "admin", 5)).toHaveProperty("document.version", 2);
      });

      it("lets exactly one of many concurrent writers of the same version succeed", async () => {
        const { storage } = await setup();
        await storage.world.write("app", "race", "{}", 0, NOW, "admin", 32);
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => storage.world.write("app", "race", `{"i":${i}}`, 1, NOW, `w${i}`, 32)));
        expect(results.filter((result) => "document" in result)).toHaveLength(1);
        expect(results.filter((result) => "problem" in result && result.problem === "conflict")).toHaveLength(9);
        expect(await storage.world.get("app", "race")).toHaveProperty("version", 2);
      });
    });
  });
}
