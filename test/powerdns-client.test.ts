import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PowerDnsClient } from '../src/powerdns/client.ts';
import { PowerDnsPermanentError, PowerDnsTransientError } from '../src/powerdns/errors.ts';
import type { RRsetChange } from '../src/powerdns/types.ts';
import { startTestPowerDns, type TestPowerDns } from './support/powerdns.ts';

const test = suite('PowerDNS client and zone writer against PowerDNS');
let pdns: TestPowerDns;

test.before(async () => { pdns = await startTestPowerDns(); });
test.after(async () => { await pdns?.close(); });

const a = (name: string, content: string): RRsetChange => ({ name, type: 'A', changetype: 'REPLACE', ttl: 60,
  records: [{ content, disabled: false }], comments: [{ account: 'cloudpods', content: 'test' }] });

test('zones by name with the id PowerDNS gives; errors classified by status', async () => {
  const name = await pdns.aZone('cl');
  const zone = await pdns.client.findZone(name.toUpperCase());
  assert.is(zone!.id, `${name}.`);
  assert.is(await pdns.client.findZone(`missing-${name}`), null);
  const rejected = await pdns.client.patch(zone!.id, [{ ...a(`x.${name}.`, '192.0.2.1'), ttl: undefined } as never])
    .catch((e: unknown) => e);
  assert.ok(rejected instanceof PowerDnsPermanentError && rejected.status === 422, String(rejected));
  const wrongKey = await new PowerDnsClient({ apiUrl: pdns.apiUrl, apiKey: 'wrong' }).findZone(name).catch((e: unknown) => e);
  assert.ok(wrongKey instanceof PowerDnsPermanentError && wrongKey.status === 401, String(wrongKey));
  const noServer = await new PowerDnsClient({ apiUrl: 'http://127.0.0.1:1', apiKey: 'x', requestTimeoutMs: 500 })
    .findZone(name).catch((e: unknown) => e);
  assert.ok(noServer instanceof PowerDnsTransientError, String(noServer));
});

test('writer: concurrent writes to one zone go out in few PATCHes; a bad change fails alone; primaries are notified', async () => {
  const name = await pdns.aZone('batch', 'Master');
  const context = pdns.context();
  const zone = (await context.zones.find(name))!;
  const writes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) =>
    context.writer.write(zone, [a(`h${i}.${name}.`, `192.0.2.${i + 1}`)])));
  assert.ok(writes.every((r) => r.status === 'fulfilled'), 'committed');
  const { patches, notifies } = context.client.counters;
  assert.ok(patches <= 3, `batched: ${patches} PATCHes for 30 writes`);
  assert.ok(notifies >= 1, 'NOTIFY after changes to a primary');

  // A batch PowerDNS refuses is sent again caller by caller: only the bad change fails. The first write holds the
  // zone, so the next two go out together.
  const [good, bad] = await Promise.allSettled([context.writer.write(zone, [a(`first.${name}.`, '192.0.2.200')]),
    context.writer.write(zone, [a(`good.${name}.`, '192.0.2.201')]), context.writer.write(zone, [a(`bad.${name}.`, 'not-an-address')])]
    .slice(1));
  assert.equal([good!.status, bad!.status], ['fulfilled', 'rejected']);
  assert.match(String((bad as PromiseRejectedResult).reason), /422/);
  assert.is((await pdns.client.zoneRRsets(zone.id)).filter((r) => r.type === 'A').length, 32);
});

test.run();
