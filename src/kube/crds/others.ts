import { dnsRecordStatuses, dnsRecordTypes, hookEvents, hookTypes, volumeStatuses } from '../../db/schema.ts';
import { blockingEvents } from '../../hooks/config.ts';
import { dnsLabelPattern } from '../../dns/label.ts';
import { ageColumn, commonStatus, immutable, integer, labelNameRule, phaseColumn, readyColumn, storagePoolPattern,
  string, type JsonSchema, type KindDefinition } from './schema.ts';

const podName = string('Name of the CloudPod in the same namespace.', { pattern: dnsLabelPattern, maxLength: 63,
  'x-kubernetes-validations': immutable('podName') });

/** CloudPodVolume: POST /api/cloud-pods/:podId/volumes, with the pod named by its CloudPod. */
export const cloudPodVolume: KindDefinition = {
  kind: 'CloudPodVolume',
  plural: 'cloudpodvolumes',
  singular: 'cloudpodvolume',
  shortNames: ['cvol'],
  description: 'An extra disk of a CloudPod.',
  rootRules: labelNameRule,
  spec: {
    type: 'object',
    required: ['podName', 'sizeGb'],
    properties: {
      podName,
      sizeGb: integer(1, 65_536, 'Size in GiB; it can grow but never shrink.', {
        'x-kubernetes-validations': [{ rule: 'self >= oldSelf', message: 'sizeGb cannot shrink' }] }),
      storagePool: string('Proxmox storage id; default: the template\'s.', { maxLength: 100, pattern: storagePoolPattern,
        'x-kubernetes-validations': immutable('storagePool') }),
      attached: { type: 'boolean', description: 'Attached to the VM, or kept as an unused disk.', default: true },
    },
  },
  status: commonStatus(volumeStatuses, {
    proxmoxVolumeId: string('Proxmox volume id.'),
    slot: string('Bus slot on the VM (scsiN).'),
    volumeId: string('Id of the volume in the CloudPods API.'),
  }),
  columns: [phaseColumn, readyColumn,
    { name: 'Pod', type: 'string', jsonPath: '.spec.podName' },
    { name: 'Size', type: 'integer', jsonPath: '.spec.sizeGb' },
    { name: 'Slot', type: 'string', jsonPath: '.status.slot' },
    ageColumn],
};

/** CloudPodDNSRecord: POST /api/cloud-pods/:podId/dns-records, an extra name for a CloudPod's addresses. */
export const cloudPodDnsRecord: KindDefinition = {
  kind: 'CloudPodDNSRecord',
  plural: 'cloudpoddnsrecords',
  singular: 'cloudpoddnsrecord',
  shortNames: ['cdns'],
  description: 'An extra DNS name served for a CloudPod\'s addresses.',
  spec: {
    type: 'object',
    required: ['podName', 'hostname', 'zone'],
    properties: {
      podName,
      hostname: string('A full name inside the zone, or one label completed with it.', { minLength: 1, maxLength: 253,
        'x-kubernetes-validations': immutable('hostname') }),
      zone: string('DNS zone.', { minLength: 1, maxLength: 253, 'x-kubernetes-validations': immutable('zone') }),
      type: string('Only the IPv4 (A) or IPv6 (AAAA) addresses; default both.', { enum: [...dnsRecordTypes] }),
      ttl: integer(30, 86_400, 'TTL in seconds.'),
      ptr: { type: 'boolean', description: 'Also serve the reverse (PTR) record.', default: false },
    },
  },
  status: commonStatus(dnsRecordStatuses, {
    addresses: { type: 'array', description: 'Addresses served.', items: { type: 'string' } },
  }),
  columns: [phaseColumn, readyColumn,
    { name: 'Hostname', type: 'string', jsonPath: '.spec.hostname' },
    { name: 'Pod', type: 'string', jsonPath: '.spec.podName' },
    ageColumn],
};

/** A map of strings (header or variable names to values); the names' rules are the REST API's (src/hooks/config.ts). */
const stringMap = (description: string, maxProperties: number): JsonSchema =>
  ({ type: 'object', description, maxProperties, additionalProperties: string('The value.', { maxLength: 4096 }) });

/** config.blocking only on the events a hook can block (src/hooks/config.ts, blockingEvents). */
const blockingRule = '!has(self.config) || !has(self.config.blocking) || !self.config.blocking'
  + ` || self.event in [${blockingEvents.map((event) => `'${event}'`).join(',')}]`;

/** CloudPodHook: POST /api/cloud-pods/hooks, a lifecycle hook of the namespace's tenant. */
export const cloudPodHook: KindDefinition = {
  kind: 'CloudPodHook',
  plural: 'cloudpodhooks',
  singular: 'cloudpodhook',
  shortNames: ['chook'],
  description: 'A lifecycle hook: an HTTP endpoint or an allow-listed script told about pod events.',
  rootRules: labelNameRule,
  spec: {
    type: 'object',
    required: ['event', 'type', 'target'],
    properties: {
      event: string('Lifecycle event.', { enum: [...hookEvents], 'x-kubernetes-validations': immutable('event') }),
      type: string('http or script.', { enum: [...hookTypes], 'x-kubernetes-validations': immutable('type') }),
      target: string('https URL for http, the script\'s identifier for script.', { minLength: 1, maxLength: 2048 }),
      active: { type: 'boolean', description: 'Delivered while true.', default: true },
      config: {
        type: 'object',
        description: 'Delivery options, as the REST API\'s config (names are checked by CloudPods: SpecInvalid).',
        properties: {
          headers: stringMap('Extra request headers of an http hook.', 20),
          timeout_seconds: integer(1, 60, 'Seconds a delivery may take; default: cloudpods.webhooks.timeout_seconds.'),
          env: stringMap('Environment variables of a script hook.', 50),
          blocking: { type: 'boolean', description: 'The pod waits for this hook\'s delivery: provisioning for '
            + 'pod.pre_create, teardown for pod.pre_destroy (only those events). Default false.' },
        },
      },
    },
    'x-kubernetes-validations': [
      { rule: 'self.type != \'http\' || self.target.startsWith(\'https://\') || self.target.startsWith(\'http://\')',
        message: 'an http hook\'s target is an http(s) URL' },
      { rule: 'self.type != \'script\' || self.target.matches(\'^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$\')',
        message: 'a script hook\'s target is an allow-listed script identifier' },
      { rule: blockingRule, message: 'config.blocking: only pod.pre_create and pod.pre_destroy hooks can block' },
    ],
  },
  status: commonStatus(['pending', 'active', 'error'], {
    hookId: string('Id of the hook in the CloudPods API (its deliveries: GET /api/cloud-pods/hooks/:id/deliveries).'),
  }),
  columns: [phaseColumn, readyColumn,
    { name: 'Event', type: 'string', jsonPath: '.spec.event' },
    { name: 'Type', type: 'string', jsonPath: '.spec.type' },
    ageColumn],
};
