/**
 * The playground's buffer page and the engine's buffer_* functions, in Chromium. Every expected
 * value is computed here in Node (node:crypto, node:zlib, Buffer) from independently built bytes,
 * never taken from the engine. The page wears the site's theme (the playground's header, nav and
 * colours) and shows an error beside the input that caused it.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { expect, playgroundReady, test } from "../fixtures.js";

const md5 = (bytes: Uint8Array): string => createHash("md5").update(bytes).digest("hex");
const sha1 = (bytes: Uint8Array): string => createHash("sha1").update(bytes).digest("hex");

/** A buffer_string: UTF-8 then a NUL. */
const cString = (text: string): Buffer => Buffer.concat([Buffer.from(text, "utf8"), Buffer.of(0)]);

/** The numbers playground/src/buffers/main.ts writes after the string, little-endian, no padding (alignment 1). */
const PAGE_NUMBERS = { u8: 200, s32: -123456789, f32: 3.14159, f64: Math.PI, u64: 9007199254740993n };

function pageNumberBytes(): Buffer {
  const bytes = Buffer.alloc(1 + 4 + 4 + 8 + 8);
  let at = bytes.writeUInt8(PAGE_NUMBERS.u8, 0);
  at = bytes.writeInt32LE(PAGE_NUMBERS.s32, at);
  at = bytes.writeFloatLE(PAGE_NUMBERS.f32, at);
  at = bytes.writeDoubleLE(PAGE_NUMBERS.f64, at);
  bytes.writeBigUInt64LE(PAGE_NUMBERS.u64, at);
  return bytes;
}

/** The hex column of the page's `hexdump -C` style dump, checking each line's offset and layout, and the closing end offset. */
function hexColumn(dump: string, length: number): string {
  const lines = dump.split("\n");
  expect(lines.pop(), "the dump ends with the offset just past the last byte").toBe(length.toString(16).padStart(8, "0"));
  return lines
    .map((line, index) => {
      const match = /^([0-9a-f]{8}) {2}([0-9a-f ]{23}) {2}([0-9a-f ]{23}) {2}\|.{1,16}\|$/.exec(line);
      if (match === null) throw new Error(`hex dump line ${index} is malformed: ${JSON.stringify(line)}`);
      const [, offset = "", left = "", right = ""] = match;
      expect(Number.parseInt(offset, 16), `offset of hex dump line ${index}`).toBe(index * 16);
      return (left + right).replaceAll(" ", "");
    })
    .join("");
}

test("the page writes the text and numbers, and shows their bytes, digests and values read back", async ({ playground: page }) => {
  const text = "Grüße from gmnet ✓ 🎮";
  const bytes = Buffer.concat([cString(text), pageNumberBytes()]);

  await page.getByTestId("text-input").fill(text);
  await page.getByTestId("write-button").click();

  await expect(page.getByTestId("md5")).toHaveText(md5(bytes));
  await expect(page.getByTestId("sha1")).toHaveText(sha1(bytes));
  await expect(page.getByTestId("crc32")).toHaveText(crc32(bytes).toString(16).padStart(8, "0"));
  await expect(page.getByTestId("base64")).toHaveText(bytes.toString("base64"));
  await expect(page.getByTestId("compressed-size")).toHaveText(new RegExp(`^[1-9]\\d* bytes \\(zlib, from ${bytes.length}\\)$`));
  expect(hexColumn((await page.getByTestId("hex-dump").textContent()) ?? "", bytes.length)).toBe(bytes.toString("hex"));

  const readBack = {
    string: JSON.stringify(text),
    u8: String(PAGE_NUMBERS.u8),
    s32: String(PAGE_NUMBERS.s32),
    f32: String(Math.fround(PAGE_NUMBERS.f32)),
    f64: String(PAGE_NUMBERS.f64),
    u64: String(PAGE_NUMBERS.u64),
  };
  for (const [key, shown] of Object.entries(readBack)) {
    await expect(page.getByTestId(`read-${key}`), `read-back ${key}`).toHaveText(shown);
  }

  // The page keeps its buffer alive and offers its id for inspection.
  await page.getByTestId("inspect-button").click();
  await expect(page.getByTestId("inspect-result")).toHaveText(new RegExp(`size \\d+, used ${bytes.length}, md5 ${md5(bytes)}$`));
  await expect(page.getByTestId("error")).toBeHidden();
  await expect(page.getByTestId("inspect-error")).toBeHidden();
  await expect(page.getByTestId("text-error")).toBeHidden();
});

