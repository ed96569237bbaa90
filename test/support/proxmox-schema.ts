import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Checks requests and answers against the official Proxmox VE API schema (9.1 and 8.4), read at run time from
 * `../shared/proxmox-api` beside the repository. The files are AGPL test data and never enter the repository.
 * Every problem names the version, the endpoint and the parameter.
 */

interface ParamSchema {
  type?: string;
  optional?: number | string;
  enum?: string[];
  minimum?: number | string;
  maximum?: number | string;
  maxLength?: number | string;
  pattern?: string;
  format?: string | Record<string, ParamSchema & { default_key?: number; alias?: string; keyAlias?: string }>;
  items?: ParamSchema;
  properties?: Record<string, ParamSchema>;
}

interface SchemaEntry {
  parameters?: { additionalProperties?: number; properties?: Record<string, ParamSchema> };
  returns?: ParamSchema;
}

export interface ApiSchema {
  version: string;
  entries: Record<string, SchemaEntry>;
}

const schemaDir = new URL('../../../shared/proxmox-api/', import.meta.url);
const versions = ['9.1', '8.4'];

/** Both schemas, or null (with one line saying so) when the directory is missing outside CI. */
export function loadApiSchemas(): ApiSchema[] | null {
  const files = versions.map((version) => ({ version, file: new URL(`pve-api-${version}.json`, schemaDir) }));
  if (files.some(({ file }) => !existsSync(file))) {
    const where = fileURLToPath(schemaDir);
    if (process.env.CI === 'true') throw new Error(`Proxmox API schema files missing in ${where}: required under CI`);
    process.stdout.write(`Proxmox API schema check is off: ${where} is missing\n`);
    return null;
  }
  return files.map(({ version, file }) => ({ version, entries: JSON.parse(readFileSync(file, 'utf8')) as Record<string, SchemaEntry> }));
}

/** The schema key for a concrete request (`GET /nodes/pve1/qemu/105/config` → `GET /nodes/{node}/qemu/{vmid}/config`). */
export function findEndpoint(schema: ApiSchema, method: string, path: string): { key: string; pathParams: Record<string, string> } | undefined {
  const segments = path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  let best: { key: string; pathParams: Record<string, string>; literals: number } | undefined;
  for (const key of Object.keys(schema.entries)) {
    const [keyMethod, template = ''] = key.split(' ');
    if (keyMethod !== method) continue;
    const parts = template.split('/').filter(Boolean);
    if (parts.length !== segments.length) continue;
    const pathParams: Record<string, string> = {};
    let literals = 0;
    const fits = parts.every((part, i) => {
      if (part.startsWith('{')) {
        pathParams[part.slice(1, -1)] = segments[i]!;
        return true;
      }
      literals += 1;
      return part === segments[i];
    });
    if (fits && (!best || literals > best.literals)) best = { key, pathParams, literals };
  }
  return best && { key: best.key, pathParams: best.pathParams };
}

export function checkRequest(schema: ApiSchema, method: string, path: string, params: Record<string, string>): string[] {
  const found = findEndpoint(schema, method, path);
  if (!found) return [`PVE ${schema.version}: ${method} ${path} is not an endpoint`];
  const entry = schema.entries[found.key]!;
  const where = `PVE ${schema.version} ${found.key}`;
  const properties = entry.parameters?.properties ?? {};
  const all = { ...params, ...found.pathParams };
  const problems: string[] = [];
  for (const [name, value] of Object.entries(all)) {
    const spec = properties[name] ?? properties[name.replace(/\d+$/, '[n]')];
    if (!spec) {
      if (entry.parameters?.additionalProperties === 0) problems.push(`${where}: parameter "${name}" is not defined`);
      continue;
    }
    for (const problem of checkValue(spec, value)) problems.push(`${where}: parameter "${name}": ${problem}`);
  }
  for (const [name, spec] of Object.entries(properties)) {
    if (!isOptional(spec) && !name.includes('[n]') && all[name] === undefined) {
      problems.push(`${where}: required parameter "${name}" is missing`);
    }
  }
  return problems;
}

export function checkResponse(schema: ApiSchema, method: string, path: string, data: unknown): string[] {
  const found = findEndpoint(schema, method, path);
  const returns = found ? schema.entries[found.key]!.returns : undefined;
  if (!found || !returns) return [];
  return checkReturned(returns, data, 'data').map((problem) => `PVE ${schema.version} ${found.key} returns: ${problem}`);
}

