/**
 * Characters against the real server over real WebSockets and HTTP (PROTOCOL.md §16.9): create,
 * list, select and delete per account, names unique per app key, the limits on count and
 * attributes, another account's characters out of reach, and the selected character in the
 * Session, presence and chat.
 */
import { MasterStatus } from "@gmnet/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, configFromArgs, defaultConfig, validateConfig } from "../src/config.js";
import type { GmnetServer } from "../src/index.js";
import { FAST_HASHES, startServer } from "./support/harness.js";
import { type Json, MasterClient, MasterEvent, MasterOp, guests, uniqueAppKey } from "./support/master-client.js";

const MAX_CHARACTERS = 3;
const MAX_ATTRIBUTE_BYTES = 256;

let server: GmnetServer;
beforeAll(async () => {
  server = await startServer({ ...FAST_HASHES, maxCharactersPerAccount: MAX_CHARACTERS, characterAttributesMaxBytes: MAX_ATTRIBUTE_BYTES });
});
afterAll(() => server.close());

interface ApiOptions {
  body?: unknown;
  token?: string;
  appKey: string;
}

async function api(path: string, options: ApiOptions): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { "x-gmnet-app-key": options.appKey };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(server.address().url + path, { method: body === undefined ? "GET" : "POST", headers, body });
  const text = await response.text();
  return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Json) };
}

const character = (name: string, fields: Json = {}) => ({ characterId: expect.any(Number), name, attributes: {}, selected: false, createdAt: expect.any(Number), ...fields });

