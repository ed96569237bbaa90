import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { planRRset, servedAsDesired, type DesiredRRset } from '../controllers/dns-record/plan.ts';
import { dnsLabelSchema, dnsNamePattern, isDnsName } from '../src/dns/label.ts';
import { parseHostname } from '../src/dns/names.ts';
import { renderCrds } from '../src/kube/crds/index.ts';
import { findDefinition } from '../src/settings/registry.ts';
import { validateSettingValue } from '../src/settings/validate.ts';
import { canonicalContent, canonicalName, reverseName } from '../src/powerdns/canonical.ts';
import { ownerMarker } from '../src/powerdns/ownership.ts';
import type { PdnsRRset } from '../src/powerdns/types.ts';
import { mergeChanges } from '../src/powerdns/writer.ts';

const test = suite('PowerDNS rules: canonical forms, plan, batching');

test('canonical forms match what PowerDNS stores', () => {
  const cases: Array<[type: string, input: string, expected: string | null]> = [
    ['A', '192.0.2.1', '192.0.2.1'],
    ['A', ' 10.0.0.255 ', '10.0.0.255'],
    ['A', '256.1.1.1', null],
    ['A', '2001:db8::1', null],
    ['AAAA', '2001:DB8:0:0::0001', '2001:db8::1'], // the notes' example, verified against pdns
    ['AAAA', '2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], // longest zero run
    ['AAAA', '2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first run on a tie
    ['AAAA', '2001:db8:1:1:1:1:0:1', '2001:db8:1:1:1:1:0:1'], // one zero group is not compressed
    ['AAAA', '::', '::'],
    ['AAAA', '::ffff:192.0.2.1', '::ffff:c000:201'],
    ['AAAA', 'fe80::1%eth0', null],
    ['PTR', 'App.Example.COM', 'app.example.com.'],
    ['CNAME', 'a.example.com.', 'a.example.com.'],
  ];
  for (const [type, input, expected] of cases) assert.is(canonicalContent(type, input), expected, `${type} ${input}`);
  assert.is(canonicalName('WWW.Example.com..'), 'www.example.com.');
});

test('reverse names', () => {
  assert.is(reverseName('192.0.2.55'), '55.2.0.192.in-addr.arpa.');
  assert.is(reverseName('2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.');
  assert.is(reverseName('nope'), null);
});

test('host names: RFC 1123, lower-cased, trailing dot dropped, length bounds', () => {
  const cases: Array<[string, string | null]> = [
    ['App.Example.com.', 'app.example.com'],
    ['a-b.example', 'a-b.example'],
    ['-a.example', null],
    ['a_b.example', null],
    ['', null],
    [`${'a'.repeat(64)}.example`, null],
    [Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.'), null],
  ];
  for (const [input, expected] of cases) {
    const parsed = parseHostname(input);
    assert.is('name' in parsed ? parsed.name : null, expected, input);
  }
});

test('one DNS name rule: the orders, the settings, the CRDs and the REST names accept exactly the same names', () => {
  const names = ['example', 'a-b.example', 'x1.pods.example.com', '1.example', '-a.example', 'a-.example', 'a_b.example',
    'A.example', 'example.', 'a..example', '', `${'a'.repeat(63)}.example`, `${'a'.repeat(64)}.example`,
    Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.'), Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')];
  const zones = findDefinition('cloudpods', 'dns.platform_zones')!;
  for (const name of names) {
    const parsed = parseHostname(name);
    const ordered = 'name' in parsed && parsed.name === name;
    assert.is(isDnsName(name), ordered, `CRD pattern and bound: ${name}`);
    assert.is(validateSettingValue(zones, [name]).ok, ordered, `setting: ${name}`);
    if (!name.includes('.')) assert.is(dnsLabelSchema.safeParse(name).success, ordered, `label: ${name}`);
  }
  const crds = [...renderCrds().values()].join('\n');
  assert.is(crds.split(`pattern: ${dnsNamePattern}\n`).length - 1, 2, 'the CloudPod hostname and zone carry it');
});

const owner = 'cloudpods';
const desired = (contents: string[], ttl = 300): DesiredRRset => ({ name: 'app.example.com.', type: 'A', ttl, contents });
const rrset = (type: string, contents: string[], { ours = true, ttl = 300, disabled = false } = {}): PdnsRRset => ({
  name: 'app.example.com.', type, ttl, records: contents.map((content) => ({ content, disabled })),
  comments: ours ? [ownerMarker(owner)] : [{ account: '', content: 'saved in PowerDNS-Admin' }],
});

test('plan: one decision per (desired, observed), never touching what is not ours', () => {
  const cases: Array<[what: string, want: DesiredRRset, observed: PdnsRRset[], expected: string, wasServed?: boolean]> = [
    ['absent: create', desired(['192.0.2.1']), [], 'write REPLACE'],
    ['ours and equal: nothing', desired(['192.0.2.1']), [rrset('A', ['192.0.2.1'])], 'none verify'],
    ['ours, other content: replace', desired(['192.0.2.1']), [rrset('A', ['192.0.2.9'])], 'write REPLACE'],
    ['ours, other content, was served: drift', desired(['192.0.2.1']), [rrset('A', ['192.0.2.9'])], 'write REPLACE drift', true],
    ['ours, other TTL: replace', desired(['192.0.2.1'], 60), [rrset('A', ['192.0.2.1'])], 'write REPLACE'],
    ['ours, disabled: replace', desired(['192.0.2.1']), [rrset('A', ['192.0.2.1'], { disabled: true })], 'write REPLACE'],
    ['foreign A: conflict', desired(['192.0.2.1']), [rrset('A', ['192.0.2.1'], { ours: false })], 'conflict'],
    ['CNAME at the name: conflict', desired(['192.0.2.1']), [rrset('CNAME', ['x.example.com.'], { ours: false })], 'conflict'],
    ['other types beside: create', desired(['192.0.2.1']), [rrset('TXT', ['"v=spf1"'], { ours: false })], 'write REPLACE'],
    ['unwanted and ours: delete', desired([]), [rrset('A', ['192.0.2.1'])], 'write DELETE'],
    ['unwanted and foreign: leave, no check', desired([]), [rrset('A', ['192.0.2.1'], { ours: false })], 'none'],
    ['unwanted and absent: nothing, check', desired([]), [], 'none verify'],
  ];
  for (const [what, want, observed, expected, wasServed] of cases) {
    const plan = planRRset(want, observed, owner, { wasServed: wasServed ?? false });
    const text = plan.action === 'write' ? `write ${plan.change.changetype}${plan.drift ? ' drift' : ''}`
      : plan.action === 'none' ? `none${plan.verify ? ' verify' : ''}` : 'conflict';
    assert.is(text, expected, what);
  }
  const marked = planRRset(desired(['192.0.2.1']), [], owner);
  assert.equal(marked.action === 'write' && marked.change.changetype === 'REPLACE' && marked.change.comments,
    [ownerMarker(owner)], 'writes carry the marker');
});

test('served: same contents and TTL', () => {
  const want = desired(['192.0.2.1', '192.0.2.2'], 60);
  assert.ok(servedAsDesired(want, [{ type: 'A', ttl: 60, data: '192.0.2.2' }, { type: 'A', ttl: 60, data: '192.0.2.1' }]));
  assert.not.ok(servedAsDesired(want, [{ type: 'A', ttl: 60, data: '192.0.2.1' }]));
  assert.not.ok(servedAsDesired(want, [{ type: 'A', ttl: 300, data: '192.0.2.1' }, { type: 'A', ttl: 300, data: '192.0.2.2' }]));
  assert.ok(servedAsDesired(desired([]), []));
});

test('batching: one change per RRset, the latest winning, DELETEs first', () => {
  const replace = (name: string, content: string) => ({ name, type: 'A', changetype: 'REPLACE' as const, ttl: 60,
    records: [{ content, disabled: false }], comments: [] });
  const merged = mergeChanges([
    [replace('a.', '192.0.2.1')],
    [{ name: 'b.', type: 'A', changetype: 'DELETE' }],
    [replace('a.', '192.0.2.2'), replace('c.', '192.0.2.3')],
  ]);
  assert.equal(merged.map((c) => `${c.changetype} ${c.name}${c.changetype === 'REPLACE' ? ` ${c.records[0]!.content}` : ''}`),
    ['DELETE b.', 'REPLACE a. 192.0.2.2', 'REPLACE c. 192.0.2.3']);
});

test.run();