test("globalThis.gmnet writes, reads and hashes a buffer like Node does", async ({ playground: page }) => {
  const text = `${"déjà vu 🎲 ".repeat(12)}end`; // > 64 bytes: several SHA-1 blocks
  const expected = Buffer.alloc(1 + 4 + 8);
  let at = expected.writeUInt8(255, 0);
  at = expected.writeInt32LE(-2, at);
  expected.writeDoubleLE(1 / 3, at);
  const bytes = Buffer.concat([expected, cString(text)]);

  const result = await page.evaluate((text) => {
    const gm = globalThis.gmnet;
    const buffer = gm.buffer_create(8, gm.buffer_grow, 1);
    try {
      gm.buffer_write(buffer, gm.buffer_u8, 255);
      gm.buffer_write(buffer, gm.buffer_s32, -2);
      gm.buffer_write(buffer, gm.buffer_f64, 1 / 3);
      gm.buffer_write(buffer, gm.buffer_string, text);
      const used = gm.buffer_get_used_size(buffer);
      gm.buffer_seek(buffer, gm.buffer_seek_start, 0);
      const read = [gm.buffer_u8, gm.buffer_s32, gm.buffer_f64, gm.buffer_string].map((type) => gm.buffer_read(buffer, type));
      return {
        used,
        read,
        base64: gm.buffer_base64_encode(buffer, 0, used),
        sha1: gm.buffer_sha1(buffer, 0, used),
        crc32: gm.buffer_crc32(buffer, 0, used),
      };
    } finally {
      gm.buffer_delete(buffer);
    }
  }, text);

  expect(result.used).toBe(bytes.length);
  expect(result.base64).toBe(bytes.toString("base64"));
  expect(result.read).toEqual([255, -2, 1 / 3, text]);
  expect(result.sha1).toBe(sha1(bytes));
  expect(result.crc32).toBe(crc32(bytes));
});

test("buffer_save and buffer_load persist through localStorage across a reload", async ({ playground: page }) => {
  const file = "saves/slot1.sav";
  const s32 = Buffer.alloc(4);
  s32.writeInt32LE(123456);
  const bytes = Buffer.concat([cString("saved game"), s32]);

  const saved = await page.evaluate((file) => {
    const gm = globalThis.gmnet;
    const buffer = gm.buffer_create(0, gm.buffer_grow, 1);
    gm.buffer_write(buffer, gm.buffer_string, "saved game");
    gm.buffer_write(buffer, gm.buffer_s32, 123456);
    // buffer_save writes the whole buffer, so trim the grow buffer to what was written.
    gm.buffer_resize(buffer, gm.buffer_get_used_size(buffer));
    const status = gm.buffer_save(buffer, file);
    gm.buffer_delete(buffer);
    return { status, keys: Object.keys(localStorage) };
  }, file);
  expect(saved.status).toBe(0);
  expect(saved.keys).toContain(`gmnet:${file}`);

  await page.reload();
  await playgroundReady(page);

  const loaded = await page.evaluate((file) => {
    const gm = globalThis.gmnet;
    const missing = gm.buffer_load("saves/never-saved.sav");
    const buffer = gm.buffer_load(file);
    if (buffer < 0) return { missing, buffer };
    const size = gm.buffer_get_size(buffer);
    const values = [gm.buffer_read(buffer, gm.buffer_string), gm.buffer_read(buffer, gm.buffer_s32)];
    const md5 = gm.buffer_md5(buffer, 0, size);
    gm.buffer_delete(buffer);
    return { missing, size, values, md5 };
  }, file);
  expect(loaded).toEqual({ missing: -1, size: bytes.length, values: ["saved game", 123456], md5: md5(bytes) });
});

