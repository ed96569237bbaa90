import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isEmptyWrite, planConfigWrite } from '../src/proxmox/encoding/config-write.ts';
import { formatMemory, parseMemoryMiB } from '../src/proxmox/encoding/memory.ts';
import { formatNetDevice, parseNetDevice, sameNetDevice, withCurrentMac } from '../src/proxmox/encoding/net-device.ts';
import { formatPropertyString, parsePropertyString } from '../src/proxmox/encoding/property-string.ts';
import { decodeSshKeys, encodeSshKeys, sameSshKeys } from '../src/proxmox/encoding/sshkeys.ts';
import { formatTags, parseTags, sameTags } from '../src/proxmox/encoding/tags.ts';
import { formatUpid, parseUpid } from '../src/proxmox/upid.ts';

const test = suite('proxmox encoding');

test('property strings: default key bare, order kept, round trip', () => {
  const cases: Array<{ text: string; defaultKey?: string; parsed: Record<string, string>; formatted?: string }> = [
    { text: 'virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1', defaultKey: 'model',
      parsed: { virtio: 'BC:24:11:00:00:01', bridge: 'vmbr0', firewall: '1' } },
    { text: 'local-lvm:vm-105-disk-0,size=32G', defaultKey: 'file',
      parsed: { file: 'local-lvm:vm-105-disk-0', size: '32G' } },
    { text: 'size=32G,local-lvm:vm-105-disk-0', defaultKey: 'file',
      parsed: { size: '32G', file: 'local-lvm:vm-105-disk-0' }, formatted: 'local-lvm:vm-105-disk-0,size=32G' },
    { text: 'current=2048', defaultKey: 'current', parsed: { current: '2048' }, formatted: '2048' },
    { text: 'ip=10.0.0.5/24,gw=10.0.0.1', parsed: { ip: '10.0.0.5/24', gw: '10.0.0.1' } },
    { text: '', parsed: {} },
  ];
  for (const c of cases) {
    const parsed = parsePropertyString(c.text, c.defaultKey);
    assert.equal(Object.fromEntries(parsed), c.parsed, c.text);
    assert.is(formatPropertyString(parsed, c.defaultKey), c.formatted ?? c.text, c.text);
  }
  assert.throws(() => parsePropertyString('a=1,a=2'), /duplicate key "a"/);
  assert.throws(() => parsePropertyString('bare'), /no default key/);
  assert.is(formatPropertyString({ enabled: true, fstrim: false, skipped: undefined }), 'enabled=1,fstrim=0');
});

test('sshkeys: encodeURIComponent on the wire (never +), decoded and compared as a set', () => {
  const keys = ['ssh-ed25519 AAAAC3Nza+/= alice@example', 'ssh-rsa AAAAB3Nz bob@example'];
  const wire = encodeSshKeys(keys);
  assert.is(wire, 'ssh-ed25519%20AAAAC3Nza%2B%2F%3D%20alice%40example%0Assh-rsa%20AAAAB3Nz%20bob%40example');
  assert.not.match(wire, /\+/);
  assert.equal(decodeSshKeys(wire), keys);
  const cases: Array<[string | undefined, string[]]> = [
    [undefined, []],
    ['', []],
    [`${wire}%0A`, keys], // PVE may keep a trailing newline
    ['ssh-rsa%20AAA%20x%0D%0A', ['ssh-rsa AAA x']],
    ['ssh-rsa AAA 100%', ['ssh-rsa AAA 100%']], // not encoded at all: taken as written
  ];
  for (const [value, expected] of cases) assert.equal(decodeSshKeys(value), expected, String(value));
  assert.ok(sameSshKeys(keys, [...keys].reverse()));
  assert.ok(sameSshKeys(['ssh-rsa  AAA   x '], ['ssh-rsa AAA x']));
  assert.not.ok(sameSshKeys(keys, keys.slice(1)));
});

test('tags: any separator and case in, one canonical sorted form out, compared as sets', () => {
  const cases: Array<[string, string[]]> = [
    ['b;a', ['a', 'b']],
    ['Web, db  cloudpods-1;web', ['cloudpods-1', 'db', 'web']],
    ['', []],
  ];
  for (const [value, expected] of cases) assert.equal(parseTags(value), expected, value);
  assert.is(formatTags(['Web', 'cloudpods-abc', 'web']), 'cloudpods-abc;web');
  assert.ok(sameTags(['B', 'a'], parseTags('a;b')));
  assert.throws(() => formatTags(['bad tag!']), /must match/);
  assert.throws(() => formatTags(['-leading']), /must match/);
});

