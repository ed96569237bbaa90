/**
 * What went wrong with a Proxmox call, classified so a controller can decide: retry later (Locked, Transient),
 * treat as gone (NotFound), act on the state first (Conflict), or stop and report (PermissionDenied,
 * InvalidParameters, StorageFull, UntrustedPeer). `kind` is stable and doubles as a metric label.
 */

export type ProxmoxErrorKind = 'locked' | 'not-found' | 'conflict' | 'transient' | 'permission-denied'
  | 'invalid-parameters' | 'storage-full' | 'task-failed' | 'untrusted-peer' | 'unexpected';

export interface ProxmoxErrorDetails {
  /** HTTP status, when the error came from a response. */
  status?: number;
  /** `GET /nodes/pve1/qemu/105/config`, when known. */
  request?: string;
  cause?: unknown;
}

export class ProxmoxError extends Error {
  override name = 'ProxmoxError';
  readonly kind: ProxmoxErrorKind = 'unexpected';
  readonly status: number | undefined;
  readonly request: string | undefined;
  constructor(message: string, details: ProxmoxErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.request = details.request;
  }
  /** Whether trying the same call again later can succeed without anything else changing. */
  get retryable(): boolean {
    return this.kind === 'locked' || this.kind === 'transient';
  }
}

/** `VM is locked (<reason>)` from a config lock, or `can't lock file ... - got timeout` from a file lock. */
export class LockedError extends ProxmoxError {
  override name = 'LockedError';
  override readonly kind = 'locked';
  /** The config lock (`clone`, `backup`, ...) or `file` for a lock-file timeout. */
  readonly lock: string;
  constructor(message: string, lock: string, details?: ProxmoxErrorDetails) {
    super(message, details);
    this.lock = lock;
  }
}

/** The VM, task, storage or volume does not exist (PVE answers most of these with a 500). */
export class NotFoundError extends ProxmoxError {
  override name = 'NotFoundError';
  override readonly kind = 'not-found';
}

export type ConflictReason = 'already-exists' | 'running' | 'not-running' | 'protected' | 'modified';

/** The object is in a state that forbids the call: it exists already, runs, is protected or changed meanwhile. */
export class ConflictError extends ProxmoxError {
  override name = 'ConflictError';
  override readonly kind = 'conflict';
  readonly reason: ConflictReason;
  constructor(message: string, reason: ConflictReason, details?: ProxmoxErrorDetails) {
    super(message, details);
    this.reason = reason;
  }
}

/** 5xx without a known meaning, 595/596 from an unreachable node, network failures and timeouts. */
export class TransientError extends ProxmoxError {
  override name = 'TransientError';
  override readonly kind = 'transient';
}

/** 401 (bad or missing token) and 403 (`Permission check failed`). */
export class PermissionDeniedError extends ProxmoxError {
  override name = 'PermissionDeniedError';
  override readonly kind = 'permission-denied';
}

/** 400 `Parameter verification failed.`, with PVE's message for each parameter. */
export class InvalidParametersError extends ProxmoxError {
  override name = 'InvalidParametersError';
  override readonly kind = 'invalid-parameters';
  readonly parameters: Readonly<Record<string, string>>;
  constructor(message: string, parameters: Record<string, string>, details?: ProxmoxErrorDetails) {
    super(message, details);
    this.parameters = parameters;
  }
}

/** A storage cannot hold a new or grown disk: not retried until something frees or adds space. */
export class StorageFullError extends ProxmoxError {
  override name = 'StorageFullError';
  override readonly kind = 'storage-full';
}

/** A task ended with an exit status other than `OK` or `WARNINGS: n`. */
export class TaskFailedError extends ProxmoxError {
  override name = 'TaskFailedError';
  override readonly kind = 'task-failed';
  readonly upid: string;
  readonly exitStatus: string;
  /** The last lines of the task log, oldest first. */
  readonly logTail: readonly string[];
  /** What the exit status means (a LockedError for a lock timeout inside the worker, ...). */
  readonly reason: ProxmoxError;
  constructor(upid: string, exitStatus: string, logTail: readonly string[], reason: ProxmoxError) {
    super(`task ${upid} failed: ${exitStatus}`);
    this.upid = upid;
    this.exitStatus = exitStatus;
    this.logTail = logTail;
    this.reason = reason;
  }
  override get retryable(): boolean {
    return this.reason.retryable;
  }
}

/** The peer's TLS certificate or SSH host key is not the pinned one: never retried, never ignored. */
export class UntrustedPeerError extends ProxmoxError {
  override name = 'UntrustedPeerError';
  override readonly kind = 'untrusted-peer';
}