function isOptional(spec: ParamSchema): boolean {
  return spec.optional !== undefined && Number(spec.optional) === 1;
}

function checkValue(spec: ParamSchema, value: string): string[] {
  const problems: string[] = [];
  if (spec.type === 'integer' && !/^-?\d+$/.test(value)) problems.push(`"${value}" is not an integer`);
  if (spec.type === 'number' && !/^-?\d+(\.\d+)?$/.test(value)) problems.push(`"${value}" is not a number`);
  if (spec.type === 'boolean' && !/^(0|1|true|false)$/.test(value)) problems.push(`"${value}" is not a boolean`);
  if (spec.enum && !spec.enum.includes(value)) problems.push(`"${value}" is not one of ${spec.enum.join(', ')}`);
  if (spec.minimum !== undefined && Number(value) < Number(spec.minimum)) problems.push(`${value} is below the minimum ${spec.minimum}`);
  if (spec.maximum !== undefined && Number(value) > Number(spec.maximum)) problems.push(`${value} is above the maximum ${spec.maximum}`);
  if (spec.maxLength !== undefined && value.length > Number(spec.maxLength)) problems.push(`longer than ${spec.maxLength} characters`);
  if (spec.pattern) {
    const pattern = perlPattern(spec.pattern);
    if (pattern && !pattern.test(value)) problems.push(`"${value}" does not match ${spec.pattern}`);
  }
  if (typeof spec.format === 'string') {
    const problem = namedFormats[spec.format]?.(value);
    if (problem) problems.push(`format ${spec.format}: ${problem}`);
  } else if (spec.format) {
    problems.push(...checkPropertyString(spec.format, value));
  }
  return problems;
}

/** A Perl regex as a JavaScript one anchored on the whole value; null when it uses syntax JavaScript lacks. */
function perlPattern(source: string): RegExp | null {
  let flags = '';
  const inline = /^\(\?\^([a-z]*):([\s\S]*)\)$/.exec(source);
  let body = source;
  if (inline) {
    flags = inline[1]!.includes('i') ? 'i' : '';
    body = inline[2]!;
  }
  try {
    return new RegExp(`^(?:${body.replace(/\\A/g, '').replace(/\\z/g, '')})$`, flags);
  } catch {
    return null;
  }
}

type FormatSchema = Exclude<ParamSchema['format'], string | undefined>;

function checkPropertyString(format: FormatSchema, value: string): string[] {
  const problems: string[] = [];
  const defaultKey = Object.entries(format).find(([, spec]) => spec.default_key)?.[0];
  const seen: Record<string, string> = {};
  for (const part of value.split(',').filter(Boolean)) {
    const eq = part.indexOf('=');
    let key = eq < 0 ? defaultKey : part.slice(0, eq);
    const partValue = eq < 0 ? part : part.slice(eq + 1);
    if (key === undefined) {
      problems.push(`"${part}" has no key and the format has no default key`);
      continue;
    }
    const spec = format[key];
    if (!spec) {
      problems.push(`property "${key}" is not defined in the format`);
      continue;
    }
    if (spec.keyAlias && spec.alias) {
      seen[spec.keyAlias] = key; // `virtio=<MAC>`: the key is the model, the value the MAC
      key = spec.alias;
    } else if (spec.alias) {
      key = spec.alias;
    }
    seen[key] = partValue;
    const target = format[key];
    if (target && !(target.keyAlias || target.alias)) {
      for (const problem of checkValue(target, partValue)) problems.push(`property "${key}": ${problem}`);
    }
  }
  for (const [key, spec] of Object.entries(format)) {
    if (!spec.alias && !isOptional(spec) && seen[key] === undefined) problems.push(`required property "${key}" is missing`);
  }
  return problems;
}

const node = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const list = (value: string) => value.split(/[,;\s]+/).filter(Boolean);
const failing = (ok: boolean, message: string) => (ok ? undefined : message);

