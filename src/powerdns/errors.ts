/**
 * PowerDNS failures, classified by HTTP status (never by message text, which changes between versions):
 * 4xx means the request itself is wrong and retrying cannot help; 5xx (sqlite `database is locked`), timeouts and
 * refused connections are transient and retried with backoff.
 */
export class PowerDnsError extends Error {
  /** HTTP status, or 0 when no answer arrived. */
  readonly status: number;
  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PowerDnsError';
    this.status = status;
  }
}

/** 400/401/403/404/422: bad data, conflict, wrong key or unknown zone. Surface it, do not hot-retry. */
export class PowerDnsPermanentError extends PowerDnsError {
  override name = 'PowerDnsPermanentError';
}

/** 5xx, a timeout or no connection: retry with backoff. */
export class PowerDnsTransientError extends PowerDnsError {
  override name = 'PowerDnsTransientError';
}

export function classifyStatus(status: number, message: string): PowerDnsError {
  return status >= 500 || status === 429 ? new PowerDnsTransientError(status, message)
    : new PowerDnsPermanentError(status, message);
}

export const isTransient = (error: unknown): error is PowerDnsTransientError => error instanceof PowerDnsTransientError;