describe("master characters over the WebSocket", () => {
  it("creates, lists, selects and deletes the account's characters", async () => {
    const [ann] = await guests(server, uniqueAppKey("chars"), 1);
    expect(await ann!.must(MasterOp.CHARACTER_LIST)).toEqual({ selectedId: 0, characters: [] });

    const before = Date.now();
    const knight = await ann!.must(MasterOp.CHARACTER_CREATE, { name: "Sir Lancelot", attributes: { class: "knight", level: 3, stats: { str: 9 }, tags: ["brave"], title: null } });
    expect(knight).toEqual(character("Sir Lancelot", { attributes: { class: "knight", level: 3, stats: { str: 9 }, tags: ["brave"], title: null } }));
    expect(knight.createdAt as number).toBeGreaterThanOrEqual(before - 1000);
    const mage = await ann!.must(MasterOp.CHARACTER_CREATE, { name: "merlin" });
    expect(mage).toEqual(character("merlin"));
    expect(mage.characterId).not.toBe(knight.characterId);

    expect(await ann!.must(MasterOp.CHARACTER_LIST)).toEqual({ selectedId: 0, characters: [knight, mage] });

    expect(await ann!.must(MasterOp.CHARACTER_SELECT, { characterId: mage.characterId })).toEqual({ ...mage, selected: true });
    expect(await ann!.must(MasterOp.CHARACTER_LIST)).toEqual({ selectedId: mage.characterId, characters: [knight, { ...mage, selected: true }] });
    // Selecting another deselects the first.
    await ann!.must(MasterOp.CHARACTER_SELECT, { characterId: knight.characterId });
    expect(await ann!.must(MasterOp.CHARACTER_LIST)).toMatchObject({ selectedId: knight.characterId, characters: [{ selected: true }, { selected: false }] });
    // 0 selects none.
    expect(await ann!.must(MasterOp.CHARACTER_SELECT, { characterId: 0 })).toEqual({ characterId: 0 });
    expect((await ann!.must(MasterOp.CHARACTER_LIST)).selectedId).toBe(0);

    // Deleting the selected character leaves none selected; its id is gone for good.
    await ann!.must(MasterOp.CHARACTER_SELECT, { characterId: mage.characterId });
    expect(await ann!.must(MasterOp.CHARACTER_DELETE, { characterId: mage.characterId })).toEqual({ characterId: mage.characterId });
    expect(await ann!.must(MasterOp.CHARACTER_LIST)).toEqual({ selectedId: 0, characters: [knight] });
    for (const op of [MasterOp.CHARACTER_DELETE, MasterOp.CHARACTER_SELECT]) {
      expect(await ann!.request(op, { characterId: mage.characterId })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "character_not_found" } });
    }
    // The name is free again.
    await ann!.must(MasterOp.CHARACTER_CREATE, { name: "Merlin" });
    ann!.close();
  });

  it("keeps names unique per app key without case, across accounts, and separate between app keys", async () => {
    const appKey = uniqueAppKey("names");
    const [ann, bob] = await guests(server, appKey, 2);
    await ann!.must(MasterOp.CHARACTER_CREATE, { name: "Gandalf" });
    for (const [client, name] of [[bob!, "gandalf"], [ann!, "GANDALF"]] as const) {
      expect(await client.request(MasterOp.CHARACTER_CREATE, { name })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "character_name_taken" } });
    }
    expect(await bob!.must(MasterOp.CHARACTER_LIST)).toEqual({ selectedId: 0, characters: [] });
    const [other] = await guests(server, uniqueAppKey("names-other"), 1);
    expect(await other!.must(MasterOp.CHARACTER_CREATE, { name: "gandalf" })).toEqual(character("gandalf"));
    for (const client of [ann, bob, other]) client!.close();
  });

  it("refuses more than maxCharactersPerAccount characters, counting only the account's own", async () => {
    const [ann, bob] = await guests(server, uniqueAppKey("limit"), 2);
    const ids: number[] = [];
    for (let i = 0; i < MAX_CHARACTERS; i++) ids.push((await ann!.must(MasterOp.CHARACTER_CREATE, { name: `hero ${i}` })).characterId as number);
    expect(await ann!.request(MasterOp.CHARACTER_CREATE, { name: "one too many" })).toMatchObject({ status: MasterStatus.FAILED, body: { error: "too_many_characters" } });
    // The count is checked first: a taken name at the limit is still "too many".
    expect(await ann!.request(MasterOp.CHARACTER_CREATE, { name: "hero 0" })).toMatchObject({ body: { error: "too_many_characters" } });
    await bob!.must(MasterOp.CHARACTER_CREATE, { name: "bobs hero" });
    await ann!.must(MasterOp.CHARACTER_DELETE, { characterId: ids[0]! });
    await ann!.must(MasterOp.CHARACTER_CREATE, { name: "one more" });
    expect((await ann!.must(MasterOp.CHARACTER_LIST)).characters).toHaveLength(MAX_CHARACTERS);
    ann!.close();
    bob!.close();
  });

  it("answers invalid_body for bad names, attributes and ids, creating nothing", async () => {
    const [ann] = await guests(server, uniqueAppKey("invalid"), 1);
    const deep = (levels: number): Json => (levels <= 1 ? { leaf: 1 } : { next: deep(levels - 1) });
    const bad: Json[] = [
      {},
      { name: "ab" },
      { name: "x".repeat(25) },
      { name: " lead" },
      { name: "two  spaces" },
      { name: "emoji 🙂" },
      { name: 42 },
      { name: "Valid", attributes: [1, 2] },
      { name: "Valid", attributes: "text" },
      { name: "Valid", attributes: null },
      { name: "Valid", attributes: { blob: "x".repeat(MAX_ATTRIBUTE_BYTES) } },
      { name: "Valid", attributes: deep(9) },
      { name: "Valid", extra: true },
    ];
    for (const body of bad) {
      expect(await ann!.request(MasterOp.CHARACTER_CREATE, body), JSON.stringify(body).slice(0, 80)).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    }
    // At the limits: 8 levels, and exactly the byte limit as JSON text.
    await ann!.must(MasterOp.CHARACTER_CREATE, { name: "deep", attributes: deep(8) });
    const filler = "x".repeat(MAX_ATTRIBUTE_BYTES - JSON.stringify({ blob: "" }).length);
    await ann!.must(MasterOp.CHARACTER_CREATE, { name: "full", attributes: { blob: filler } });
    const multibyte = { blob: "é".repeat(MAX_ATTRIBUTE_BYTES / 2) }; // fewer characters than bytes
    expect(await ann!.request(MasterOp.CHARACTER_CREATE, { name: "bytes", attributes: multibyte })).toMatchObject({ status: MasterStatus.INVALID });
    expect((await ann!.must(MasterOp.CHARACTER_LIST)).characters).toHaveLength(2);

    for (const body of [{}, { characterId: -1 }, { characterId: 1.5 }, { characterId: "1" }]) {
      expect(await ann!.request(MasterOp.CHARACTER_SELECT, body)).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    }
    for (const body of [{}, { characterId: 0 }, { characterId: "1" }]) {
      expect(await ann!.request(MasterOp.CHARACTER_DELETE, body)).toMatchObject({ status: MasterStatus.INVALID, body: { error: "invalid_body" } });
    }
    expect(await ann!.request(MasterOp.CHARACTER_LIST, { all: true })).toMatchObject({ status: MasterStatus.INVALID });
    ann!.close();
  });

  it("needs a login", async () => {
    const anonymous = await MasterClient.connect(server, { appKey: uniqueAppKey("anon") });
    const requests: Array<[number, Json]> = [
      [MasterOp.CHARACTER_CREATE, { name: "Nobody" }],
      [MasterOp.CHARACTER_LIST, {}],
      [MasterOp.CHARACTER_SELECT, { characterId: 1 }],
      [MasterOp.CHARACTER_DELETE, { characterId: 1 }],
    ];
    for (const [op, body] of requests) {
      expect(await anonymous.request(op, body)).toMatchObject({ status: MasterStatus.UNAUTHORIZED, body: { error: "not_logged_in" } });
    }
    anonymous.close();
  });

  it("does not let one account see, select or delete another's character", async () => {
    const [ann, bob] = await guests(server, uniqueAppKey("theirs"), 2);
    const annsId = (await ann!.must(MasterOp.CHARACTER_CREATE, { name: "Anns hero" })).characterId as number;
    for (const op of [MasterOp.CHARACTER_SELECT, MasterOp.CHARACTER_DELETE]) {
      expect(await bob!.request(op, { characterId: annsId })).toMatchObject({ status: MasterStatus.NOT_FOUND, body: { error: "character_not_found" } });
    }
    expect(await bob!.must(MasterOp.CHARACTER_LIST)).toEqual({ selectedId: 0, characters: [] });
    expect((await ann!.must(MasterOp.CHARACTER_LIST)).characters).toEqual([character("Anns hero", { characterId: annsId })]);
    ann!.close();
    bob!.close();
  });

  it("shows the selected character in the Session, presence and chat", async () => {
    const appKey = uniqueAppKey("shown");
    const [ann, watcher] = await guests(server, appKey, 2);
    await watcher!.must(MasterOp.PRESENCE_SUBSCRIBE, { enabled: true });
    const hero = await ann!.must(MasterOp.CHARACTER_CREATE, { name: "Aragorn" });
    const heroId = hero.characterId as number;
    const presence = (characterId: number, name: string, online = true) => ({ username: ann!.username, accountId: ann!.accountId, online, roomId: 0, characterId, character: name });

    await ann!.must(MasterOp.CHARACTER_SELECT, { characterId: heroId });
    expect(await watcher!.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(heroId, "Aragorn"));
    // Selecting the selected one again changes nothing, so tells nobody.
    await ann!.must(MasterOp.CHARACTER_SELECT, { characterId: heroId });
    expect(await watcher!.must(MasterOp.PRESENCE_LIST, { username: ann!.username })).toMatchObject({ users: [{ characterId: heroId, character: "Aragorn" }] });
    expect(watcher!.received(MasterEvent.PRESENCE)).toEqual([]);

    await ann!.must(MasterOp.CHAT_SEND, { channel: "global", text: "hello" });
    expect(await watcher!.nextEvent(MasterEvent.CHAT)).toMatchObject({ from: ann!.username, fromId: ann!.accountId, character: "Aragorn", text: "hello" });
    await watcher!.must(MasterOp.CHAT_SEND, { channel: "whisper", to: ann!.username, text: "hi" });
    expect(await ann!.nextEvent(MasterEvent.CHAT)).toMatchObject({ text: "hello" });
    expect(await ann!.nextEvent(MasterEvent.CHAT)).toMatchObject({ from: watcher!.username, character: "", text: "hi" });

    // The selection is the account's: a new login (here, resuming the token elsewhere) carries it.
    const token = ann!.session.token as string;
    const again = await MasterClient.connect(server, { appKey });
    expect(await again.must(MasterOp.RESUME, { token })).toMatchObject({ accountId: ann!.accountId, characterId: heroId, character: "Aragorn" });
    expect(await watcher!.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(heroId, "Aragorn", false));
    expect(await watcher!.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(heroId, "Aragorn"));

    // Deleting the selected character tells presence too.
    await again.must(MasterOp.CHARACTER_DELETE, { characterId: heroId });
    expect(await watcher!.nextEvent(MasterEvent.PRESENCE)).toEqual(presence(0, ""));
    await again.must(MasterOp.CHAT_SEND, { channel: "global", text: "who am I" });
    expect(await watcher!.nextEvent(MasterEvent.CHAT)).toMatchObject({ from: ann!.username, character: "", text: "who am I" });
    for (const client of [ann, watcher, again]) client!.close();
  });
});

