/**
 * Integer handles for engine objects (buffers now, sockets later), like GameMaker's ids.
 *
 * Ids are positive and never reused within one engine: a stale id held by a script after
 * `buffer_delete` gives a clear "not a live buffer" error instead of silently reaching a newer
 * object that happened to get the same number (the classic GameMaker bug with reused indices).
 */
export class HandleTable<T> {
  private readonly live = new Map<number, T>();
  private nextId = 1;
  /** One-entry cache: scripts call buffer_* on the same buffer many times in a row. */
  private lastId = 0;
  private lastValue: T | undefined = undefined;

  add(value: T): number {
    const id = this.nextId++;
    this.live.set(id, value);
    return id;
  }

  /** Adds the value `make` builds for its new id, for objects that carry their own id. */
  addWith(make: (id: number) => T): number {
    const id = this.nextId++;
    this.live.set(id, make(id));
    return id;
  }

  get(id: number): T | undefined {
    if (id === this.lastId) return this.lastValue;
    const value = this.live.get(id);
    if (value !== undefined) {
      this.lastId = id;
      this.lastValue = value;
    }
    return value;
  }

  has(id: number): boolean {
    return this.live.has(id);
  }

  delete(id: number): boolean {
    if (id === this.lastId) {
      this.lastId = 0;
      this.lastValue = undefined;
    }
    return this.live.delete(id);
  }

  get size(): number {
    return this.live.size;
  }

  ids(): IterableIterator<number> {
    return this.live.keys();
  }
}
