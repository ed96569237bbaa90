/**
 * An error the caller must see as it is: a stable code, a message and details. Domain modules throw subclasses
 * (a quota exceeded, a suspended tenant) that controllers recognise by class and the API renders as its envelope.
 */
export class AppError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 503;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(status: AppError['status'], code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.details = details;
  }
}
