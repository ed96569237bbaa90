import { Hono } from 'hono';
import { z } from 'zod';
import { jobStatuses } from '../../db/schema.ts';
import { cancelJob, getJob, listJobs, listWorkers, queueOverview, retryJob,
  type AdminActionResult } from '../../jobs/admin.ts';
import type { JobStatusListener } from '../../jobs/types.ts';
import { principalOf, requireAdmin } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { idempotent } from '../idempotency.ts';
import { ApiError, notFound } from '../errors.ts';
import { offsetOf, paginationMeta, paginationQuery } from '../pagination.ts';
import { readParam, readQuery } from '../validation.ts';

const jobListQuery = z.strictObject({
  ...paginationQuery,
  queue: z.string().min(1).max(100).optional(),
  status: z.enum(jobStatuses).optional(),
  type: z.string().min(1).max(200).optional(),
});
const pageQuery = z.strictObject(paginationQuery);
const jobId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

function outcome(result: AdminActionResult) {
  if (result.ok) return { job: result.job };
  if (result.reason === 'not_found') throw notFound('job');
  throw new ApiError(409, 'conflict', result.message);
}

/** The job engine's admin API (spec 6): jobs with their attempts, retry and cancel, workers and queues. */
export function jobRoutes({ db, presence, jobs: engine }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Mounted at /api/admin beside other admin routes, so the guard goes on each route, not on a wildcard.
  const admin = requireAdmin();
  const replayable = idempotent({ db, presence });
  // A retry or cancel also updates the job type's own record of it (a hook delivery's ledger row).
  const statusChanged: JobStatusListener = (trx, change) => engine.statusChanged(trx, change);

  app.get('/jobs', admin, async (c) => {
    const { page, per_page, ...filter } = readQuery(c, jobListQuery);
    const { jobs, total } = await listJobs(db, filter, per_page, offsetOf({ page, per_page }));
    return c.json({ jobs, meta: paginationMeta({ page, per_page }, total) });
  });

  app.get('/jobs/:id', admin, async (c) => {
    const found = await getJob(db, readParam(c, 'id', jobId, 'job'));
    if (!found) throw notFound('job');
    return c.json(found);
  });

  app.post('/jobs/:id/retry', admin, replayable, async (c) => c.json(outcome(
    await retryJob(db, readParam(c, 'id', jobId, 'job'), principalOf(c).actor, c.get('requestId'), statusChanged))));

  app.post('/jobs/:id/cancel', admin, replayable, async (c) => c.json(outcome(
    await cancelJob(db, readParam(c, 'id', jobId, 'job'), principalOf(c).actor, c.get('requestId'), statusChanged))));

  app.get('/job-workers', admin, async (c) => {
    const { page, per_page } = readQuery(c, pageQuery);
    const { workers, total } = await listWorkers(db, per_page, offsetOf({ page, per_page }));
    return c.json({ workers, meta: paginationMeta({ page, per_page }, total) });
  });

  app.get('/queues', admin, async (c) => c.json(await queueOverview(db)));

  return app;
}
