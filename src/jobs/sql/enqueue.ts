import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { jobsChannel, type JobSpec } from '../types.ts';

/** A job spec with everything the database needs decided (max attempts resolved from settings). */
export type ResolvedJobSpec = JobSpec & { maxAttempts: number };

export interface EnqueuedJob {
  id: number;
  /** False when the key was already pending and this enqueue merged into that job. */
  inserted: boolean;
}

/**
 * Inserts one job, or merges it into the pending job of the same (queue, key): earliest time and highest priority
 * win, the newest payload replaces the old. The wake-up notification is part of the statement, so it is sent when
 * (and only if) the caller's transaction commits; PostgreSQL folds identical notifications of one transaction.
 */
export async function insertJob(db: Kysely<Database>, spec: ResolvedJobSpec): Promise<EnqueuedJob> {
  const { rows } = await sql<EnqueuedJob>`
    with enqueued as (
      insert into jobs (queue, type, payload, key, priority, scheduled_at, max_attempts)
      values (${spec.queue}, ${spec.type}, ${JSON.stringify(spec.payload ?? {})}::jsonb, ${spec.key ?? null},
              ${spec.priority ?? 0}, coalesce(${spec.runAt ?? null}::timestamptz, now()), ${spec.maxAttempts})
      on conflict (queue, key) where status = 'pending' and key is not null do update
        set type = excluded.type, payload = excluded.payload, updated_at = now(),
            priority = greatest(jobs.priority, excluded.priority),
            scheduled_at = least(jobs.scheduled_at, excluded.scheduled_at)
      returning id, xmax = 0 as inserted, queue, scheduled_at)
    select id, inserted, ${wakeUp(sql.ref('enqueued.queue'), sql.ref('enqueued.scheduled_at'))} is null as notified
      from enqueued`.execute(db);
  const row = rows[0]!;
  return { id: row.id, inserted: row.inserted };
}

/**
 * Inserts many jobs in one statement (`jsonb_to_recordset`), one notification per queue. Specs sharing a
 * (queue, key) are merged here first, because one INSERT ... ON CONFLICT cannot update the same row twice.
 * Returns the ids in the order of the merged specs.
 */
export async function insertJobs(db: Kysely<Database>, specs: readonly ResolvedJobSpec[]): Promise<number[]> {
  if (specs.length === 0) return [];
  const records = mergeKeyedSpecs(specs).map((s) => ({
    queue: s.queue, type: s.type, payload: s.payload ?? {}, key: s.key ?? null, priority: s.priority ?? 0,
    scheduled_at: s.runAt?.toISOString() ?? null, max_attempts: s.maxAttempts,
  }));
  const { rows } = await sql<{ id: number }>`
    with enqueued as (
      insert into jobs (queue, type, payload, key, priority, scheduled_at, max_attempts)
      select queue, type, payload, key, priority, coalesce(scheduled_at, now()), max_attempts
        from rows from (jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
               as (queue text, type text, payload jsonb, key text, priority int, scheduled_at timestamptz,
                   max_attempts int)) with ordinality as r(queue, type, payload, key, priority, scheduled_at,
                                                           max_attempts, n)
       order by n
      on conflict (queue, key) where status = 'pending' and key is not null do update
        set type = excluded.type, payload = excluded.payload, updated_at = now(),
            priority = greatest(jobs.priority, excluded.priority),
            scheduled_at = least(jobs.scheduled_at, excluded.scheduled_at)
      returning id, queue, scheduled_at),
    woken as (
      select ${wakeUp(sql.ref('queue'), sql.raw('min(scheduled_at)'))} from enqueued group by queue)
    select id from enqueued, (select count(*) from woken) as notified`.execute(db);
  return rows.map((r) => r.id);
}

/**
 * Inserts the job of one schedule tick unless some replica already did: the key `schedule:<name>:<tick>` is unique
 * across every status (migration 0002), so this is once per tick however many processes run the schedule.
 */
export async function insertScheduledTick(db: Kysely<Database>, spec: ResolvedJobSpec & { key: string }):
  Promise<boolean> {
  const { rows } = await sql<{ id: number }>`
    with enqueued as (
      insert into jobs (queue, type, payload, key, priority, scheduled_at, max_attempts)
      values (${spec.queue}, ${spec.type}, ${JSON.stringify(spec.payload ?? {})}::jsonb, ${spec.key},
              ${spec.priority ?? 0}, coalesce(${spec.runAt ?? null}::timestamptz, now()), ${spec.maxAttempts})
      on conflict do nothing
      returning id, queue, scheduled_at)
    select id, ${wakeUp(sql.ref('enqueued.queue'), sql.ref('enqueued.scheduled_at'))} is null as notified
      from enqueued`.execute(db);
  return rows.length > 0;
}

/** `pg_notify` of the queue name, plus the due time in epoch ms when the job is for later (a local timer). */
function wakeUp(queue: RawBuilder<unknown>, scheduledAt: RawBuilder<unknown>) {
  return sql`pg_notify(${jobsChannel}, ${queue} || case when ${scheduledAt} > now()
    then ' ' || floor(extract(epoch from ${scheduledAt}) * 1000)::bigint else '' end)`;
}

/** Later specs of a (queue, key) merge into the first: earliest time, highest priority, newest payload and type. */
export function mergeKeyedSpecs(specs: readonly ResolvedJobSpec[]): ResolvedJobSpec[] {
  const merged: ResolvedJobSpec[] = [];
  const byKey = new Map<string, number>();
  for (const spec of specs) {
    if (spec.key == null) {
      merged.push(spec);
      continue;
    }
    const id = `${spec.queue}\u0000${spec.key}`;
    const at = byKey.get(id);
    if (at === undefined) {
      byKey.set(id, merged.length);
      merged.push(spec);
      continue;
    }
    const first = merged[at]!;
    const runAt = !first.runAt || !spec.runAt ? undefined : first.runAt < spec.runAt ? first.runAt : spec.runAt;
    merged[at] = { ...first, type: spec.type, payload: spec.payload, runAt,
      priority: Math.max(first.priority ?? 0, spec.priority ?? 0) };
  }
  return merged;
}
