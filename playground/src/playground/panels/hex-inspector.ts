/**
 * The hex inspector: pick one of the script's buffers (or type any id) and see its bytes as a
 * `hexdump -C`, with its type, size, used size, seek position and alignment, refreshed live a
 * few times a second.
 *
 * Bytes are read in one call with buffer_base64_encode (the engine has no other bulk read; a
 * buffer_peek per byte would be thousands of calls per refresh), at most the first 4 KiB.
 * An id that is not a live buffer shows the engine's error (E_INVALID_BUFFER …) in the panel.
 */
import {
  buffer_base64_encode,
  buffer_fast,
  buffer_fixed,
  buffer_get_alignment,
  buffer_get_size,
  buffer_get_type,
  buffer_get_used_size,
  buffer_grow,
  buffer_tell,
  buffer_vbuffer,
  buffer_wrap,
} from "@gmnet/engine";
import type { MountPanel } from "../panel-host.js";
import { el, formatBytes, setText, showErrorIn, throttled } from "./format.js";
import { DEFAULT_MAX_BYTES, base64ToBytes, hexDump } from "../../shared/hex-format.js";
import "./panels.css";

const REFRESH_MS = 250;

const BUFFER_TYPES: Record<number, string> = {
  [buffer_fixed]: "buffer_fixed",
  [buffer_grow]: "buffer_grow",
  [buffer_wrap]: "buffer_wrap",
  [buffer_fast]: "buffer_fast",
  [buffer_vbuffer]: "buffer_vbuffer",
};

/** What the inspector reads of one buffer. */
export interface BufferSnapshot {
  readonly id: number;
  readonly type: number;
  readonly size: number;
  readonly used: number;
  readonly tell: number;
  readonly alignment: number;
  /** The first min(size, maxBytes) bytes. */
  readonly bytes: Uint8Array;
}

/** Reads buffer `id` through the engine's functions; throws the engine's GmnetError for an id that is not a live buffer. */
export function readBuffer(id: number, maxBytes = DEFAULT_MAX_BYTES): BufferSnapshot {
  const size = buffer_get_size(id);
  return {
    id,
    size,
    type: buffer_get_type(id),
    used: buffer_get_used_size(id),
    tell: buffer_tell(id),
    alignment: buffer_get_alignment(id),
    bytes: base64ToBytes(buffer_base64_encode(id, 0, Math.min(size, maxBytes))),
  };
}

export const mountHexInspector: MountPanel = (container, host) => {
  container.classList.add("lp-panel", "lp-hex");

  const select = el("select", { testId: "hex-buffer-select", title: "The script's buffers" });
  select.setAttribute("aria-label", "Buffer");
  const idInput = el("input", { testId: "hex-buffer-id", title: "Any buffer id" });
  idInput.type = "number";
  idInput.min = "0";
  idInput.step = "1";
  idInput.placeholder = "id";
  idInput.setAttribute("aria-label", "Buffer id");
  const controls = el("div", { className: "lp-row" }, el("label", { text: "Buffer" }, select), el("label", { text: "id" }, idInput));

  const meta = el("dl", { className: "lp-facts lp-facts-inline", testId: "hex-meta" });
  const metaValue = (label: string, testId: string): HTMLElement => {
    const value = el("dd", { testId });
    meta.append(el("dt", { text: label }), value);
    return value;
  };
  const typeOut = metaValue("type", "hex-type");
  const sizeOut = metaValue("size", "hex-size");
  const usedOut = metaValue("used", "hex-used");
  const tellOut = metaValue("tell", "hex-tell");
  const alignOut = metaValue("alignment", "hex-alignment");

  const note = el("p", { className: "lp-note", testId: "hex-note" });
  const dump = el("pre", { className: "lp-hexdump", testId: "hex-dump" });
  const error = el("div", { className: "error-banner lp-panel-error", testId: "hex-error" });
  error.hidden = true;
  container.append(controls, error, meta, note, dump);

  let shownBuffers = "";
  /** Whether the user picked or typed an id (until then the inspector follows the newest buffer). */
  let chosen = false;

  const syncOptions = (): void => {
    const buffers = host.buffers();
    const key = buffers.join(",");
    if (key === shownBuffers) return;
    shownBuffers = key;
    const none = el("option", { text: buffers.length === 0 ? "(the script has no buffers)" : "(choose)" });
    none.value = "";
    select.replaceChildren(none, ...buffers.map((id) => Object.assign(el("option", { text: `buffer ${id}` }), { value: String(id) })));
    if (!chosen) idInput.value = buffers.length > 0 ? String(buffers[buffers.length - 1]) : "";
    select.value = buffers.includes(Number(idInput.value)) && idInput.value !== "" ? idInput.value : "";
  };

  const clear = (): void => {
    for (const out of [typeOut, sizeOut, usedOut, tellOut, alignOut]) setText(out, "—");
    setText(dump, "");
    meta.hidden = true;
  };

  const refresh = (): void => {
    syncOptions();
    if (idInput.value.trim() === "") {
      showErrorIn(error, undefined);
      clear();
      setText(note, "Choose one of the script's buffers, or type any buffer id.");
      return;
    }
    const id = idInput.valueAsNumber;
    let snapshot: BufferSnapshot;
    try {
      snapshot = readBuffer(id);
    } catch (problem) {
      showErrorIn(error, problem);
      clear();
      setText(note, "");
      return;
    }
    showErrorIn(error, undefined);
    meta.hidden = false;
    setText(typeOut, BUFFER_TYPES[snapshot.type] ?? String(snapshot.type));
    setText(sizeOut, String(snapshot.size));
    setText(usedOut, String(snapshot.used));
    setText(tellOut, String(snapshot.tell));
    setText(alignOut, String(snapshot.alignment));
    const formatted = hexDump(snapshot.bytes, { totalBytes: snapshot.size });
    setText(dump, formatted.text);
    setText(
      note,
      snapshot.size === 0
        ? "The buffer is empty (size 0)."
        : formatted.truncated
          ? `Showing the first ${formatted.shownBytes} of ${snapshot.size} bytes (${formatBytes(snapshot.size)}).`
          : `All ${snapshot.size} bytes.`,
    );
    dump.dataset.truncated = String(formatted.truncated);
  };

  select.addEventListener("change", () => {
    chosen = select.value !== "";
    idInput.value = select.value;
    refresh();
  });
  idInput.addEventListener("input", () => {
    chosen = idInput.value !== "";
    select.value = host.buffers().includes(idInput.valueAsNumber) ? idInput.value : "";
    refresh();
  });

  clear();
  refresh();
  host.onTick(throttled(REFRESH_MS, refresh));
};
