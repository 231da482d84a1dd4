/**
 * Small helpers the panels share: number formatting, readable errors, and a throttle for DOM
 * work driven by the playground's tick. Pure apart from `el` and `showErrorIn`, which build DOM.
 */
import { describeError } from "../../shared/describe-error.js";

/** "0 B", "512 B", "1.5 KiB", "12.0 MiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "—";
  const sign = bytes < 0 ? "-" : "";
  let value = Math.abs(bytes);
  if (value < 1024) return `${sign}${Math.round(value)} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${sign}${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** A compact axis label for a byte count: "0", "0.5", "512", "1.5K", "12M". */
export function formatBytesShort(bytes: number): string {
  const value = Math.abs(bytes);
  if (value < 1024) return formatNumber(bytes, 1);
  if (value < 1024 * 1024) return `${formatNumber(bytes / 1024, 1)}K`;
  if (value < 1024 ** 3) return `${formatNumber(bytes / 1024 ** 2, 1)}M`;
  return `${formatNumber(bytes / 1024 ** 3, 1)}G`;
}

/** "123 ms" for a round trip, "—" while unknown (the engine reports -1). */
export function formatRtt(rtt: number | null | undefined): string {
  return rtt === null || rtt === undefined || rtt < 0 || !Number.isFinite(rtt) ? "—" : `${Math.round(rtt)} ms`;
}

/** A number with at most `digits` decimals and no float noise: 7.000000000000001 → "7". */
export function formatNumber(value: number, digits = 2): string {
  return String(Number(value.toFixed(digits)));
}

/** `document.createElement` with a class, a data-testid and text in one call. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: { className?: string; testId?: string; text?: string; title?: string } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (options.className !== undefined) element.className = options.className;
  if (options.testId !== undefined) element.dataset.testid = options.testId;
  if (options.text !== undefined) element.textContent = options.text;
  if (options.title !== undefined) element.title = options.title;
  element.append(...children);
  return element;
}

/** Fills `box` with an error-banner for `error` (code in bold, then the message), or empties and hides it for undefined. */
export function showErrorIn(box: HTMLElement, error: unknown): void {
  if (error === undefined) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const { code, message } = describeError(error);
  const text = `${code}: ${message}`;
  // Only touch the DOM when the text changes, so a live refresh does not fight text selection.
  if (!box.hidden && box.dataset.text === text) return;
  box.dataset.text = text;
  box.hidden = false;
  box.replaceChildren(el("strong", { text: code }), document.createTextNode(message));
}

/** Sets an element's text only when it changed (cheap to call on every refresh, keeps selections alive). */
export function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/**
 * A tick listener that runs `refresh` at most every `intervalMs` (by the tick's clock), so costly
 * DOM work runs a few times a second however fast the playground ticks.
 */
export function throttled(intervalMs: number, refresh: (now: number) => void): (now: number) => void {
  let last = -Infinity;
  return (now) => {
    if (now - last < intervalMs && now >= last) return;
    last = now;
    refresh(now);
  };
}
