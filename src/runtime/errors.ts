/**
 * The spec cannot be met as written (quota exceeded, unknown template, shrinking a disk): retrying will not help.
 * The reconciler records a condition with the reason and waits for the spec to change. Anything else thrown is
 * transient: the job engine retries it with backoff.
 */
export class TerminalError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
    this.reason = reason;
  }
}

/** Any thrown value as an Error, keeping the original as `cause` (graphile-worker's normalisation). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown), { cause: thrown });
}

/** A stable label for metrics: the error class's name, or `TerminalError:<reason>`. */
export function errorReason(error: unknown): string {
  if (error instanceof TerminalError) return `TerminalError:${error.reason}`;
  return error instanceof Error ? error.name : 'Unknown';
}
