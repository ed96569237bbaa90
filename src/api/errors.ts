import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { fromDatabaseError } from '../db/errors.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

/** Stable, machine-readable error codes of the API (the architecture's error envelope). */
export type ErrorCode =
  | 'validation_error' | 'json_error' | 'unsupported_media_type' | 'payload_too_large'
  | 'unauthorized' | 'forbidden' | 'not_found' | 'method_not_allowed' | 'conflict'
  | 'resource_limit_exceeded' | 'rate_limit_exceeded' | 'service_unavailable' | 'internal_error'
  | 'tenant_suspended' | 'plan_required' | 'in_use';

export interface FieldProblem {
  /** The field's path in the request, e.g. `permissions[1]` or `query.page`. */
  name: string;
  messages: string[];
}

/** An error the client caused or must know about, answered with its status, the envelope and any headers. */
export class ApiError extends AppError {
  override readonly code: ErrorCode;
  readonly headers: Record<string, string>;
  constructor(status: AppError['status'], code: ErrorCode, message: string,
    details?: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(status, code, message, details);
    this.code = code;
    this.headers = headers;
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

export const validationError = (fields: FieldProblem[]) =>
  new ApiError(400, 'validation_error',
    `invalid request: ${fields.map((f) => `${f.name}: ${f.messages.join('; ')}`).join(', ')}`, { fields });

export function errorResponse(c: Context, status: ContentfulStatusCode, code: ErrorCode | string, message: string,
  details?: Record<string, unknown>): Response {
  return c.json({ error: { code, message, details: details ?? {}, request_id: c.get('requestId') ?? null } }, status);
}

/** app.onError: every error leaves as the envelope; anything unexpected is a logged 500 that reveals nothing. */
export function errorHandler(logger: Logger) {
  return function handleError(thrown: Error, c: Context): Response {
    const error = fromDatabaseError(thrown) ?? thrown;
    if (error instanceof AppError) {
      if (error instanceof ApiError) for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      if (error.status === 503) c.header('Retry-After', String(error.details?.retry_after_seconds ?? 1));
      return errorResponse(c, error.status, error.code, error.message, error.details);
    }
    if (error instanceof HTTPException) {
      const code: ErrorCode = error.status === 413 ? 'payload_too_large'
        : error.status === 401 ? 'unauthorized' : error.status === 404 ? 'not_found' : 'validation_error';
      return errorResponse(c, error.status, code, error.message || 'request rejected');
    }
    logger.error({ err: error, requestId: c.get('requestId'), path: c.req.path }, 'unhandled error answering request');
    return errorResponse(c, 500, 'internal_error', 'internal error; the request id identifies it in the logs');
  };
}

export function notFoundHandler(c: Context): Response {
  return errorResponse(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`);
}
