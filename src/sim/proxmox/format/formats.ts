import type { PropertyFormat } from './property-string.ts';

/**
 * The property-string formats of qemu-server the simulator reads and writes: network devices, drives,
 * cloud-init IP configurations and the guest agent option. Only the keys, aliases and types; the value checks
 * PVE makes on each key are in config-keys.ts.
 */

export const nicModels: readonly string[] = ['e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e',
  'i82551', 'i82557b', 'i82559er', 'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3'];

/** `netN`: the model is the default key, and a model name as key carries the MAC (`virtio=BC:24:11:2A:00:01`). */
export const netFormat: PropertyFormat = {
  defaultKey: 'model',
  keys: new Set(['bridge', 'firewall', 'link_down', 'macaddr', 'model', 'mtu', 'queues', 'rate', 'tag', 'trunks']),
  required: new Set(['model']),
  keyAlias: { names: new Set(nicModels), key: 'model', valueKey: 'macaddr' },
  booleans: new Set(['firewall', 'link_down']),
};

/** `scsiN`, `virtioN`, `sataN`, `ideN`, `efidisk0`, `tpmstate0` and `unusedN`: the volume is the default key. */
export const driveFormat: PropertyFormat = {
  defaultKey: 'file',
  keys: new Set(['aio', 'backup', 'cache', 'discard', 'efitype', 'file', 'format', 'import-from', 'iops', 'iothread',
    'mbps', 'media', 'pre-enrolled-keys', 'replicate', 'rerror', 'ro', 'serial', 'shared', 'size', 'snapshot', 'ssd',
    'version', 'werror']),
  required: new Set(['file']),
  aliases: { volume: 'file' },
  booleans: new Set(['backup', 'iothread', 'pre-enrolled-keys', 'replicate', 'ro', 'shared', 'snapshot', 'ssd']),
  sizes: new Set(['size']),
};

/** `ipconfigN`: no default key. */
export const ipconfigFormat: PropertyFormat = { keys: new Set(['gw', 'gw6', 'ip', 'ip6']) };

/** `agent`: `1` alone means enabled. */
export const agentFormat: PropertyFormat = {
  defaultKey: 'enabled',
  keys: new Set(['enabled', 'freeze-fs', 'freeze-fs-on-backup', 'fstrim_cloned_disks', 'guest-fsfreeze', 'type']),
  required: new Set(['enabled']),
  booleans: new Set(['enabled', 'freeze-fs', 'freeze-fs-on-backup', 'fstrim_cloned_disks', 'guest-fsfreeze']),
};