describe("master characters over HTTP", () => {
  it("serves GET /api/characters, POST /api/characters, /select and /{id}/delete with the bearer token", async () => {
    const appKey = uniqueAppKey("http");
    const guest = await api("/api/auth/guest", { appKey, body: {} });
    expect(guest.status).toBe(200);
    expect(guest.body).toMatchObject({ characterId: 0, character: "" });
    const token = guest.body.token as string;

    expect(await api("/api/characters", { appKey, token })).toEqual({ status: 200, body: { selectedId: 0, characters: [] } });
    const created = await api("/api/characters", { appKey, token, body: { name: "Frodo", attributes: { race: "hobbit" } } });
    expect(created).toEqual({ status: 200, body: character("Frodo", { attributes: { race: "hobbit" } }) });
    const id = created.body.characterId as number;

    const selected = await api("/api/characters/select", { appKey, token, body: { characterId: id } });
    expect(selected).toEqual({ status: 200, body: { ...created.body, selected: true } });
    expect(await api("/api/characters", { appKey, token })).toMatchObject({ status: 200, body: { selectedId: id } });
    // The Session says so from now on.
    expect(await api("/api/auth/session", { appKey, token })).toMatchObject({ status: 200, body: { characterId: id, character: "Frodo" } });

    expect(await api("/api/characters", { appKey, token, body: { name: "frodo" } })).toMatchObject({ status: 409, body: { error: "character_name_taken" } });
    expect(await api("/api/characters", { appKey, token, body: { name: "Sam", attributes: [] } })).toMatchObject({ status: 400, body: { error: "invalid_body" } });
    expect(await api(`/api/characters/${id}/delete`, { appKey, token, body: {} })).toEqual({ status: 200, body: { characterId: id } });
    expect(await api(`/api/characters/${id}/delete`, { appKey, token, body: {} })).toMatchObject({ status: 404, body: { error: "character_not_found" } });
    expect(await api("/api/characters/select", { appKey, token, body: { characterId: id } })).toMatchObject({ status: 404, body: { error: "character_not_found" } });
    expect(await api("/api/characters/nope/delete", { appKey, token, body: {} })).toMatchObject({ status: 400, body: { error: "invalid_body" } });
    expect(await api("/api/characters", { appKey, token })).toEqual({ status: 200, body: { selectedId: 0, characters: [] } });
  });

  it("needs a token, and keeps each account to its own characters", async () => {
    const appKey = uniqueAppKey("http-auth");
    expect(await api("/api/characters", { appKey })).toMatchObject({ status: 401, body: { error: "not_logged_in" } });
    expect(await api("/api/characters", { appKey, body: { name: "Nobody" } })).toMatchObject({ status: 401, body: { error: "not_logged_in" } });
    expect(await api("/api/characters", { appKey, token: "x".repeat(43) })).toMatchObject({ status: 401, body: { error: "token_invalid" } });

    const [ann] = await guests(server, appKey, 1);
    const annsId = (await ann!.must(MasterOp.CHARACTER_CREATE, { name: "Boromir" })).characterId as number;
    const bob = (await api("/api/auth/guest", { appKey, body: {} })).body.token as string;
    expect(await api(`/api/characters/${annsId}/delete`, { appKey, token: bob, body: {} })).toMatchObject({ status: 404, body: { error: "character_not_found" } });
    expect(await api("/api/characters/select", { appKey, token: bob, body: { characterId: annsId } })).toMatchObject({ status: 404, body: { error: "character_not_found" } });
    expect(await api("/api/characters", { appKey, token: bob, body: { name: "boromir" } })).toMatchObject({ status: 409, body: { error: "character_name_taken" } });
    // The token of another app key is no login here.
    const elsewhere = (await api("/api/auth/guest", { appKey: uniqueAppKey("http-other"), body: {} })).body.token as string;
    expect(await api("/api/characters", { appKey, token: elsewhere })).toMatchObject({ status: 401, body: { error: "token_invalid" } });
    ann!.close();
  });

  it("selecting over HTTP shows at once in the presence of the account's live connection", async () => {
    const appKey = uniqueAppKey("http-live");
    const [ann, watcher] = await guests(server, appKey, 2);
    await watcher!.must(MasterOp.PRESENCE_SUBSCRIBE, { enabled: true });
    const token = ann!.session.token as string;
    const id = (await api("/api/characters", { appKey, token, body: { name: "Legolas" } })).body.characterId as number;
    expect((await api("/api/characters/select", { appKey, token, body: { characterId: id } })).status).toBe(200);
    expect(await watcher!.nextEvent(MasterEvent.PRESENCE)).toMatchObject({ accountId: ann!.accountId, online: true, characterId: id, character: "Legolas" });
    await ann!.must(MasterOp.CHAT_SEND, { channel: "global", text: "elf" });
    expect(await watcher!.nextEvent(MasterEvent.CHAT)).toMatchObject({ character: "Legolas", text: "elf" });
    ann!.close();
    watcher!.close();
  });
});

describe("character limits in the configuration", () => {
  it("default to 8 characters and 4096 bytes, are set by flag or environment, and are checked", () => {
    expect([defaultConfig.maxCharactersPerAccount, defaultConfig.characterAttributesMaxBytes]).toEqual([8, 4096]);
    const config = configFromArgs(["--max-characters-per-account", "3"], { GMNET_CHARACTER_ATTRIBUTES_MAX_BYTES: "512" });
    expect([config.maxCharactersPerAccount, config.characterAttributesMaxBytes]).toEqual([3, 512]);
    expect(() => validateConfig({ ...defaultConfig, maxCharactersPerAccount: 0 })).toThrow(ConfigError);
    expect(() => validateConfig({ ...defaultConfig, characterAttributesMaxBytes: 1 })).toThrow(ConfigError);
    expect(() => validateConfig({ ...defaultConfig, characterAttributesMaxBytes: Number.NaN })).toThrow(ConfigError);
  });
});
