import type { Kysely, Selectable } from 'kysely';
import type { Database, SystemEventLevel, SystemEventsTable } from '../db/schema.ts';

export type SystemEvent = Selectable<SystemEventsTable>;

export interface SystemEventFilter {
  service?: string;
  level?: SystemEventLevel;
  from?: Date;
  to?: Date;
  /** Words to find in the message, case-insensitive. */
  q?: string;
}

/** `%` and `_` in a search are literal characters, not patterns. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Newest first, one page, with the total count of matches for pagination. */
export async function listSystemEvents(db: Kysely<Database>, filter: SystemEventFilter,
  page: { limit: number; offset: number }): Promise<{ events: SystemEvent[]; total: number }> {
  let query = db.selectFrom('system_events');
  if (filter.service) query = query.where('service', '=', filter.service);
  if (filter.level) query = query.where('level', '=', filter.level);
  if (filter.from) query = query.where('created_at', '>=', filter.from);
  if (filter.to) query = query.where('created_at', '<', filter.to);
  if (filter.q) query = query.where('message', 'ilike', `%${likeLiteral(filter.q)}%`);
  const [events, count] = await Promise.all([
    query.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset)
      .execute(),
    query.select(({ fn }) => fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { events, total: Number(count.total) };
}

/** Services that have logged events, for the filter choices of the health page. */
export async function eventServices(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('system_events').select('service').distinct().orderBy('service').execute();
  return rows.map((r) => r.service);
}
