/**
 * A capped, auto-scrolling list: what the output console and the async-event log share. New rows
 * go at the bottom; the list follows them while it is scrolled to the bottom, and stays put while
 * the reader has scrolled up to look at something.
 */
export class ScrollLog {
  private rows = 0;
  /** Rows the counter counts (separators are not). */
  private counted = 0;

  constructor(
    readonly list: HTMLElement,
    /** Oldest rows are removed beyond this many. */
    private readonly cap: number,
    /** Shows the count of counted rows, if given. */
    private readonly counter?: HTMLElement,
  ) {
    this.updateCount();
  }

  get size(): number {
    return this.rows;
  }

  /** Adds `row` at the bottom; `counted` false for a row that is not an entry of the log (a separator). */
  append(row: HTMLElement, counted = true): void {
    const scroller = this.list;
    const following = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    if (!counted) row.dataset.uncounted = "";
    scroller.append(row);
    this.rows++;
    if (counted) this.counted++;
    while (this.rows > this.cap && scroller.firstElementChild !== null) {
      const oldest = scroller.firstElementChild as HTMLElement;
      if (oldest.dataset.uncounted === undefined) this.counted--;
      oldest.remove();
      this.rows--;
    }
    if (following) scroller.scrollTop = scroller.scrollHeight;
    this.updateCount();
  }

  clear(): void {
    this.list.replaceChildren();
    this.rows = 0;
    this.counted = 0;
    this.updateCount();
  }

  private updateCount(): void {
    if (this.counter !== undefined) this.counter.textContent = String(this.counted);
  }
}

/** `+1.234s` since the run started, or the clock time (hh:mm:ss) outside a run. */
export function timeLabel(elapsed: number | undefined): string {
  if (elapsed !== undefined) return `+${(elapsed / 1000).toFixed(3)}s`;
  const now = new Date();
  return `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}:${String(now.getSeconds()).padStart(2, "0")}`;
}

/** A new element with a class and text. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className !== "") node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
