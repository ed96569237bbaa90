import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { issueSimulatorCertificates } from '../../src/sim/tls-certificate.ts';

/** One request a test receiver got, as its handler saw it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The raw body, exactly as received. */
  body: string;
  /** Whether the Standard Webhooks signature verified with the receiver's secret (null: no secret given). */
  verified: boolean | null;
  /** Why it did not verify. */
  problem?: string;
}

/** What the receiver answers the nth request (1-based) with; `hang` never answers. */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface HookReceiver {
  /** `http(s)://127.0.0.1:<port>`. */
  origin: string;
  port: number;
  received: ReceivedRequest[];
  /** The CA that signed an https receiver's certificate (for `localhost` and 127.0.0.1). */
  caPem?: string;
  /** The secret to verify with; may be set once the hook row (which makes it) exists. */
  secret?: string;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  tls?: boolean;
  secret?: string;
  answer?: (n: number, request: ReceivedRequest) => Answer;
}

/**
 * A webhook receiver on loopback that checks signatures the way a Standard Webhooks library does (spec v1:
 * `<id>.<timestamp>.<body>`, HMAC-SHA256 with the whsec_ key, any of the space-separated `v1,` signatures,
 * constant-time compare, 5 minutes' tolerance), written here from the spec rather than with the sender's code.
 */
export async function startHookReceiver({ tls = false, secret, answer = () => ({ status: 204 }) }: ReceiverOptions = {})
  : Promise<HookReceiver> {
  const received: ReceivedRequest[] = [];
  const certificates = tls ? issueSimulatorCertificates(['localhost', '127.0.0.1']) : undefined;
  const receiver: HookReceiver = { origin: '', port: 0, received, secret, caPem: certificates?.ca.certPem,
    close: async () => {} };
  const handler: http.RequestListener = (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const problem = receiver.secret ? verifyStandardWebhook(receiver.secret, request.headers, body) : undefined;
      const entry: ReceivedRequest = { method: request.method ?? '', path: request.url ?? '', headers: request.headers,
        body, verified: receiver.secret ? problem === null : null, ...(problem ? { problem } : {}) };
      received.push(entry);
      const reply = answer(received.length, entry);
      if (reply === 'hang') return;
      response.writeHead(reply.status, reply.headers).end(reply.body ?? '');
    });
  };
  const server = certificates
    ? https.createServer({ cert: certificates.server.certPem, key: certificates.server.keyPem }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.origin = `${tls ? 'https' : 'http'}://127.0.0.1:${receiver.port}`;
  receiver.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return receiver;
}

type WebhookHeaders = { [name in 'webhook-id' | 'webhook-timestamp' | 'webhook-signature']?: string | string[] }
  | http.IncomingHttpHeaders;

/** null when the request is a valid Standard Webhooks v1 message for `secret`, else what is wrong. */
export function verifyStandardWebhook(secret: string, headers: WebhookHeaders, body: string,
  now: Date = new Date()): string | null {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') {
    return 'missing webhook-id, webhook-timestamp or webhook-signature';
  }
  const seconds = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || Math.abs(now.getTime() / 1000 - seconds) > 300) return 'timestamp outside tolerance';
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  const matches = signatures.split(' ').some((candidate) => {
    const [version, value] = candidate.split(',');
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? null : 'no signature matches';
}
