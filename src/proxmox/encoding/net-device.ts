import { formatPropertyString, parsePropertyString } from './property-string.ts';

/**
 * `netN` devices. PVE writes the model as the key holding the MAC (`virtio=BC:24:11:2A:00:01,bridge=vmbr0`), and a
 * device written without a MAC gets a new random one: every write must carry the current MAC or the VM changes
 * address and the next diff sees a change again.
 */

export const nicModels = ['e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b',
  'i82559er', 'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3'] as const;

export interface NetDevice {
  model: string;
  /** Upper case, as PVE writes it. */
  macaddr?: string;
  /** Every other option (bridge, firewall, tag, mtu, ...) in its written order. */
  options: Map<string, string>;
}

const models = new Set<string>(nicModels);

export function parseNetDevice(value: string): NetDevice {
  const device: NetDevice = { model: '', options: new Map() };
  for (const [key, raw] of parsePropertyString(value, 'model')) {
    if (key === 'model') device.model = raw;
    else if (key === 'macaddr') device.macaddr = raw.toUpperCase();
    else if (models.has(key)) {
      device.model = key;
      if (raw !== '') device.macaddr = raw.toUpperCase();
    } else device.options.set(key, raw);
  }
  if (!device.model) throw new Error(`network device "${value}" names no model`);
  return device;
}

/** The form PVE itself writes: `<model>=<MAC>` first, then the options. */
export function formatNetDevice(device: NetDevice): string {
  const head = device.macaddr ? `${device.model}=${device.macaddr.toUpperCase()}` : device.model;
  const rest = formatPropertyString(device.options);
  return rest ? `${head},${rest}` : head;
}

/** The value to write for a desired device: the current MAC is kept unless the desired one names its own. */
export function withCurrentMac(desired: string, current: string | undefined): string {
  const device = parseNetDevice(desired);
  if (!device.macaddr && current !== undefined) {
    const mac = parseNetDevice(current).macaddr;
    if (mac) device.macaddr = mac;
  }
  return formatNetDevice(device);
}

/** Same model, MAC (ignoring case; a desired device without one accepts any) and options (ignoring order). */
export function sameNetDevice(desired: string, current: string): boolean {
  const want = parseNetDevice(desired);
  const have = parseNetDevice(current);
  if (want.model !== have.model) return false;
  if (want.macaddr && want.macaddr !== have.macaddr) return false;
  return sameOptions(want.options, have.options);
}

function sameOptions(a: Map<string, string>, b: Map<string, string>): boolean {
  const canonical = (options: Map<string, string>) => [...options].map(([k, v]) => `${k}=${v}`).sort().join(',');
  return canonical(a) === canonical(b);
}
