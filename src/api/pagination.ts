import { z } from 'zod';

/** `?page=&per_page=` as in the hosting APIs our users know (per_page 1 to 200, default 50). */
export const paginationQuery = {
  page: z.coerce.number().int().min(1, 'expected 1 or more').default(1),
  per_page: z.coerce.number().int().min(1, 'expected 1 or more').max(200, 'expected at most 200').default(50),
};

export interface Page {
  page: number;
  per_page: number;
}

export const offsetOf = ({ page, per_page }: Page): number => (page - 1) * per_page;

/** The `meta.pagination` object of list responses. */
export function paginationMeta({ page, per_page }: Page, total: number) {
  const lastPage = Math.max(1, Math.ceil(total / per_page));
  return {
    pagination: {
      page, per_page, total_entries: total, last_page: lastPage,
      previous_page: page > 1 ? page - 1 : null,
      next_page: page < lastPage ? page + 1 : null,
    },
  };
}

/** Lists are small enough here to page in memory; database-backed lists page in SQL with `offsetOf`. */
export function pageOf<T>(items: readonly T[], page: Page): { items: T[]; meta: ReturnType<typeof paginationMeta> } {
  const start = offsetOf(page);
  return { items: items.slice(start, start + page.per_page), meta: paginationMeta(page, items.length) };
}
