import { podStatuses, powerStates } from '../../db/schema.ts';
import { probeBounds, probePathPattern, probeTypes } from '../../health/probe-spec.ts';
import { dnsNameMaxLength, dnsNamePattern } from '../../dns/label.ts';
import { ageColumn, commonStatus, immutable, integer, labelNameRule, nodePattern, phaseColumn, readyColumn, sshKeyPattern,
  string, type KindDefinition } from './schema.ts';

const bounded = (bounds: { min: number; max: number }, description: string) =>
  integer(bounds.min, bounds.max, description);

/** The REST API's health_check (src/health/probe-spec.ts), camelCased; the order fills in the defaults. */
const healthCheck = {
  type: 'object',
  description: 'Optional probe of the pod\'s own address, run by the controller: a TCP connect, or an HTTP(S) GET ' +
    'answered with expectedStatus (redirects not followed, certificates not verified).',
  required: ['type'],
  properties: {
    type: string('tcp, http or https.', { enum: [...probeTypes] }),
    port: bounded(probeBounds.port, 'Port to probe; http and https default to 80 and 443.'),
    path: string('Path (and query) an http(s) probe GETs.', { maxLength: probeBounds.pathLength, pattern: probePathPattern }),
    expectedStatus: bounded(probeBounds.expected_status, `Status an http(s) probe expects; default ${probeBounds.expected_status.default}.`),
    intervalSeconds: bounded(probeBounds.interval_seconds, `Seconds between probes; default ${probeBounds.interval_seconds.default}.`),
    timeoutSeconds: bounded(probeBounds.timeout_seconds,
      `Seconds one probe may take, less than intervalSeconds; default ${probeBounds.timeout_seconds.default}.`),
    failureThreshold: bounded(probeBounds.failure_threshold,
      `Failures in a row that make the pod unhealthy; default ${probeBounds.failure_threshold.default}.`),
  },
  'x-kubernetes-validations': [
    { rule: "self.type != 'tcp' || has(self.port)", message: 'a tcp probe needs port' },
    { rule: "self.type == 'tcp' || has(self.path)", message: 'an http or https probe needs path' },
    { rule: "self.type != 'tcp' || (!has(self.path) && !has(self.expectedStatus))",
      message: 'path and expectedStatus are for http and https probes' },
  ],
};

/** CloudPod: the REST API's POST /api/cloud-pods body, camelCased; metadata.name is the pod's name. */
export const cloudPod: KindDefinition = {
  kind: 'CloudPod',
  plural: 'cloudpods',
  singular: 'cloudpod',
  shortNames: ['cpod', 'cvm'],
  description: 'A Proxmox VE virtual machine cloned from a template, in the quota of the namespace\'s tenant.',
  rootRules: labelNameRule,
  spec: {
    type: 'object',
    required: ['template', 'cpuCores', 'memoryMb', 'diskGb'],
    properties: {
      template: string('Template code (GET /api/cloud-pods/templates).', { minLength: 1, maxLength: 63,
        'x-kubernetes-validations': immutable('template') }),
      cpuCores: integer(1, 128, 'Virtual CPU cores.'),
      memoryMb: integer(256, 1_048_576, 'Memory in MiB.'),
      diskGb: integer(1, 65_536, 'Boot disk size in GiB; it can grow but never shrink.', {
        'x-kubernetes-validations': [{ rule: 'self >= oldSelf', message: 'diskGb cannot shrink' }] }),
      hostname: string('DNS name of the pod: a label in zone, or a name inside it; without zone, the longest served ' +
        'zone the tenant may use that contains it. It may be set, changed or removed; the records follow.',
      { maxLength: dnsNameMaxLength, pattern: dnsNamePattern }),
      zone: string('DNS zone of the hostname.', { maxLength: dnsNameMaxLength, pattern: dnsNamePattern }),
      sshKeys: { type: 'array', description: 'OpenSSH public keys for the default user.', maxItems: 20,
        items: string('An OpenSSH public key.', { maxLength: 16_384, pattern: sshKeyPattern }),
        'x-kubernetes-validations': immutable('sshKeys') },
      powerState: string('Desired power state.', { enum: [...powerStates], default: 'running' }),
      appOptions: { type: 'object', description: 'Install options of the template\'s app stack.',
        'x-kubernetes-preserve-unknown-fields': true, 'x-kubernetes-validations': immutable('appOptions') },
      node: string('Proxmox node to place the pod on.', { pattern: nodePattern,
        'x-kubernetes-validations': immutable('node') }),
      healthCheck: healthCheck,
    },
    'x-kubernetes-validations': [
      { rule: '!has(self.hostname) || has(self.zone) || self.hostname.contains(\'.\')',
        message: 'zone is required with a hostname that is a single label' },
      { rule: '!has(self.hostname) || !has(self.zone) || !self.hostname.contains(\'.\') || self.hostname == self.zone || ' +
        'self.hostname.endsWith(\'.\' + self.zone)', message: 'hostname must be a label, or a name inside the zone' },
    ],
  },
  status: commonStatus(podStatuses, {
    vmid: integer(100, 999_999_999, 'Proxmox VMID.'),
    node: string('Proxmox node running the VM.'),
    ipAddresses: { type: 'array', description: 'Addresses read from the guest agent.', items: { type: 'string' } },
    podId: string('Id of the pod in the CloudPods API.'),
  }),
  columns: [phaseColumn, readyColumn,
    { name: 'Healthy', type: 'string', jsonPath: '.status.conditions[?(@.type=="Healthy")].status' },
    { name: 'IP', type: 'string', jsonPath: '.status.ipAddresses[0]' },
    { name: 'Node', type: 'string', jsonPath: '.status.node' },
    { name: 'VMID', type: 'integer', jsonPath: '.status.vmid' },
    ageColumn],
};
