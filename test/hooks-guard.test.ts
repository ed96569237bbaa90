import type { LookupAddress } from 'node:dns';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { guardedLookup, parseAllowedNetworks, refusalOf, refusalOfLiteralHost } from '../src/hooks/address-guard.ts';
import { definitionByName } from '../src/settings/registry.ts';
import { validateSettingValue } from '../src/settings/validate.ts';

const test = suite('hook address guard');
const none = parseAllowedNetworks([]);

test('loopback, private, CGNAT, link-local, metadata, unspecified, multicast and broadcast are refused', () => {
  const refused: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/], ['127.255.0.9', /loopback/], ['::1', /loopback/],
    ['10.1.2.3', /private/], ['172.16.0.1', /private/], ['172.31.255.255', /private/], ['192.168.1.1', /private/],
    ['fc00::1', /unique local/], ['fd12:3456::1', /unique local/],
    ['100.64.0.1', /CGNAT/], ['100.127.255.254', /CGNAT/],
    ['169.254.169.254', /link-local \(cloud metadata\)/], ['169.254.0.1', /link-local/], ['fe80::1', /link-local/],
    ['0.0.0.0', /unspecified/], ['::', /unspecified/],
    ['224.0.0.1', /multicast/], ['ff02::1', /multicast/], ['255.255.255.255', /broadcast/],
    // IPv4 hidden in IPv6: mapped (both spellings), compatible, NAT64.
    ['::ffff:127.0.0.1', /IPv4-mapped .*loopback/], ['::ffff:7f00:1', /IPv4-mapped .*loopback/],
    ['::ffff:169.254.169.254', /IPv4-mapped .*metadata/], ['::ffff:a00:1', /IPv4-mapped .*private/],
    ['::127.0.0.1', /IPv4-compatible .*loopback/], ['64:ff9b::10.0.0.1', /NAT64 .*private/],
    ['2002:7f00:1::1', /6to4/],
    // IPv4-translated (SIIT) and local-use NAT64 are refused whatever they carry, public addresses included.
    ['::ffff:0:127.0.0.1', /IPv4-translated/], ['::ffff:0:7f00:1', /IPv4-translated/],
    ['::ffff:0:93.184.216.34', /IPv4-translated/], ['0:0:0:0:ffff:0:a00:1', /IPv4-translated/],
    ['64:ff9b:1::1', /local-use NAT64/], ['64:ff9b:1::10.0.0.1', /local-use NAT64/],
    ['64:ff9b:1:ffff::93.184.216.34', /local-use NAT64/],
  ];
  for (const [address, why] of refused) {
    const refusal = refusalOf(address, none);
    assert.ok(refusal && why.test(refusal), `${address}: ${refusal}`);
  }
});

test('public addresses pass, also inside IPv6 forms', () => {
  for (const address of ['93.184.216.34', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111',
    '::ffff:93.184.216.34', '64:ff9b::1.1.1.1']) {
    assert.is(refusalOf(address, none), null, address);
  }
});

test('an allowed network lets its addresses through, mapped forms included; nothing else', () => {
  const allowed = parseAllowedNetworks(['127.0.0.0/8', '10.20.0.0/16', 'fd00:1::/64']);
  for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '10.20.3.4', 'fd00:1::5']) assert.is(refusalOf(address, allowed), null, address);
  for (const address of ['10.21.0.1', '::1', '169.254.169.254', 'fd00:2::5']) assert.ok(refusalOf(address, allowed), address);
  assert.is(refusalOf('169.254.169.254', parseAllowedNetworks(['169.254.169.254/32'])), null);
});

test('literal hosts in every spelling the URL parser accepts are checked', () => {
  for (const url of ['http://127.0.0.1/', 'http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://0/',
    'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[0:0:0:0:0:ffff:7f00:1]/', 'http://169.254.169.254/',
    'https://[fe80::1]/', 'http://[::ffff:0:127.0.0.1]/', 'http://[0:0:0:0:ffff:0:7f00:1]/', 'http://[64:ff9b:1::a00:1]/']) {
    const refusal = refusalOfLiteralHost(new URL(url).hostname, none);
    assert.ok(refusal?.includes('cloudpods.webhooks.allowed_networks'), `${url}: ${refusal}`);
  }
  assert.is(refusalOfLiteralHost(new URL('http://[::ffff:127.0.0.1]/').hostname, parseAllowedNetworks(['127.0.0.0/8'])), null);
  assert.is(refusalOfLiteralHost('hooks.example.com', none), null, 'names are checked when they are resolved');
});

test('the lookup keeps only permitted addresses, and fails naming them when none is left', async () => {
  const dns = (addresses: LookupAddress[]) => (_host: string, _options: unknown,
    callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => callback(null, addresses);
  const lookup = (addresses: LookupAddress[], all: boolean, allowed = none) => new Promise<unknown>((resolve) => {
    guardedLookup(allowed, dns(addresses))('hooks.example.test', { all }, (error, address, family) =>
      resolve(error ? { error: error.message } : { address, family }));
  });
  const mixed: LookupAddress[] = [{ address: '127.0.0.1', family: 4 }, { address: '93.184.216.34', family: 4 },
    { address: '::1', family: 6 }];
  assert.equal(await lookup(mixed, true), { address: [{ address: '93.184.216.34', family: 4 }], family: undefined });
  assert.equal(await lookup(mixed, false), { address: '93.184.216.34', family: 4 });
  const refused = await lookup([{ address: '10.0.0.7', family: 4 }, { address: '::1', family: 6 }], false) as { error: string };
  assert.match(refused.error, /hooks\.example\.test resolves only to refused addresses: 10\.0\.0\.7 \(private\), ::1 \(loopback\)/);
  assert.equal(await lookup([{ address: '10.0.0.7', family: 4 }], false, parseAllowedNetworks(['10.0.0.0/8'])),
    { address: '10.0.0.7', family: 4 });
});

test('cloudpods.webhooks.allowed_networks takes a list of CIDRs only', () => {
  const definition = definitionByName('cloudpods.webhooks.allowed_networks')!;
  assert.equal(definition.default, []);
  assert.ok(validateSettingValue(definition, ['127.0.0.0/8', 'fd00::/8', '169.254.169.254/32']).ok);
  for (const bad of ['127.0.0.0/8', ['127.0.0.1/8'], ['localhost'], [42], ['10.0.0.0/33']]) {
    const result = validateSettingValue(definition, bad);
    assert.is(result.ok, false, JSON.stringify(bad));
  }
});

test.run();
