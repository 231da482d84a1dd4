/** buffer_save… and buffer_load… over memory and filesystem storage, and the async Save/Load event. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type AsyncLoad, type FileStorage, createEngine, createMemoryStorage, createNodeStorage } from "../src/index.js";
import { bufferFrom, bytesOf } from "./helpers.js";

const folder = mkdtempSync(join(tmpdir(), "gmnet-files-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const backends: Array<[string, () => FileStorage]> = [
  ["memory", () => createMemoryStorage()],
  ["filesystem", () => createNodeStorage({ root: mkdtempSync(join(folder, "case-")) })],
];

/** Waits for the next async event and returns its [async_load, event_type]. */
async function nextEvent(gm: ReturnType<typeof createEngine>): Promise<[AsyncLoad, number]> {
  expect(await gm.async_event_wait(5000)).toBe(true);
  let event: [AsyncLoad, number] | undefined;
  gm.async_event_dispatch((load, type) => {
    event ??= [load, type];
  });
  return event!;
}

describe.each(backends)("%s storage", (_name, makeStorage) => {
  const gm = createEngine({ storage: makeStorage() });
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

  it("buffer_save writes the whole buffer and buffer_load returns a new grow buffer", () => {
    const b = gm.buffer_create(8, gm.buffer_fixed, 1);
    gm.buffer_write(b, gm.buffer_u16, 0x0201);
    expect(gm.buffer_save(b, "saves/slot1.sav")).toBe(0);
    const loaded = gm.buffer_load("saves/slot1.sav");
    expect([gm.buffer_get_type(loaded), gm.buffer_get_alignment(loaded), gm.buffer_get_size(loaded)]).toEqual([gm.buffer_grow, 1, 8]);
    expect([gm.buffer_tell(loaded), gm.buffer_get_used_size(loaded)]).toEqual([0, 8]);
    expect(bytesOf(gm, loaded)).toEqual(new Uint8Array([1, 2, 0, 0, 0, 0, 0, 0]));
  });

  it("buffer_load of a missing file returns -1", () => {
    expect(gm.buffer_load("nope.bin")).toBe(-1);
    expect(gm.buffer_load_ext(gm.buffer_create(1, gm.buffer_grow, 1), "nope.bin", 0)).toBe(-1);
  });

  it("buffer_save_ext saves a range; buffer_load_ext and buffer_load_partial load into a buffer", () => {
    const b = bufferFrom(gm, bytes);
    expect(gm.buffer_save_ext(b, "part.bin", 2, 4)).toBe(0);
    const target = gm.buffer_create(6, gm.buffer_fixed, 1);
    expect(gm.buffer_load_ext(target, "part.bin", 1)).toBe(4);
    expect(bytesOf(gm, target)).toEqual(new Uint8Array([0, 3, 4, 5, 6, 0]));
    expect(gm.buffer_load_ext(target, "part.bin", 4)).toBe(2); // fixed: what fits
    expect(gm.buffer_load_partial(target, "part.bin", 1, 2, 0)).toBe(2);
    expect(bytesOf(gm, target)).toEqual(new Uint8Array([4, 5, 4, 5, 3, 4]));
    expect(gm.buffer_load_partial(target, "part.bin", 3, -1, 5)).toBe(1);
    expect(gm.buffer_peek(target, 5, gm.buffer_u8)).toBe(6);
  });

  it("buffer_save_async / buffer_load_async report through ev_async_save_load", async () => {
    const b = bufferFrom(gm, bytes);
    const saveId = gm.buffer_save_async(b, "async.bin", 0, -1);
    gm.buffer_delete(b); // the bytes were taken at call time
    const [saved, savedType] = await nextEvent(gm);
    expect(savedType).toBe(gm.ev_async_save_load);
    expect(saved).toEqual({ id: saveId, status: true });

    const target = gm.buffer_create(0, gm.buffer_grow, 1);
    const loadId = gm.buffer_load_async(target, "async.bin", 2, -1);
    expect(loadId).not.toBe(saveId);
    expect(await nextEvent(gm)).toEqual([{ id: loadId, status: true }, gm.ev_async_save_load]);
    expect(bytesOf(gm, target, 10)).toEqual(new Uint8Array([0, 0, 1, 2, 3, 4, 5, 6, 7, 8]));

    const partId = gm.buffer_load_async(target, "async.bin", 0, 2);
    expect(await nextEvent(gm)).toEqual([{ id: partId, status: true }, gm.ev_async_save_load]);
    const missingId = gm.buffer_load_async(target, "missing.bin", 0, -1);
    expect(await nextEvent(gm)).toEqual([{ id: missingId, status: false }, gm.ev_async_save_load]);
  });

  it("reports status false when the target buffer is deleted before the load finishes", async () => {
    const b = bufferFrom(gm, bytes);
    gm.buffer_save(b, "x.bin");
    const id = gm.buffer_load_async(b, "x.bin", 0, -1);
    gm.buffer_delete(b);
    expect(await nextEvent(gm)).toEqual([{ id, status: false }, gm.ev_async_save_load]);
  });

  it("rejects file names that leave the save area", () => {
    const b = bufferFrom(gm, bytes);
    for (const name of ["", "../escape", "a/../../b", "/etc/passwd", "C:\\x", "a\0b", 5]) {
      expect(() => gm.buffer_save(b, name as string)).toThrow(expect.objectContaining({ code: "E_INVALID_FILENAME" }));
      expect(() => gm.buffer_load(name as string)).toThrow(expect.objectContaining({ code: "E_INVALID_FILENAME" }));
    }
    expect(gm.buffer_save(b, "dir\\sub\\ok.bin")).toBe(0);
    expect(gm.buffer_load("dir/sub/ok.bin")).toBeGreaterThan(0);
  });
});

describe("filesystem storage", () => {
  it("keeps files as plain bytes under its root folder", () => {
    const root = mkdtempSync(join(folder, "plain-"));
    const gm = createEngine({ storage: createNodeStorage({ root }) });
    gm.buffer_save(bufferFrom(gm, new Uint8Array([9, 8, 7])), "a/b.bin");
    expect(new Uint8Array(readFileSync(join(root, "a", "b.bin")))).toEqual(new Uint8Array([9, 8, 7]));
    writeFileSync(join(root, "native.bin"), Buffer.from([1, 2]));
    expect(bytesOf(gm, gm.buffer_load("native.bin"))).toEqual(new Uint8Array([1, 2]));
  });

  it("storage faults return -1 / status false instead of throwing", async () => {
    const root = mkdtempSync(join(folder, "fault-"));
    writeFileSync(join(root, "file"), "not a folder");
    const gm = createEngine({ storage: createNodeStorage({ root }) });
    const b = bufferFrom(gm, new Uint8Array([1]));
    expect(gm.buffer_save(b, "file/inside.bin")).toBe(-1);
    const id = gm.buffer_save_async(b, "file/inside.bin", 0, -1);
    expect(await nextEvent(gm)).toEqual([{ id, status: false }, gm.ev_async_save_load]);
  });
});
