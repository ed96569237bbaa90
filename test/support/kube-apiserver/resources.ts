import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { checkRules } from './schema.ts';

/** A resource type the fake serves: built-ins (namespaces, events, leases) and the CRDs read from crds/. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Custom resources: status subresource, schema, generation, RV required on update. */
  custom: boolean;
  statusSubresource: boolean;
  schema?: Record<string, any>;
  columns: Array<{ name: string; type: string; jsonPath: string; description?: string; priority?: number }>;
  verbs: string[];
}

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const builtin = (group: string, version: string, plural: string, kind: string, namespaced: boolean, shortNames: string[] = [])
  : ResourceType => ({ group, version, plural, singular: kind.toLowerCase(), kind, namespaced, shortNames, categories: [],
  custom: false, statusSubresource: false, columns: [], verbs });

export const builtins: ResourceType[] = [
  builtin('', 'v1', 'namespaces', 'Namespace', false, ['ns']),
  builtin('', 'v1', 'events', 'Event', true, ['ev']),
  builtin('events.k8s.io', 'v1', 'events', 'Event', true, ['ev']),
  builtin('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
];

/** Reads every CustomResourceDefinition in a directory (the project's crds/). */
export function loadCrds(directory: string): ResourceType[] {
  return readdirSync(directory).filter((f) => f.endsWith('.yaml')).sort().map((file) => {
    const crd = parse(readFileSync(path.join(directory, file), 'utf8'));
    const served = crd.spec.versions.find((v: any) => v.served && v.storage);
    checkRules(served.schema.openAPIV3Schema);
    return {
      group: crd.spec.group, version: served.name, plural: crd.spec.names.plural, singular: crd.spec.names.singular,
      kind: crd.spec.names.kind, namespaced: crd.spec.scope === 'Namespaced', shortNames: crd.spec.names.shortNames ?? [],
      categories: crd.spec.names.categories ?? [], custom: true, statusSubresource: Boolean(served.subresources?.status),
      schema: served.schema.openAPIV3Schema, columns: served.additionalPrinterColumns ?? [], verbs,
    };
  });
}

export const groupVersion = (type: ResourceType) => (type.group ? `${type.group}/${type.version}` : type.version);
export const typeKey = (type: ResourceType) => `${type.group}/${type.plural}`;
