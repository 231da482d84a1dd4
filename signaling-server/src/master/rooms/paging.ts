/** Offset/limit paging shared by ROOM_LIST and PRESENCE_LIST (PROTOCOL.md §16.4, §16.7). */
import { z } from "zod";

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

export const pagingFields = {
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).optional(),
};

export interface Page<T> {
  /** Every match, not only those on the page. */
  readonly total: number;
  readonly offset: number;
  readonly items: T[];
}

/** One page of the items of `source` that `matches`, in source order; counts every match. */
export function pageOf<S, T>(source: Iterable<S>, matches: (item: S) => boolean, view: (item: S) => T, offset = 0, limit = DEFAULT_PAGE_LIMIT): Page<T> {
  const items: T[] = [];
  let total = 0;
  for (const item of source) {
    if (!matches(item)) continue;
    if (total >= offset && items.length < limit) items.push(view(item));
    total++;
  }
  return { total, offset, items };
}
