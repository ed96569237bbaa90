import { configFileMissing } from './messages.ts';

/**
 * An error answer exactly as PVE gives it: the status, a message whose first line is also the HTTP reason phrase,
 * and for parameter errors one message per parameter.
 */
export class SimApiError extends Error {
  override name = 'SimApiError';
  readonly status: number;
  readonly errors: Record<string, string> | undefined;
  constructor(status: number, message: string, errors?: Record<string, string>) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

/** 500 with PVE's text: how PVE reports nearly every runtime failure. */
export const failure = (message: string) => new SimApiError(500, message);

/** 400 `Parameter verification failed.` with a message per parameter. */
export const parameterErrors = (errors: Record<string, string>) =>
  new SimApiError(400, 'Parameter verification failed.', errors);

export const missingConfig = (node: string, vmid: number) => failure(configFileMissing(node, vmid));

/** Thrown inside a task worker: its message becomes the task's exit status. */
export class TaskError extends Error {
  override name = 'TaskError';
}
