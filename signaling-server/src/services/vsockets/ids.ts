/**
 * Sequential u32 ids (routing ids, connIds). 0 is never handed out because ERROR frames use
 * refId 0 for "no id", and after wrapping around, ids still in use are skipped so a long-lived
 * stream can never be confused with a new one.
 */
export class IdAllocator {
  private last = 0;

  next(inUse: (id: number) => boolean): number {
    do this.last = this.last >= 0xffffffff ? 1 : this.last + 1;
    while (inUse(this.last));
    return this.last;
  }
}
