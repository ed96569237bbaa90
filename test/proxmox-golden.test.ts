import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyExitStatus, classifyResponse } from '../src/proxmox/classify.ts';
import { formatNetDevice, parseNetDevice, sameNetDevice, withCurrentMac } from '../src/proxmox/encoding/net-device.ts';
import { formatPropertyString, parsePropertyString } from '../src/proxmox/encoding/property-string.ts';
import { decodeSshKeys, encodeSshKeys, sameSshKeys } from '../src/proxmox/encoding/sshkeys.ts';
import { formatTags, parseTags } from '../src/proxmox/encoding/tags.ts';
import type { ProxmoxError } from '../src/proxmox/errors.ts';
import { formatUpid, parseUpid } from '../src/proxmox/upid.ts';
import { diskSize, volumeOf } from '../src/sim/proxmox/cluster.ts';
import { configValueSpecs } from '../src/sim/proxmox/config-keys.ts';
import { writtenConfigValue } from '../src/sim/proxmox/format/config-value.ts';
import { decodeUpid, encodeUpid } from '../src/sim/proxmox/format/upid.ts';
import * as pve from '../src/sim/proxmox/messages.ts';
import { verifyParams } from '../src/sim/proxmox/params.ts';
import * as golden from './fixtures/pve-golden.ts';

/**
 * Every string of test/fixtures/pve-golden.ts, as Proxmox VE wrote it, reproduced by both sides: the client
 * (src/proxmox) reads it and writes it back, the simulator (src/sim/proxmox, which shares no code with the client)
 * accepts it and prints what a client sends exactly as PVE would. A wrong idea of a canonical form fails here on
 * whichever side holds it.
 */

const test = suite('golden strings from Proxmox VE');

function split(line: string): [key: string, value: string] {
  const at = line.indexOf(': ');
  return [line.slice(0, at), line.slice(at + 2)];
}

/** The simulator's parameter verification for one option (throws PVE's 400 when it refuses the value). */
function simAccepts(key: string, value: string): void {
  verifyParams({ [key]: value }, {}, configValueSpecs);
}

/** What the simulator stores for a value needing no allocation; a MAC is never invented when one was given. */
function simWrites(key: string, value: string): string {
  return writtenConfigValue(key, value, () => {
    throw new Error(`${key}: a new MAC for a device that named one`);
  });
}

test('network devices: the client reads model, MAC and options and resends them; the simulator prints PVE\'s form', () => {
  for (const device of golden.netDevices) {
    const [key, value] = split(device.line);
    const read = parseNetDevice(value);
    assert.equal({ model: read.model, macaddr: read.macaddr, options: Object.fromEntries(read.options) },
      { model: device.model, macaddr: device.macaddr, options: device.options }, device.line);
    assert.is(formatNetDevice(read), value, device.line);
    const withoutMac = value.replace(`=${device.macaddr}`, '');
    assert.is(withCurrentMac(withoutMac, value), value, `${device.line}: the current MAC is resent in PVE's form`);
    assert.ok(sameNetDevice(device.sent, value), `${device.line}: "${device.sent}" is no change`);

    simAccepts(key, value);
    simAccepts(key, device.sent);
    assert.is(simWrites(key, value), value, device.line);
    assert.is(simWrites(key, device.sent), value, `${device.line}: stored from "${device.sent}"`);
  }
});

test('disks: both sides read the volume and the size; the simulator prints them with sorted options and sizes', () => {
  for (const disk of golden.disks) {
    const [key, value] = split(disk.line);
    const read = parsePropertyString(value, 'file');
    assert.is(read.get('file'), disk.volid, disk.line);
    read.delete('file');
    assert.equal(Object.fromEntries(read), disk.options, disk.line);
    assert.is(formatPropertyString(parsePropertyString(value, 'file'), 'file'), value, disk.line);

    if (!key.startsWith('unused')) simAccepts(key, value);
    assert.is(volumeOf(value), disk.volid, disk.line);
    assert.is(diskSize(value), disk.sizeBytes, disk.line);
    assert.is(simWrites(key, value), value, disk.line);
    assert.is(simWrites(key, disk.sent), value, `${disk.line}: stored from "${disk.sent}"`);
  }
});

