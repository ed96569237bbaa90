/** What a reconcile asks for next: nothing until something changes, or another look after a delay. */
export type Result = { requeueAfterMs: number | null };

export const done = (): Result => ({ requeueAfterMs: null });
export const requeueAfter = (ms: number): Result => ({ requeueAfterMs: Math.max(0, Math.round(ms)) });
