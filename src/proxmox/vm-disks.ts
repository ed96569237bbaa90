import { parsePropertyString } from './encoding/property-string.ts';

const diskBuses = /^(scsi|virtio|sata|ide)\d+$/;
const units: Record<string, number> = { K: 1 / (1024 * 1024), M: 1 / 1024, G: 1, T: 1024 };

function isDataDisk(value: string): boolean {
  return !/media=cdrom/.test(value) && !/cloudinit/.test(value);
}

/** The VM's boot disk: the first disk of `boot: order=…`, else the first data disk of the usual buses. */
export function bootDisk(config: Readonly<Record<string, unknown>>): string | undefined {
  const boot = typeof config.boot === 'string' ? /order=([^,]+)/.exec(config.boot)?.[1] : undefined;
  for (const key of boot?.split(';') ?? []) {
    const value = config[key];
    if (diskBuses.test(key) && typeof value === 'string' && isDataDisk(value)) return key;
  }
  for (const key of ['scsi0', 'virtio0', 'sata0', 'ide0']) {
    const value = config[key];
    if (typeof value === 'string' && isDataDisk(value)) return key;
  }
  return undefined;
}

/** `local-lvm:vm-101-disk-0,size=32G` → 32 (GiB); undefined when the size is not stated. */
export function diskSizeGiB(value: string): number | undefined {
  const size = parsePropertyString(value, 'file').get('size');
  const match = size ? /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(size) : null;
  if (!match) return undefined;
  const amount = Number(match[1]);
  // A bare number is bytes.
  return match[2] ? amount * units[match[2]]! : amount / (1024 * 1024 * 1024);
}
