import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks v1 signing (https://www.standardwebhooks.com, symmetric scheme): the signature is the base64
 * HMAC-SHA256 of `<id>.<timestamp>.<body>`, keyed with the bytes the `whsec_<base64>` secret encodes, sent as
 * `webhook-signature: v1,<base64>` beside `webhook-id` (the same for every attempt of one delivery) and
 * `webhook-timestamp` (Unix seconds of this attempt). Receivers verify with any Standard Webhooks library.
 */

const secretPrefix = 'whsec_';

export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The `v1,<base64>` signature of one message; `body` must be the exact bytes sent. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string | Buffer): string {
  if (id.includes('.')) throw new Error('a webhook id must not contain "."');
  const key = Buffer.from(secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret, 'base64');
  if (key.length === 0) throw new Error('the signing secret holds no key');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of a signed delivery attempt made at `now`. */
export function signatureHeaders(secret: string, id: string, body: string | Buffer, now: Date = new Date())
  : SignatureHeaders {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(secret, id, timestamp, body),
  };
}
