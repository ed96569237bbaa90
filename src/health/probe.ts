import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { guardedLookup, refusalOfLiteralHost } from '../hooks/address-guard.ts';
import type { Network } from '../net/cidr.ts';
import type { HealthCheck } from './probe-spec.ts';

/**
 * Runs one attempt of a tenant's probe against the pod's address, from the controller. The hook address guard
 * decides first, as for http hooks (src/hooks/http-delivery.ts): the address is an IP literal, which Node
 * connects to without a lookup, so `refusalOfLiteralHost` judges it before any socket opens; http(s) requests
 * also carry the guard's `lookup`, so nothing could resolve elsewhere. A refusal is `ProbeRefused`: not the VM's
 * fault, and no connection was made.
 *
 * TCP: the connect is the check. HTTP(S): a GET of the path on a fresh connection; the status must be the
 * expected one; redirects are not followed (a 3xx is only a pass when it is the expected status). HTTPS probes do
 * not verify the certificate: a VM's certificate is often self-signed or names a host other than its address, and
 * the probe asks whether the service answers, not whether it is who it says (nothing secret is sent).
 */

export type ProbeFailure = 'ProbeFailed' | 'ProbeRefused' | 'ProbeTimeout';
export type ProbeOutcome = { ok: true; latencyMs: number } | { ok: false; reason: ProbeFailure; message: string };

export interface ProbeOptions {
  /** The attempt's bound (the spec's timeout_seconds, unless the caller holds less time). */
  timeoutMs: number;
  /** The caller's signal: shutdown or a job's cancel end the attempt (reported as ProbeFailed, "stopped"). */
  signal?: AbortSignal;
  /** The admin allow-list of the hook guard (`cloudpods.webhooks.allowed_networks`). */
  guard: { allowedNetworks: readonly Network[] };
}

/** How much of an answer is read: the status line is all a probe needs. */
const messageChars = 200;

export async function runProbe(spec: HealthCheck, address: string, options: ProbeOptions): Promise<ProbeOutcome> {
  const refusal = refusalOfLiteralHost(address, options.guard.allowedNetworks);
  if (refusal) return { ok: false, reason: 'ProbeRefused', message: refusal };
  if (net.isIP(address) === 0) {
    return { ok: false, reason: 'ProbeRefused', message: `${address} is not an IP address; probes target the pod's own address` };
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const started = performance.now();
  const attempt = spec.type === 'tcp' ? connectTcp(address, spec.port, signal)
    : requestHttp(spec.type, address, spec.port, spec.path, spec.expected_status, signal, options.guard.allowedNetworks);
  const failure = await attempt.catch((error: unknown) => describeError(error, timeout, signal, options.timeoutMs));
  if (failure === null) return { ok: true, latencyMs: Math.round(performance.now() - started) };
  return { ok: false, ...failure };
}

type Failure = { reason: ProbeFailure; message: string };

/** Resolves null once connected; rejects with the socket's error. */
function connectTcp(address: string, port: number, signal: AbortSignal): Promise<Failure | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
  });
}

function requestHttp(type: 'http' | 'https', address: string, port: number, path: string, expected: number,
  signal: AbortSignal, allowed: readonly Network[]): Promise<Failure | null> {
  const transport = type === 'https' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request({
      method: 'GET', host: address, port, path, signal,
      headers: { 'user-agent': 'CloudPods-Probe/1', accept: '*/*' },
      // A fresh connection per attempt: no pooled socket outlives the address check that opened it.
      agent: false,
      lookup: guardedLookup(allowed),
      ...(type === 'https' ? { rejectUnauthorized: false } : {}),
    }, (response) => {
      const status = response.statusCode ?? 0;
      request.destroy();
      if (status === expected) resolve(null);
      else {
        const where = status >= 300 && status < 400 && response.headers.location
          ? ` (redirect to ${response.headers.location.slice(0, messageChars)} not followed)` : '';
        resolve({ reason: 'ProbeFailed', message: `HTTP ${status}${where}, expected ${expected}` });
      }
    });
    request.once('error', reject);
    request.end();
  });
}

function describeError(error: unknown, timeout: AbortSignal, signal: AbortSignal, timeoutMs: number): Failure {
  if (timeout.aborted) return { reason: 'ProbeTimeout', message: `no answer within ${timeoutMs / 1000} s` };
  if (signal.aborted) return { reason: 'ProbeFailed', message: 'the probe was stopped' };
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ERR_HOOK_ADDRESS_REFUSED') return { reason: 'ProbeRefused', message: (error as Error).message };
  const text = error instanceof Error ? `${code ?? error.name}: ${error.message}` : String(error);
  return { reason: 'ProbeFailed', message: text.slice(0, 300) };
}
