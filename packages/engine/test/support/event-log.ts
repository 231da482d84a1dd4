/**
 * An append-only list whose items can be awaited, for tests that wait on callbacks (link state
 * changes, datagrams, a peer handle's events) instead of sleeping and then asserting.
 */
export class EventLog<T> {
  readonly items: T[] = [];
  readonly #waiters = new Set<{ predicate: (item: T) => boolean; from: number; resolve: (item: T) => void }>();

  push(item: T): void {
    this.items.push(item);
    const index = this.items.length - 1;
    for (const waiter of [...this.#waiters]) {
      if (index >= waiter.from && waiter.predicate(item)) {
        this.#waiters.delete(waiter);
        waiter.resolve(item);
      }
    }
  }

  /** The first item from index `from` on that matches (already there, or the next one to come). */
  waitFor(predicate: (item: T) => boolean, from = 0): Promise<T> {
    const found = this.items.slice(from).find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.#waiters.add({ predicate, from, resolve }));
  }
}
