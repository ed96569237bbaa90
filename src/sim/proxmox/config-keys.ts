import { agentFormat, driveFormat, ipconfigFormat, netFormat, nicModels } from './format/formats.ts';
import { parseProperties, PropertyFormatError, type PropertyFormat } from './format/property-string.ts';
import { dnsName, tagList, urlEncoded, type ParamSpec, type PatternSpecs } from './params.ts';

/**
 * The VM options the simulator knows, with the formats PVE checks for each: a subset of qemu-server's schema big
 * enough for what CloudPods writes, and strict about it (an unknown option is refused, as in PVE).
 */

const macPattern = /^[0-9A-Fa-f][02468aceACE](?::[0-9A-Fa-f]{2}){5}$/;

function propertyFormat(format: PropertyFormat, check: (properties: Map<string, string>) => string | undefined) {
  return (value: string): string | undefined => {
    try {
      return check(parseProperties(value, format));
    } catch (error) {
      if (error instanceof PropertyFormatError) return `invalid format - ${error.message}`;
      throw error;
    }
  };
}

const netCheck = propertyFormat(netFormat, (properties) => {
  const model = properties.get('model')!;
  if (!nicModels.includes(model)) {
    return `invalid format - model: value '${model}' does not have a value in the enumeration`;
  }
  const mac = properties.get('macaddr');
  if (mac !== undefined && !macPattern.test(mac)) {
    return 'invalid format - macaddr: value does not look like a valid unicast MAC address';
  }
  return undefined;
});

const driveCheck = propertyFormat(driveFormat, () => undefined);

const cidr4 = /^(?:\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
const ipv4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
const ipconfigCheck = propertyFormat(ipconfigFormat, (properties) => {
  const { ip, gw, ip6 } = Object.fromEntries(properties);
  if (ip !== undefined && ip !== 'dhcp' && !cidr4.test(ip)) return `invalid format - ip: invalid IPv4 CIDR '${ip}'`;
  if (gw !== undefined && !ipv4.test(gw)) return `invalid format - gw: invalid IPv4 address '${gw}'`;
  if (ip6 !== undefined && !['dhcp', 'auto'].includes(ip6) && !/^[0-9a-fA-F:]+\/\d{1,3}$/.test(ip6)) {
    return `invalid format - ip6: invalid IPv6 CIDR '${ip6}'`;
  }
  return undefined;
});

const agentCheck = propertyFormat(agentFormat, () => undefined);

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
  [/^net(?:[0-9]|[12][0-9]|3[01])$/, { type: 'string', format: netCheck }],
  [/^(?:scsi(?:[0-9]|[12][0-9]|30)|virtio(?:[0-9]|1[0-5])|sata[0-5]|ide[0-3])$/, { type: 'string', format: driveCheck }],
  [/^ipconfig(?:[0-9]|[12][0-9]|3[01])$/, { type: 'string', format: ipconfigCheck }],
  [/^agent$/, { type: 'string', format: agentCheck }],
  [/^(?:cpu|ciuser|cipassword|nameserver|searchdomain|cicustom|boot|ostype|scsihw|vga|smbios1|vmgenid|startup|hotplug|citype|efidisk0|serial[0-3]|unused\d+)$/, string],
  [/^lock$/, { type: 'string', enum: ['backup', 'clone', 'create', 'migrate', 'rollback', 'snapshot', 'snapshot-delete', 'suspending', 'suspended'] }],
];

/** Options applied to a running VM at once; every other change waits for the next start as pending. */
export function appliesWhileRunning(key: string): boolean {
  return /^(?:name|description|tags|onboot|protection|startup|lock|hookscript|shares|vmstatestorage|net\d+|scsi\d+|virtio\d+|sata\d+|unused\d+)$/.test(key);
}

/** Keys GET config returns as JSON numbers, as PVE's typed output does. */
export const numericConfigKeys = new Set(['cores', 'sockets', 'vcpus', 'balloon', 'onboot', 'protection', 'template',
  'ciupgrade', 'numa', 'acpi', 'kvm', 'tablet', 'localtime']);
