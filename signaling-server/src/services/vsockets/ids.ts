/**
 * Sequential u32 ids (routing ids, connIds). 0 is never handed out because ERROR frames use
 * refId 0 for "no id", and after wrapping around, ids still in use are skipped so a long-lived
 * stream can never be confused with a new one. With --redis a node allocates within its own
 * range (cluster/node-ids.ts: the node id in the high bits), known once the cluster started.
 */
export interface IdBounds {
  readonly first: number;
  readonly last: number;
}

const WHOLE_RANGE: IdBounds = { first: 1, last: 0xffffffff };

export class IdAllocator {
  private last = 0;
  private bounds: IdBounds | undefined;

  constructor(private readonly range: () => IdBounds = () => WHOLE_RANGE) {}

  next(inUse: (id: number) => boolean): number {
    const { first, last } = (this.bounds ??= this.range());
    if (this.last < first) this.last = first - 1;
    do this.last = this.last >= last ? first : this.last + 1;
    while (inUse(this.last));
    return this.last;
  }
}