test('memory: integer and [current=] property string read alike, bare MiB written', () => {
  const cases: Array<[string | number | undefined, number | undefined]> = [
    ['2048', 2048], [2048, 2048], ['current=4096', 4096], ['4096', 4096], [undefined, undefined], ['', undefined],
  ];
  for (const [value, expected] of cases) assert.is(parseMemoryMiB(value), expected, String(value));
  assert.is(formatMemory(1024), '1024');
  assert.throws(() => formatMemory(8), /16/);
  assert.throws(() => parseMemoryMiB('current=lots'), /no whole/);
});

test('net devices: the current MAC is kept, compared without case or option order', () => {
  const current = 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1';
  const device = parseNetDevice(current);
  assert.is(device.model, 'virtio');
  assert.is(device.macaddr, 'BC:24:11:AA:BB:CC');
  assert.is(formatNetDevice(device), current);
  assert.is(parseNetDevice('model=e1000,macaddr=bc:24:11:00:00:01').macaddr, 'BC:24:11:00:00:01');
  const cases: Array<{ desired: string; current?: string; written: string }> = [
    { desired: 'virtio,bridge=vmbr1', current, written: 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr1' },
    { desired: 'virtio=02:00:00:00:00:01,bridge=vmbr0', current, written: 'virtio=02:00:00:00:00:01,bridge=vmbr0' },
    { desired: 'virtio,bridge=vmbr0', written: 'virtio,bridge=vmbr0' },
  ];
  for (const c of cases) assert.is(withCurrentMac(c.desired, c.current), c.written, c.desired);
  assert.ok(sameNetDevice('virtio,firewall=1,bridge=vmbr0', current));
  assert.ok(sameNetDevice('virtio=bc:24:11:aa:bb:cc,bridge=vmbr0,firewall=1', current));
  assert.not.ok(sameNetDevice('virtio,bridge=vmbr1,firewall=1', current));
  assert.not.ok(sameNetDevice('e1000,bridge=vmbr0,firewall=1', current));
});

test('config writes: only changed keys, normalised on both sides, MAC resent, null deletes', () => {
  const current = {
    name: 'web-1', memory: 'current=2048', cores: 2, onboot: 1,
    tags: 'cloudpods-x;web', sshkeys: 'ssh-rsa%20AAA%20a%40b%0A',
    net0: 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr0', description: 'managed-by=cloudpods  \n',
    ciuser: 'debian', digest: 'abc',
  };
  const same = planConfigWrite(current, {
    name: 'web-1', memory: 2048, cores: 2, onboot: true, tags: ['WEB', 'cloudpods-x'], sshkeys: ['ssh-rsa AAA a@b'],
    net0: 'virtio,bridge=vmbr0', description: 'managed-by=cloudpods', nameserver: undefined,
  });
  assert.ok(isEmptyWrite(same), JSON.stringify(same));
  const changed = planConfigWrite(current, {
    memory: 4096, net0: 'virtio,bridge=vmbr1', tags: ['web'], ciuser: null, ipconfig0: 'ip=dhcp', cicustom: null,
  });
  assert.equal(changed, {
    set: { memory: '4096', net0: 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr1', tags: 'web', ipconfig0: 'ip=dhcp' },
    delete: ['ciuser'],
  });
});

test('UPIDs parse and format, token users included', () => {
  const upid = 'UPID:pve1:0001E240:00A1B2C3:65A1B2C3:qmclone:9000:root@pam!cloudpods:';
  const parsed = parseUpid(upid);
  assert.equal({ ...parsed }, {
    upid, node: 'pve1', pid: 0x1e240, pstart: 0xa1b2c3, starttime: 0x65a1b2c3, type: 'qmclone', id: '9000',
    user: 'root@pam!cloudpods',
  });
  const { upid: _, ...fields } = parsed;
  assert.is(formatUpid(fields), upid);
  assert.throws(() => parseUpid('UPID:pve1:bad'), /not a Proxmox task id/);
});

test.run();