test('ipconfig and tags: read by the client, stored by the simulator as PVE stores them', () => {
  for (const entry of golden.ipconfigs) {
    const [key, value] = split(entry.line);
    assert.is(formatPropertyString(parsePropertyString(value)), value, entry.line);
    simAccepts(key, entry.sent);
    assert.is(simWrites(key, entry.sent), value, entry.line);
  }
  for (const entry of golden.tags) {
    const [key, value] = split(entry.line);
    assert.equal(parseTags(value), entry.tags, entry.line);
    assert.equal(parseTags(entry.sent), entry.tags, `${entry.line}: from "${entry.sent}"`);
    assert.is(formatTags(entry.tags), value, entry.line);
    simAccepts(key, entry.sent);
    assert.is(simWrites(key, entry.sent), value, `${entry.line}: stored from "${entry.sent}"`);
  }
});

test('sshkeys: percent-encoded as PVE stores them, decoded by the client, kept as sent by the simulator', () => {
  for (const entry of golden.sshKeys) {
    const [key, value] = split(entry.line);
    assert.equal(decodeSshKeys(value), entry.keys, entry.line);
    const written = encodeSshKeys(entry.keys);
    if (entry.trailingNewline) assert.ok(sameSshKeys(decodeSshKeys(written), decodeSshKeys(value)), entry.line);
    else assert.is(written, value, entry.line);
    simAccepts(key, value);
    assert.is(simWrites(key, value), value, entry.line);
  }
});

test('UPIDs: hex fields and the trailing colon, decoded and encoded alike on both sides', () => {
  for (const entry of golden.upids) {
    const { upid: _, ...read } = parseUpid(entry.upid);
    assert.equal(read, entry.fields, entry.upid);
    assert.is(formatUpid(entry.fields), entry.upid, entry.upid);
    assert.equal(decodeUpid(entry.upid), entry.fields, entry.upid);
    assert.is(encodeUpid(entry.fields), entry.upid, entry.upid);
  }
});

const GiB = 1024 ** 3;

/** The simulator's writer of each golden error text, with the values of the golden example. */
const simWriters: Record<string, () => string> = {
  'vm-locked': () => pve.vmLocked('clone'),
  'vm-locked-backup': () => pve.vmLocked('backup'),
  'lock-file-timeout': () => pve.fileLockTimeout(105),
  'clone-source-missing': () => pve.configFileMissing('pve1', 117),
  'vmid-exists-clone': () => pve.configFileExists(105),
  'vmid-exists-nextid': () => pve.vmidTaken(105),
  'storage-full': () => pve.cloneFailed(pve.lvcreateNoSpace('pve', 'vm-102-disk-0', 2 * GiB, 4 * GiB)),
  'clone-failed-other': () => pve.cloneFailed("lvcreate 'pve-vm01/vm-103-disk-0' error:   Failed to activate new LV pve-vm01/vm-103-disk-0."),
  'destroy-running': () => pve.runningDestroyFailed(105),
  'destroy-protected': () => pve.protectionEnabled(105),
  'config-modified': () => pve.configModified,
  'already-running': () => pve.alreadyRunning(105),
  'no-agent': () => pve.noAgentConfigured,
  'agent-not-running': () => pve.agentNotRunning,
};

function clientReading(entry: golden.GoldenError): ProxmoxError {
  const { seenAs, text } = entry;
  if (seenAs.as === 'task') return classifyExitStatus(text);
  if (seenAs.as === 'response') return classifyResponse({ status: seenAs.status, message: text });
  return classifyResponse({ status: 400, message: 'Parameter verification failed.', errors: { [seenAs.name]: text } });
}

test('error texts: the client classifies each as PVE means it; the simulator words each as PVE does', () => {
  assert.equal(Object.keys(simWriters).sort(), golden.errors.map((e) => e.id).sort(), 'a writer for every text');
  for (const entry of golden.errors) {
    const error = clientReading(entry) as ProxmoxError & { reason?: string; lock?: string };
    const { kind, reason, lock } = error;
    assert.equal({ kind, ...(reason === undefined ? {} : { reason }), ...(lock === undefined ? {} : { lock }) }, entry.client,
      `${entry.id}: ${entry.text}`);
    assert.is(simWriters[entry.id]!(), entry.text, entry.id);
  }
});

test.run();
