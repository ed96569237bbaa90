/** The job engine (spec 6, Jobs v2): PostgreSQL queue and the controllers' work queue. */
export { JobEngine, type JobEngineOptions } from './engine.ts';
export { JobClient } from './client.ts';
export { defineMaintenanceTask, jobRetentionTask, maintenanceQueue, type MaintenanceTask } from './maintenance.ts';
export { queueOverview, type QueueOverview, type QueueSummary } from './admin.ts';
export { pruneFinishedJobs } from './retention.ts';
export { retryDelayMs, decideFailure, type RetryPolicy } from './backoff.ts';
export { nextTick, parseCron, type Cadence } from './cron.ts';
export { builtInQueues, PermanentJobError, ReportedJobError, type JobSpec, type JobHandler, type JobContext,
  type RunningJob, type TaskDefinition, type QueueOptions, type ScheduleDefinition, type JobStatusChange,
  type JobStatusListener } from './types.ts';
export type { EnqueuedJob } from './sql/enqueue.ts';
