/**
 * The playground's buffer page: writes the text field and a few numbers into a grow buffer, then
 * shows the bytes, the values read back, and the digests. It looks like the other pages (the
 * shared theme, header and nav), and an error shows beside the input that caused it.
 */
import "../shared/expose-engine.js";
import "../shared/theme.css";
import "../shared/page.css";
import "./style.css";
import { describeError } from "../shared/describe-error.js";
import { hexDump } from "../shared/hex-format.js";
import {
  type BufferValue,
  buffer_base64_encode,
  buffer_compress,
  buffer_crc32,
  buffer_create,
  buffer_delete,
  buffer_exists,
  buffer_f32,
  buffer_f64,
  buffer_get_size,
  buffer_get_used_size,
  buffer_grow,
  buffer_md5,
  buffer_peek,
  buffer_read,
  buffer_s32,
  buffer_seek,
  buffer_seek_start,
  buffer_sha1,
  buffer_string,
  buffer_u64,
  buffer_u8,
  buffer_write,
} from "@gmnet/engine";


interface Sample {
  /** Short name, used in data-testid="written-<key>" / "read-<key>". */
  key: string;
  type: number;
  value: BufferValue;
}

/** Written after the string, in this order (alignment 1, so no padding between them). */
const NUMBERS: readonly Sample[] = [
  { key: "u8", type: buffer_u8, value: 200 },
  { key: "s32", type: buffer_s32, value: -123456789 },
  { key: "f32", type: buffer_f32, value: 3.14159 },
  { key: "f64", type: buffer_f64, value: Math.PI },
  // 2^53 + 1: not a safe integer, so it is written and read back as a bigint.
  { key: "u64", type: buffer_u64, value: 9007199254740993n },
];

function element<T extends HTMLElement>(selector: string, kind: { new (): T; prototype: T }): T {
  const found = document.querySelector(selector);
  if (!(found instanceof kind)) throw new Error(`playground: ${selector} is missing from buffers.html`);
  return found;
}

const byTestId = (id: string): HTMLElement => element(`[data-testid="${id}"]`, HTMLElement);

const ui = {
  writeForm: element("#write-form", HTMLFormElement),
  text: element("#text", HTMLInputElement),
  inspectForm: element("#inspect-form", HTMLFormElement),
  inspectId: element("#inspect-id", HTMLInputElement),
  inspectResult: byTestId("inspect-result"),
  textError: byTestId("text-error"),
  inspectError: byTestId("inspect-error"),
  values: element("#values", HTMLTableSectionElement),
  bufferInfo: byTestId("buffer-info"),
  dump: byTestId("hex-dump"),
  md5: byTestId("md5"),
  sha1: byTestId("sha1"),
  crc32: byTestId("crc32"),
  base64: byTestId("base64"),
  compressedSize: byTestId("compressed-size"),
};

/** The buffer of the last run; kept alive so it can be inspected by id, deleted by the next run. */
let current: number | undefined;

function writeBuffer(text: string): void {
  if (current !== undefined && buffer_exists(current)) buffer_delete(current);
  const buffer = buffer_create(16, buffer_grow, 1);
  current = buffer;

  const samples: readonly Sample[] = [{ key: "string", type: buffer_string, value: text }, ...NUMBERS];
  for (const { type, value } of samples) {
    const status = buffer_write(buffer, type, value);
    if (status < 0) throw new Error(`buffer_write returned ${status}`);
  }

  const used = buffer_get_used_size(buffer);
  const bytes = Uint8Array.from({ length: used }, (_, offset) => Number(buffer_peek(buffer, offset, buffer_u8)));
  ui.bufferInfo.textContent = `buffer ${buffer}: ${used} bytes used of ${buffer_get_size(buffer)}`;
  ui.dump.textContent = hexDump(bytes, { maxBytes: bytes.length }).text || "(empty)";

  buffer_seek(buffer, buffer_seek_start, 0);
  ui.values.replaceChildren(
    ...samples.map(({ key, type, value }) => row(key, value, buffer_read(buffer, type))),
  );

  ui.md5.textContent = buffer_md5(buffer, 0, used);
  ui.sha1.textContent = buffer_sha1(buffer, 0, used);
  ui.crc32.textContent = buffer_crc32(buffer, 0, used).toString(16).padStart(8, "0");
  ui.base64.textContent = buffer_base64_encode(buffer, 0, used);
  const compressed = buffer_compress(buffer, 0, used);
  try {
    ui.compressedSize.textContent = `${buffer_get_size(compressed)} bytes (zlib, from ${used})`;
  } finally {
    buffer_delete(compressed);
  }
  ui.inspectId.value = String(buffer);
}

function row(key: string, written: BufferValue, read: BufferValue | undefined): HTMLTableRowElement {
  const tr = document.createElement("tr");
  const cells: [string, string][] = [
    [`type-${key}`, `buffer_${key}`],
    [`written-${key}`, show(written)],
    [`read-${key}`, read === undefined ? "(nothing)" : show(read)],
  ];
  for (const [testId, text] of cells) {
    const td = document.createElement("td");
    td.dataset.testid = testId;
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

function show(value: BufferValue): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** A mistake in what was typed, shown beside the input like the engine's errors. */
class InputError extends Error {
  override readonly name = "InputError";
  readonly code = "E_INPUT";
}

function inspect(value: string): void {
  if (value.trim() === "") throw new InputError("type a buffer id, such as the one “Write buffer” made");
  const id = Number(value);
  const used = buffer_get_used_size(id);
  ui.inspectResult.textContent = `buffer ${id}: size ${buffer_get_size(id)}, used ${used}, md5 ${buffer_md5(id, 0, used)}`;
}

/** Shows `error` in `box`, beside `input`, and marks the input invalid; undefined clears both. */
function showFieldError(box: HTMLElement, input: HTMLInputElement, error: unknown): void {
  if (error === undefined) {
    box.hidden = true;
    box.replaceChildren();
    input.removeAttribute("aria-invalid");
    return;
  }
  const { code, message } = describeError(error);
  const strong = document.createElement("strong");
  strong.dataset.testid = "field-error-code";
  strong.textContent = code;
  const text = document.createElement("span");
  text.dataset.testid = "field-error-message";
  text.textContent = message;
  box.replaceChildren(strong, text);
  box.hidden = false;
  input.setAttribute("aria-invalid", "true");
}

/** Runs a form's action; an error it throws shows beside the form's input (never only in the console). */
function guarded(input: HTMLInputElement, errorBox: HTMLElement, action: () => void): (event: Event) => void {
  return (event) => {
    event.preventDefault();
    showFieldError(errorBox, input, undefined);
    try {
      action();
    } catch (error) {
      showFieldError(errorBox, input, error);
    }
  };
}

ui.writeForm.addEventListener("submit", guarded(ui.text, ui.textError, () => writeBuffer(ui.text.value)));
ui.inspectForm.addEventListener(
  "submit",
  guarded(ui.inspectId, ui.inspectError, () => {
    ui.inspectResult.textContent = "";
    inspect(ui.inspectId.value);
  }),
);
// Show something straight away: the default text, written once.
ui.writeForm.requestSubmit();
