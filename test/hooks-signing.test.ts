import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { signatureHeaders, signWebhook } from '../src/hooks/signing.ts';
import { verifyStandardWebhook } from './support/hook-receiver.ts';

const test = suite('hook signing (Standard Webhooks v1)');

// The published Standard Webhooks test vector (also used by the svix and standardwebhooks libraries' own tests).
const vector = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

test('reproduces the published test vector', () => {
  assert.is(signWebhook(vector.secret, vector.id, vector.timestamp, vector.body), vector.signature);
  assert.is(signWebhook(vector.secret, vector.id, vector.timestamp, Buffer.from(vector.body)), vector.signature);
});

test('the headers of an attempt carry the id, the Unix time in seconds and a signature a receiver accepts', () => {
  const now = new Date('2025-01-02T03:04:05.678Z');
  const headers = signatureHeaders(vector.secret, 'msg_42_abc', '{"a":1}', now);
  assert.equal(headers, {
    'webhook-id': 'msg_42_abc',
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signWebhook(vector.secret, 'msg_42_abc', Math.floor(now.getTime() / 1000), '{"a":1}'),
  });
  assert.is(verifyStandardWebhook(vector.secret, headers, '{"a":1}', now), null);
  assert.is(verifyStandardWebhook(vector.secret, headers, '{"a":2}', now), 'no signature matches', 'the body is signed');
  assert.is(verifyStandardWebhook('whsec_' + Buffer.from('another key').toString('base64'), headers, '{"a":1}', now),
    'no signature matches', 'the key is the secret');
  assert.is(verifyStandardWebhook(vector.secret, headers, '{"a":1}', new Date(now.getTime() + 600_000)),
    'timestamp outside tolerance');
});

test('an id with "." (the separator) or a secret without a key is refused', () => {
  assert.throws(() => signWebhook(vector.secret, 'msg.1', 1, '{}'), /must not contain/);
  assert.throws(() => signWebhook('whsec_', 'msg_1', 1, '{}'), /no key/);
});

test.run();
