/**
 * What a reconcile asks for next: nothing until something changes, or another look after a delay. `terminal` names
 * the reason when the run found that the spec cannot be met as written (counted apart in the metrics).
 */
export type Result = { requeueAfterMs: number | null; terminal?: string };

export const done = (): Result => ({ requeueAfterMs: null });
export const requeueAfter = (ms: number): Result => ({ requeueAfterMs: Math.max(0, Math.round(ms)) });
