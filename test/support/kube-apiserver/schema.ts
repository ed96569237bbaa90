import { compileRule } from './cel.ts';

/**
 * OpenAPI v3 structural schema handling as the apiserver does it for a CRD: prune unknown fields, apply defaults,
 * then validate types, bounds, patterns, enums and CEL rules. Pure; each problem is a `Status` cause.
 */
export interface Cause {
  reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueTooLong' | 'FieldValueTooMany'
    | 'FieldValueForbidden';
  message: string;
  field: string;
}

type Schema = Record<string, any>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Drops fields the schema does not name (unless it preserves unknown fields) and fills defaults. Mutates; the
 * paths of dropped fields go to `pruned` (a `fieldValidation=Strict` request refuses them instead).
 */
export function pruneAndDefault(value: unknown, schema: Schema, pruned: string[] = [], path = ''): unknown {
  if (schema.type === 'object' && isObject(value)) {
    const properties: Record<string, Schema> = schema.properties ?? {};
    if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.properties) {
      for (const key of Object.keys(value)) {
        if (!(key in properties)) { delete value[key]; pruned.push(path ? `${path}.${key}` : key); }
      }
    }
    for (const [key, child] of Object.entries(properties)) {
      if (value[key] === undefined && child.default !== undefined) value[key] = structuredClone(child.default);
      if (value[key] !== undefined && key !== 'metadata') value[key] = pruneAndDefault(value[key], child, pruned, path ? `${path}.${key}` : key);
    }
  } else if (schema.type === 'array' && Array.isArray(value) && schema.items) {
    return value.map((item, index) => pruneAndDefault(item, schema.items, pruned, `${path}[${index}]`));
  }
  return value;
}

const describe = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value));

/** Validates `value` (and, on update, the transition rules against `old`). */
export function validate(value: unknown, schema: Schema, path: string, old: unknown, causes: Cause[] = []): Cause[] {
  const invalid = (message: string, reason: Cause['reason'] = 'FieldValueInvalid') =>
    causes.push({ reason, field: path, message: `Invalid value: ${describe(value)}: ${message}` });
  const type = schema.type;
  const typeOk = type === undefined
    || (type === 'object' && isObject(value)) || (type === 'array' && Array.isArray(value))
    || (type === 'string' && typeof value === 'string') || (type === 'boolean' && typeof value === 'boolean')
    || (type === 'integer' && Number.isInteger(value)) || (type === 'number' && typeof value === 'number');
  if (!typeOk) {
    causes.push({ reason: 'FieldValueInvalid', field: path,
      message: `Invalid value: "${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}": ${path} in body must be of type ${type}: "${typeof value}"` });
    return causes;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    causes.push({ reason: 'FieldValueNotSupported', field: path,
      message: `Unsupported value: ${describe(value)}: supported values: ${schema.enum.map(describe).join(', ')}` });
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) invalid(`${path} in body should be greater than or equal to ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) invalid(`${path} in body should be less than or equal to ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && value.length > schema.maxLength) causes.push({ reason: 'FieldValueTooLong', field: path,
      message: `Too long: may not be more than ${schema.maxLength} bytes` });
    if (schema.minLength !== undefined && value.length < schema.minLength) invalid(`${path} in body should be at least ${schema.minLength} chars long`);
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) invalid(`${path} in body should match '${schema.pattern}'`);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) causes.push({ reason: 'FieldValueTooMany', field: path,
      message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
    const keys: string[] | undefined = schema['x-kubernetes-list-type'] === 'map' ? schema['x-kubernetes-list-map-keys'] : undefined;
    const seen = new Set<string>();
    value.forEach((item, index) => {
      if (keys) {
        const key = JSON.stringify(keys.map((k) => (item as any)?.[k]));
        if (seen.has(key)) causes.push({ reason: 'FieldValueInvalid', field: `${path}[${index}]`, message: `Duplicate value: ${key}` });
        seen.add(key);
      }
      // List items are matched to old ones by map key only; other lists are not transition-checked.
      const oldItem = keys && Array.isArray(old) ? old.find((o) => keys.every((k) => o?.[k] === (item as any)?.[k])) : undefined;
      if (schema.items) validate(item, schema.items, `${path}[${index}]`, oldItem, causes);
    });
  }
  if (isObject(value)) {
    for (const required of schema.required ?? []) {
      if (value[required] === undefined) causes.push({ reason: 'FieldValueRequired', field: `${path}.${required}`, message: 'Required value' });
    }
    for (const [key, child] of Object.entries<Schema>(schema.properties ?? {})) {
      if (value[key] !== undefined && key !== 'metadata') {
        validate(value[key], child, `${path}.${key}`, isObject(old) ? old[key] : undefined, causes);
      }
    }
  }
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    const compiled = compileRule(rule.rule);
    if (compiled.transition && old === undefined) continue;
    let ok: boolean;
    try {
      ok = compiled.check(value, old);
    } catch {
      ok = false;
    }
    if (!ok) causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: "object": ${rule.message}` });
  }
  return causes;
}

/** Loads every CEL rule of a schema once, so an unknown rule fails when the CRD is loaded rather than when used. */
export function checkRules(schema: Schema): void {
  for (const rule of schema['x-kubernetes-validations'] ?? []) compileRule(rule.rule);
  for (const child of Object.values<Schema>(schema.properties ?? {})) checkRules(child);
  if (schema.items) checkRules(schema.items);
}
