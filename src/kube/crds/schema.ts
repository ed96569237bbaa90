import { dnsLabelPattern, dnsLabelRule } from '../../dns/label.ts';

/**
 * Building blocks of the CRDs' OpenAPI v3 structural schemas. Bounds and patterns are the REST API's (see
 * src/api/routes/*.ts), so an object refused by one front door is refused by the other.
 */

export type JsonSchema = Record<string, unknown>;

/** A CEL rule (x-kubernetes-validations); the fake apiserver evaluates the ones listed in test/support/kube-apiserver/cel.ts. */
export interface CelRule {
  rule: string;
  message: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export const group = 'cloudpods.mpanel.io';
export const version = 'v1alpha1';
export const finalizerName = `${group}/finalizer`;
export const tenantLabel = `${group}/tenant`;

export const sshKeyPattern = '^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\\.com) [A-Za-z0-9+/]+={0,3}( [^\\r\\n]*)?$';
export const nodePattern = '^[a-zA-Z0-9][a-zA-Z0-9.-]{0,62}$';
export const storagePoolPattern = '^[a-zA-Z][a-zA-Z0-9\\-_.]*[a-zA-Z0-9]$';

export const integer = (minimum: number, maximum: number, description: string, extra: JsonSchema = {}): JsonSchema =>
  ({ type: 'integer', format: 'int64', minimum, maximum, description, ...extra });
export const string = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, ...extra });
export const immutable = (field: string): CelRule[] => [{ rule: 'self == oldSelf', message: `${field} is immutable` }];

/** metadata.name of our kinds is a DNS label, as the REST API's names are. */
export const labelNameRule: CelRule[] = [{ rule: `self.metadata.name.matches('${dnsLabelPattern}')`,
  message: `metadata.name must be a DNS label: ${dnsLabelRule}` }];

/** metav1.Condition, as a list map keyed by type (kubectl wait and printer columns read it). */
export const conditions: JsonSchema = {
  type: 'array',
  description: 'Current state as metav1.Condition; Ready is always present.',
  maxItems: 16,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  items: {
    type: 'object',
    required: ['type', 'status', 'reason', 'lastTransitionTime'],
    properties: {
      type: string('Condition type, CamelCase.', { maxLength: 316 }),
      status: string('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
      reason: string('Why, as one CamelCase word.', { maxLength: 1024, minLength: 1 }),
      message: string('Human-readable details.', { maxLength: 32768 }),
      lastTransitionTime: string('When status last changed.', { format: 'date-time' }),
      observedGeneration: integer(0, Number.MAX_SAFE_INTEGER, 'Generation the condition was set for.'),
    },
  },
};

/** Status fields every kind has; the bridge is their only writer. */
export const commonStatus = (phases: readonly string[], extra: Record<string, JsonSchema>): JsonSchema => ({
  type: 'object',
  description: 'Observed state, written by CloudPods.',
  properties: {
    phase: string('One-word phase, as the REST API reports it.', { enum: [...phases] }),
    observedGeneration: integer(0, Number.MAX_SAFE_INTEGER, 'The metadata.generation last reconciled.'),
    conditions,
    ...extra,
  },
});

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean' | 'number';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export const readyColumn: PrinterColumn = { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' };
export const phaseColumn: PrinterColumn = { name: 'Phase', type: 'string', jsonPath: '.status.phase' };
export const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** One kind: names, its spec and status schemas, CEL rules and printer columns. */
export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: JsonSchema;
  status: JsonSchema;
  /** Rules at the object's root (they may read metadata.name). */
  rootRules?: CelRule[];
  columns: PrinterColumn[];
}

/** The CustomResourceDefinition object of a kind. */
export function customResourceDefinition(def: KindDefinition): JsonSchema {
  const root: JsonSchema = {
    type: 'object',
    description: def.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: def.spec,
      status: def.status,
    },
  };
  if (def.rootRules) root['x-kubernetes-validations'] = def.rootRules;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${group}` },
    spec: {
      group,
      names: { kind: def.kind, listKind: `${def.kind}List`, plural: def.plural, singular: def.singular,
        shortNames: def.shortNames, categories: ['cloudpods'] },
      scope: 'Namespaced',
      versions: [{
        name: version, served: true, storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: def.columns,
        schema: { openAPIV3Schema: root },
      }],
    },
  };
}
