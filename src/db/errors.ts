import { AppError } from '../errors.ts';

interface PgError {
  code: string;
  constraint?: string;
  detail?: string;
}

function isPgError(error: unknown): error is PgError {
  return typeof error === 'object' && error !== null && typeof (error as PgError).code === 'string'
    && /^[0-9A-Z]{5}$/.test((error as PgError).code);
}

/**
 * Constraint violations and unstorable text that input validation should have caught first, or that races make
 * possible (two creates of one name): answered as conflicts or bad input instead of a 500. Anything else stays
 * unmapped.
 */
export function fromDatabaseError(error: unknown): AppError | undefined {
  // node-postgres' pool gives up waiting for a free connection: the service is saturated, not broken.
  if (error instanceof Error && /timeout exceeded when trying to connect/.test(error.message)) {
    return new AppError(503, 'service_unavailable', 'the service is busy: try again in a moment', { retry_after_seconds: 1 });
  }
  if (!isPgError(error)) return undefined;
  const details = { constraint: error.constraint ?? null };
  switch (error.code) {
    case '23505':
      return new AppError(409, 'conflict', `already exists (${error.constraint ?? 'unique constraint'})`, details,
        'NameConflict');
    case '23503':
    case '23001':
      return new AppError(409, 'in_use', `still referenced (${error.constraint ?? 'foreign key'})`, details, 'InUse');
    case '23514':
      return new AppError(400, 'validation_error', `violates ${error.constraint ?? 'a check constraint'}`, details,
        'SpecInvalid');
    // Text PostgreSQL cannot take: a NUL byte in text (22021) or jsonb (22P05), or bytes that are not UTF-8.
    // The API refuses such text first (src/api/text-rules.ts); this is the last line for any other way in.
    case '22021':
    case '22P05':
      return new AppError(400, 'validation_error', 'text must not contain NUL bytes and must be valid Unicode',
        { sqlstate: error.code }, 'SpecInvalid');
    default:
      return undefined;
  }
}