const namedFormats: Record<string, (value: string) => string | undefined> = {
  'pve-vmid': (v) => failing(/^\d+$/.test(v) && Number(v) >= 100 && Number(v) <= 999_999_999, `"${v}" is not a VMID (100-999999999)`),
  'pve-vmid-list': (v) => failing(list(v).every((id) => /^\d+$/.test(id) && Number(id) >= 100), `"${v}" is not a VMID list`),
  'pve-node': (v) => failing(node.test(v), `"${v}" is not a node name`),
  'dns-name': (v) => failing(/^(?=.{1,255}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(v),
    `"${v}" is not a DNS name (letters, digits, hyphens; no underscores)`),
  'pve-tag-list': (v) => failing(list(v).every((t) => /^[a-z0-9_][a-z0-9_+.-]*$/i.test(t)), `"${v}" is not a tag list`),
  urlencoded: (v) => failing(/^(?:[A-Za-z0-9\-_.!~*'()]|%[0-9A-Fa-f]{2})*$/.test(v), `"${v}" holds characters encodeURIComponent would escape`),
  'pve-configid-list': (v) => failing(list(v).every((id) => /^[a-z][a-z0-9_-]*$/i.test(id)), `"${v}" is not a list of config ids`),
  'pve-configid': (v) => failing(/^[a-z][a-z0-9_-]*$/i.test(v), `"${v}" is not a config id`),
  'disk-size': (v) => failing(/^\d+(\.\d+)?[KMGT]?$/.test(v), `"${v}" is not a disk size`),
  'pve-storage-id': (v) => failing(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v), `"${v}" is not a storage id`),
  'pve-storage-content': (v) => failing(['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import'].includes(v), `"${v}" is not a content type`),
  'pve-poolid': (v) => failing(/^[A-Za-z0-9\-_]+$/.test(v), `"${v}" is not a pool id`),
  'pve-volume-id': (v) => failing(/^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i.test(v), `"${v}" is not a volume id`),
  'pve-volume-id-or-qm-path': (v) => failing(/^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i.test(v) || v.startsWith('/') || v === 'none' || v === 'cdrom',
    `"${v}" is not a volume id or path`),
  'mac-addr': (v) => failing(/^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/i.test(v), `"${v}" is not a unicast MAC address`),
  'pve-bridge-id': (v) => failing(/^[-_.\w\d]+$/.test(v), `"${v}" is not a bridge id`),
  'pve-qm-ipconfig': (v) => failing(v.split(',').every((part) => /^(ip=(dhcp|[\d.]+\/\d+)|gw=[\d.]+|ip6=(dhcp|auto|[0-9a-fA-F:]+\/\d+)|gw6=[0-9a-fA-F:]+)$/.test(part)),
    `"${v}" is not an ipconfig (ip=<CIDR>|dhcp,gw=,ip6=,gw6=)`),
  'pve-qm-cicustom': (v) => failing(v.split(',').every((part) => /^(user|network|meta|vendor)=[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i.test(part)),
    `"${v}" is not a cicustom value (user=<volume>,...)`),
};

function checkReturned(spec: ParamSchema, value: unknown, at: string): string[] {
  if (value === null || value === undefined) {
    return spec.type === 'null' || isOptional(spec) || spec.type === undefined ? [] : [`${at} is missing (expected ${spec.type})`];
  }
  const problems: string[] = [];
  switch (spec.type) {
    case 'null': return [`${at} should be null`];
    case 'integer': if (!Number.isInteger(Number(value)) || typeof value === 'boolean') problems.push(`${at} = ${JSON.stringify(value)} is not an integer`); break;
    case 'number': if (!Number.isFinite(Number(value))) problems.push(`${at} = ${JSON.stringify(value)} is not a number`); break;
    case 'boolean': if (![0, 1, true, false, '0', '1'].includes(value as never)) problems.push(`${at} = ${JSON.stringify(value)} is not a boolean`); break;
    case 'string': if (typeof value !== 'string' && typeof value !== 'number') problems.push(`${at} = ${JSON.stringify(value)} is not a string`); break;
    case 'array':
      if (!Array.isArray(value)) problems.push(`${at} is not an array`);
      else if (spec.items) value.forEach((item, i) => problems.push(...checkReturned(spec.items!, item, `${at}[${i}]`)));
      break;
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) problems.push(`${at} is not an object`);
      else for (const [name, property] of Object.entries(spec.properties ?? {})) {
        problems.push(...checkReturned(property, (value as Record<string, unknown>)[name], `${at}.${name}`));
      }
      break;
  }
  if (spec.enum && typeof value === 'string' && !spec.enum.includes(value)) problems.push(`${at} = "${value}" is not one of ${spec.enum.join(', ')}`);
  return problems;
}
