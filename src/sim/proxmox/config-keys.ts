import { nicModels } from '../../proxmox/encoding/net-device.ts';
import { parsePropertyString, PropertyStringError } from '../../proxmox/encoding/property-string.ts';
import { dnsName, tagList, urlEncoded, type ParamSpec, type PatternSpecs } from './params.ts';

/**
 * The VM options the simulator knows, with the formats PVE checks for each: a subset of qemu-server's schema big
 * enough for what CloudPods writes, and strict about it (an unknown option is refused, as in PVE).
 */

const macPattern = /^[0-9A-Fa-f][02468aceACE](?::[0-9A-Fa-f]{2}){5}$/;
const netOptions = new Set(['bridge', 'firewall', 'link_down', 'macaddr', 'model', 'mtu', 'queues', 'rate', 'tag', 'trunks']);
const diskOptions = new Set(['aio', 'backup', 'cache', 'discard', 'file', 'format', 'import-from', 'iothread', 'media',
  'replicate', 'ro', 'serial', 'size', 'snapshot', 'ssd', 'volume', 'werror', 'rerror', 'mbps', 'iops', 'shared']);

function propertyFormat(defaultKey: string | undefined, check: (properties: Map<string, string>) => string | undefined) {
  return (value: string): string | undefined => {
    try {
      return check(parsePropertyString(value, defaultKey));
    } catch (error) {
      if (error instanceof PropertyStringError) return `invalid format - ${error.message}`;
      throw error;
    }
  };
}

const netFormat = propertyFormat('model', (properties) => {
  for (const [key, value] of properties) {
    if ((nicModels as readonly string[]).includes(key)) {
      if (value !== '' && !macPattern.test(value)) return `invalid format - value '${value}' is not a valid unicast MAC address`;
    } else if (key === 'model') {
      if (!(nicModels as readonly string[]).includes(value)) return `invalid format - model: value '${value}' does not have a value in the enumeration`;
    } else if (key === 'macaddr') {
      if (!macPattern.test(value)) return `invalid format - value '${value}' is not a valid unicast MAC address`;
    } else if (!netOptions.has(key)) {
      return `invalid format - property '${key}' is not defined in schema`;
    }
  }
  return undefined;
});

const diskFormat = propertyFormat('file', (properties) => {
  const file = properties.get('file') ?? properties.get('volume');
  if (!file) return 'invalid format - missing property - \'file\'';
  for (const key of properties.keys()) if (!diskOptions.has(key)) return `invalid format - property '${key}' is not defined in schema`;
  const size = properties.get('size');
  if (size !== undefined && !/^\d+(\.\d+)?[KMGT]?$/.test(size)) return `invalid format - size: value '${size}' does not look like a valid disk size`;
  return undefined;
});

const cidr4 = /^(?:\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
const ipv4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
const ipconfigFormat = propertyFormat(undefined, (properties) => {
  for (const [key, value] of properties) {
    if (key === 'ip' && value !== 'dhcp' && !cidr4.test(value)) return `invalid format - ip: invalid IPv4 CIDR '${value}'`;
    if (key === 'gw' && !ipv4.test(value)) return `invalid format - gw: invalid IPv4 address '${value}'`;
    if (key === 'ip6' && !['dhcp', 'auto'].includes(value) && !/^[0-9a-fA-F:]+\/\d{1,3}$/.test(value)) return `invalid format - ip6: invalid IPv6 CIDR '${value}'`;
    if (!['ip', 'gw', 'ip6', 'gw6'].includes(key)) return `invalid format - property '${key}' is not defined in schema`;
  }
  return undefined;
});

const memoryFormat = (value: string) => {
  const match = /^(?:current=)?(\d+)$/.exec(value);
  if (!match) return 'invalid format - value without key, but schema does not define a default key';
  return Number(match[1]) < 16 ? 'invalid format - current: value must have a minimum value of 16' : undefined;
};

const string: ParamSpec = { type: 'string' };

export const configValueSpecs: PatternSpecs = [
  [/^name$/, { type: 'string', format: dnsName }],
  [/^memory$/, { type: 'string', format: memoryFormat }],
  [/^(?:cores|sockets|vcpus)$/, { type: 'integer', minimum: 1 }],
  [/^balloon$/, { type: 'integer', minimum: 0 }],
  [/^(?:onboot|protection|template|ciupgrade|numa|acpi|kvm|tablet|localtime)$/, { type: 'boolean' }],
  [/^tags$/, { type: 'string', format: tagList }],
  [/^sshkeys$/, { type: 'string', format: urlEncoded }],
  [/^description$/, { type: 'string', maxLength: 8192 }],
  [/^net(?:[0-9]|[12][0-9]|3[01])$/, { type: 'string', format: netFormat }],
  [/^(?:scsi(?:[0-9]|[12][0-9]|30)|virtio(?:[0-9]|1[0-5])|sata[0-5]|ide[0-3])$/, { type: 'string', format: diskFormat }],
  [/^ipconfig(?:[0-9]|[12][0-9]|3[01])$/, { type: 'string', format: ipconfigFormat }],
  [/^(?:cpu|ciuser|cipassword|nameserver|searchdomain|cicustom|boot|agent|ostype|scsihw|vga|smbios1|vmgenid|startup|hotplug|citype|efidisk0|serial[0-3]|unused\d+)$/, string],
  [/^lock$/, { type: 'string', enum: ['backup', 'clone', 'create', 'migrate', 'rollback', 'snapshot', 'snapshot-delete', 'suspending', 'suspended'] }],
];

/** Options applied to a running VM at once; every other change waits for the next start as pending. */
export function appliesWhileRunning(key: string): boolean {
  return /^(?:name|description|tags|onboot|protection|startup|lock|hookscript|shares|vmstatestorage|net\d+|scsi\d+|virtio\d+|sata\d+|unused\d+)$/.test(key);
}

/** Keys GET config returns as JSON numbers, as PVE's typed output does. */
export const numericConfigKeys = new Set(['cores', 'sockets', 'vcpus', 'balloon', 'onboot', 'protection', 'template',
  'ciupgrade', 'numa', 'acpi', 'kvm', 'tablet', 'localtime']);
