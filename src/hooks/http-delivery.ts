import http from 'node:http';
import https from 'node:https';
import type { Network } from '../net/cidr.ts';
import { guardedLookup, refusalOfLiteralHost } from './address-guard.ts';

/**
 * One attempt of an http hook delivery: a POST of the envelope, signed, to the hook's URL through node:http(s)
 * so the SSRF guard's `lookup` decides where the socket goes. TLS is verified; redirects are not followed (a 3xx
 * is a failure that says where it pointed); 2xx is delivered; anything else, a network error or the timeout is a
 * failure with a short reason for the hook's LastDelivery condition.
 */

export type DeliveryOutcome = { ok: true; detail: string } | { ok: false; reason: string };

export interface HttpDelivery {
  url: string;
  /** The exact bytes that were signed. */
  body: string;
  /** The hook's own headers, then the signature headers (which win). */
  headers: Record<string, string>;
  timeoutMs: number;
  allowedNetworks: readonly Network[];
  /** The job's signal: shutdown or an admin's cancel end the attempt. */
  signal?: AbortSignal;
  /** Extra CA certificates to trust (tests); production trusts Node's default store only. */
  ca?: string | string[];
  /** Name resolution (tests stand in for DNS); default dns.lookup. */
  resolve?: Parameters<typeof guardedLookup>[1];
}

/** How much of a refusing receiver's body is kept for the reason. */
const reasonBodyChars = 200;
/** How much of any answer is read before the connection is dropped. */
const readLimitBytes = 4096;

export function deliverHttp(delivery: HttpDelivery): Promise<DeliveryOutcome> {
  let url: URL;
  try {
    url = new URL(delivery.url);
  } catch {
    return Promise.resolve({ ok: false, reason: 'the target is not a valid URL' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.resolve({ ok: false, reason: `the target's scheme ${url.protocol} is not http or https` });
  }
  const literalRefusal = refusalOfLiteralHost(url.hostname, delivery.allowedNetworks);
  if (literalRefusal) return Promise.resolve({ ok: false, reason: literalRefusal });

  const timeout = AbortSignal.timeout(delivery.timeoutMs);
  const signal = delivery.signal ? AbortSignal.any([delivery.signal, timeout]) : timeout;
  const transport = url.protocol === 'https:' ? https : http;
  // A hook may name its own User-Agent; the body's type and length are ours.
  const headers = { 'user-agent': 'CloudPods-Hooks/1', ...delivery.headers, 'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(delivery.body)) };

  return new Promise<DeliveryOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: DeliveryOutcome) => {
      if (settled) return;
      settled = true;
      request.destroy();
      resolve(outcome);
    };
    const request = transport.request(url, {
      method: 'POST', headers, signal,
      // A fresh connection per delivery: no pooled socket outlives the address check that opened it.
      agent: false,
      lookup: guardedLookup(delivery.allowedNetworks, delivery.resolve),
      ...(url.protocol === 'https:' ? { rejectUnauthorized: true, ...(delivery.ca ? { ca: delivery.ca } : {}) } : {}),
    }, (response) => {
      const status = response.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let length = 0;
      const conclude = () => {
        const text = Buffer.concat(chunks).toString('utf8');
        finish(outcomeOf(status, response.headers.location, text));
      };
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= readLimitBytes) conclude();
      });
      response.on('end', conclude);
      response.on('error', conclude);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (timeout.aborted) finish({ ok: false, reason: `no answer within ${delivery.timeoutMs / 1000} s (timeout)` });
      else if (signal.aborted) finish({ ok: false, reason: `the attempt was stopped: ${describeAbort(signal.reason)}` });
      else finish({ ok: false, reason: describeNetworkError(error) });
    });
    request.end(delivery.body);
  });
}

function outcomeOf(status: number, location: string | undefined, body: string): DeliveryOutcome {
  if (status >= 200 && status < 300) return { ok: true, detail: `HTTP ${status}` };
  if (status >= 300 && status < 400) {
    const where = location ? ` to ${location.slice(0, reasonBodyChars)}` : '';
    return { ok: false, reason: `HTTP ${status}: redirect${where} not followed (hooks never follow redirects)` };
  }
  const excerpt = body.replace(/\s+/g, ' ').trim().slice(0, reasonBodyChars);
  return { ok: false, reason: `HTTP ${status}${excerpt ? `: ${excerpt}` : ''}` };
}

function describeNetworkError(error: NodeJS.ErrnoException): string {
  if (error.code === 'ERR_HOOK_ADDRESS_REFUSED') return error.message;
  const text = `${error.code ?? error.name}: ${error.message}`;
  return text.slice(0, 300);
}

function describeAbort(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
