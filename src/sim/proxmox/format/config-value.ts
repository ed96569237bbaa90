import { driveFormat, netFormat } from './formats.ts';
import { parseProperties, printProperties } from './property-string.ts';
import { uniqueTags } from './tags.ts';

/**
 * A VM option's value as qemu-server writes it into the config file, once the value passed parameter
 * verification: network devices and drives printed again in PVE's canonical form (a device sent without a MAC
 * gets a new one), tags made unique and sorted, description lines without trailing blanks. Everything else,
 * `sshkeys` included (stored percent-encoded exactly as sent), is kept as given. Allocating a new disk is the
 * route's business; this only prints.
 */

const driveKey = /^(?:scsi|virtio|sata|ide|efidisk|tpmstate|unused)\d+$/;

export function isDiskKey(key: string): boolean {
  return driveKey.test(key);
}

export function writtenConfigValue(key: string, raw: string, newMac: () => string): string {
  if (/^net\d+$/.test(key)) {
    const device = parseProperties(raw, netFormat);
    // The trap: a device sent without a MAC gets a new one.
    if (!device.has('macaddr')) device.set('macaddr', newMac());
    return printProperties(device, netFormat);
  }
  if (key === 'tags') return uniqueTags(raw);
  if (key === 'description') return raw.split(/\r?\n/).map((line) => line.trimEnd()).join('\n');
  if (isDiskKey(key)) return printDrive(parseProperties(raw, driveFormat));
  return raw;
}

export function printDrive(drive: ReadonlyMap<string, string>): string {
  return printProperties(drive, driveFormat);
}
