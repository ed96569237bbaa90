import {
  ConflictError, InvalidParametersError, LockedError, NotFoundError, PermissionDeniedError, ProxmoxError,
  StorageFullError, TransientError, UntrustedPeerError, type ProxmoxErrorDetails,
} from './errors.ts';

/**
 * Pure classification of Proxmox failures. PVE answers almost every runtime failure with HTTP 500 and a message,
 * so the message decides; the status decides only where it means something (400, 401, 403, 5xx).
 */

export interface FailedResponse {
  status: number;
  /** The body's `message`, else the HTTP reason phrase. */
  message: string;
  /** The body's `errors`: one message per parameter (400). */
  errors?: Record<string, string> | undefined;
  request?: string;
}

interface Rule {
  pattern: RegExp;
  make: (message: string, match: RegExpExecArray, details: ProxmoxErrorDetails) => ProxmoxError;
}

/** Checked in order against the message; the first match wins. */
const messageRules: Rule[] = [
  { pattern: /\b(?:VM|CT) is locked \(([\w-]+)\)/, make: (m, match, d) => new LockedError(m, match[1]!, d) },
  { pattern: /can't lock file '[^']*' - got timeout/, make: (m, _, d) => new LockedError(m, 'file', d) },
  { pattern: /Permission check failed/, make: (m, _, d) => new PermissionDeniedError(m, d) },
  // LVM (`Volume group "pve" has insufficient free space`), and a file system under qemu-img or a copy.
  { pattern: /insufficient free space|not enough space|No space left on device/i,
    make: (m, _, d) => new StorageFullError(m, d) },
  { pattern: /does not exist|no such (?:VM|task|volume|storage)|not found/i, make: (m, _, d) => new NotFoundError(m, d) },
  { pattern: /already exists/, make: (m, _, d) => new ConflictError(m, 'already-exists', d) },
  { pattern: /already running|\bis running\b/, make: (m, _, d) => new ConflictError(m, 'running', d) },
  { pattern: /\bnot running\b|No QEMU guest agent configured/, make: (m, _, d) => new ConflictError(m, 'not-running', d) },
  { pattern: /protection mode enabled|is protected/, make: (m, _, d) => new ConflictError(m, 'protected', d) },
  { pattern: /detected modified configuration|checksum mis+match/, make: (m, _, d) => new ConflictError(m, 'modified', d) },
  { pattern: /got timeout|no quorum|got no worker upid|Connection (?:refused|timed out)/,
    make: (m, _, d) => new TransientError(m, d) },
];

/** Classifies an HTTP error response. */
export function classifyResponse(response: FailedResponse): ProxmoxError {
  const message = firstLine(response.message) || `HTTP ${response.status}`;
  const details: ProxmoxErrorDetails = { status: response.status, request: response.request };
  const errors = response.errors ?? {};
  const parameterText = Object.entries(errors).map(([name, text]) => `${name}: ${firstLine(text)}`).join('; ');

  if (response.status === 401 || response.status === 403) return new PermissionDeniedError(message, details);
  if (response.status === 400) {
    const full = parameterText ? `${message} (${parameterText})` : message;
    // nextid?vmid=N answers a taken id as a parameter error; it is a collision, not a bad request.
    if (/already exists/.test(parameterText)) return new ConflictError(full, 'already-exists', details);
    if (/no such task/.test(parameterText)) return new NotFoundError(full, details);
    return new InvalidParametersError(full, errors, details);
  }
  const byMessage = classifyMessage(message, details);
  if (byMessage) return byMessage;
  if (response.status === 404) return new NotFoundError(message, details);
  if (response.status >= 500 && response.status !== 501) return new TransientError(message, details);
  return new ProxmoxError(message, details);
}

/** Classifies a task's exit status (or any PVE error text); unknown text is not retried. */
export function classifyExitStatus(exitStatus: string): ProxmoxError {
  return classifyMessage(exitStatus, {}) ?? new ProxmoxError(exitStatus);
}

/** OpenSSL's verdicts on a certificate that does not chain to the configured CA or does not name the host. */
const untrustedCertificateCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Classifies a failure below HTTP (connection refused or reset, timeout, TLS, SSH). A refused login is permanent;
 * everything else may pass, so it is transient.
 */
export function classifyNetworkError(error: unknown, request?: string): ProxmoxError {
  if (error instanceof ProxmoxError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  const text = `${request ? `${request}: ` : ''}${code && !message.includes(code) ? `${code} ` : ''}${message}`;
  if (/authentication methods failed/i.test(message)) return new PermissionDeniedError(text, { request, cause: error });
  if (untrustedCertificateCodes.has(code)) {
    return new UntrustedPeerError(`TLS certificate not trusted: ${text}`, { request, cause: error });
  }
  return new TransientError(text, { request, cause: error });
}

function classifyMessage(message: string, details: ProxmoxErrorDetails): ProxmoxError | undefined {
  for (const rule of messageRules) {
    const match = rule.pattern.exec(message);
    if (match) return rule.make(firstLine(message), match, details);
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
}