test("an invalid buffer id is a GmnetError E_INVALID_BUFFER, thrown to scripts and shown in the page", async ({ playground: page }) => {
  const thrown = await page.evaluate(() => {
    const gm = globalThis.gmnet;
    const buffer = gm.buffer_create(1, gm.buffer_fixed, 1);
    gm.buffer_delete(buffer);
    try {
      gm.buffer_read(buffer, gm.buffer_u8);
      return "no error";
    } catch (error) {
      if (!(error instanceof gm.GmnetError)) return `not a GmnetError: ${String(error)}`;
      return { name: error.name, code: error.code, message: error.message, deletedId: buffer };
    }
  });
  expect(thrown).toEqual({
    name: "GmnetError",
    code: "E_INVALID_BUFFER",
    message: expect.stringContaining("is not a live buffer"),
    deletedId: expect.any(Number),
  });

  // The error shows right under the inspect input, which is marked invalid; not in a global area.
  const input = page.getByTestId("inspect-id");
  const fieldError = page.getByTestId("inspect-error");
  await input.fill("424242");
  await page.getByTestId("inspect-button").click();
  await expect(fieldError).toBeVisible();
  await expect(fieldError.getByTestId("field-error-code")).toHaveText("E_INVALID_BUFFER");
  await expect(fieldError.getByTestId("field-error-message")).toContainText("424242 is not a live buffer");
  await expect(input).toHaveAttribute("aria-invalid", "true");
  await expect(input).toHaveAttribute("aria-describedby", "inspect-error");
  await expect(page.getByTestId("inspect-result")).toHaveText("");
  await expect(page.getByTestId("error"), "no global error").toBeHidden();
  await expect(page.getByTestId("text-error"), "the other form's error stays hidden").toBeHidden();
  // Beside its input: right below the row that holds it, inside the same form.
  const [inputBox, errorBox] = await Promise.all([input.boundingBox(), fieldError.boundingBox()]);
  expect(errorBox!.y, "below the input").toBeGreaterThanOrEqual(inputBox!.y + inputBox!.height);
  expect(errorBox!.y - (inputBox!.y + inputBox!.height), "right below it").toBeLessThan(40);
  expect(await fieldError.evaluate((box) => box.closest("form")?.id)).toBe("inspect-form");

  // An empty id is the page's own error, in the same place; a good id clears it.
  await input.fill("");
  await page.getByTestId("inspect-button").click();
  await expect(fieldError.getByTestId("field-error-code")).toHaveText("E_INPUT");
  await expect(fieldError.getByTestId("field-error-message")).toContainText("type a buffer id");
  const written = await page.getByTestId("buffer-info").textContent();
  const id = /^buffer (\d+):/.exec(written ?? "")?.[1];
  expect(id, "the page's own buffer").toMatch(/^\d+$/);
  await input.fill(id!);
  await page.getByTestId("inspect-button").click();
  await expect(fieldError).toBeHidden();
  await expect(input).not.toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("inspect-result")).toHaveText(new RegExp(`^buffer ${id}: size \\d+, used \\d+, md5 [0-9a-f]{32}$`));
});

test("the buffer page wears the site's theme: the playground's header, nav, colours and cards", async ({ playground: page }) => {
  const look = () =>
    page.evaluate(() => {
      const style = (selector: string) => {
        const element = document.querySelector(selector);
        if (element === null) return undefined;
        const computed = getComputedStyle(element);
        return { color: computed.color, background: computed.backgroundColor, backgroundImage: computed.backgroundImage, font: computed.fontFamily, border: computed.borderTopColor };
      };
      return { body: style("body"), header: style(".pg-header"), logo: style(".logo-net"), nav: style(".pg-nav > a"), card: style(".card") };
    });
  const buffers = await look();
  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("data-playground", "ready");
  const playground = await look();
  for (const part of ["body", "header", "logo", "nav", "card"] as const) {
    expect(buffers[part], `${part} exists on the buffer page`).toBeDefined();
    expect(buffers[part], `${part} looks the same on both pages`).toEqual(playground[part]);
  }

  await page.goto("/buffers.html");
  await playgroundReady(page);
  await expect(page.locator(".brand-tag")).toHaveText("buffers");
  await expect(page.getByTestId("home-link")).toHaveAttribute("href", "./");
  await expect(page.getByTestId("link-playground")).toBeVisible();
  await expect(page.getByTestId("link-demo")).toHaveAttribute("href", "demo.html");
  await page.getByTestId("link-playground").click();
  await expect(page.locator("html")).toHaveAttribute("data-playground", "ready");
  await page.getByTestId("link-buffers").click();
  await playgroundReady(page);
  await expect(page.getByTestId("write-button")).toBeVisible();
});
