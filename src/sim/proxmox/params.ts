import { parameterErrors } from './api-error.ts';

/**
 * Parameter verification as PVE does it before a handler runs: unknown names (no handler here allows extra
 * ones), missing required ones, types, enumerations, bounds and formats, each answered with PVE's own wording in a
 * 400 that names every bad parameter at once.
 */

export interface ParamSpec {
  type: 'integer' | 'number' | 'boolean' | 'string';
  optional?: boolean;
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  /** Returns the error text for a bad value. */
  format?: (value: string) => string | undefined;
}

export type ParamSpecs = Record<string, ParamSpec>;

/** Specs for names such as `net0`: tried when no exact name matches. */
export type PatternSpecs = Array<[RegExp, ParamSpec]>;

export function verifyParams(params: Record<string, string>, specs: ParamSpecs, patterns: PatternSpecs = []): void {
  const errors: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    const spec = specs[name] ?? patterns.find(([pattern]) => pattern.test(name))?.[1];
    if (!spec) {
      errors[name] = 'property is not defined in schema and the schema does not allow additional properties';
      continue;
    }
    const problem = checkValue(value, spec);
    if (problem) errors[name] = problem;
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (!spec.optional && params[name] === undefined) errors[name] = 'property is missing and it is not optional';
  }
  if (Object.keys(errors).length > 0) throw parameterErrors(errors);
}

function checkValue(value: string, spec: ParamSpec): string | undefined {
  if (spec.type === 'boolean' && !booleanPattern.test(value)) return `type check ('boolean') failed - got '${value}'`;
  if (spec.type === 'integer' && !/^-?\d+$/.test(value)) return `type check ('integer') failed - got '${value}'`;
  if (spec.type === 'number' && !/^-?\d+(\.\d+)?$/.test(value)) return `type check ('number') failed - got '${value}'`;
  if (spec.enum && !spec.enum.includes(value)) {
    return `value '${value}' does not have a value in the enumeration '${spec.enum.join(', ')}'`;
  }
  if (spec.minimum !== undefined && Number(value) < spec.minimum) return `value must have a minimum value of ${spec.minimum}`;
  if (spec.maximum !== undefined && Number(value) > spec.maximum) return `value may have a maximum value of ${spec.maximum}`;
  if (spec.maxLength !== undefined && value.length > spec.maxLength) {
    return `value may only be ${spec.maxLength} characters long`;
  }
  return spec.format?.(value);
}

const booleanPattern = /^(?:0|1|true|false|yes|no|on|off)$/i;

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(?:1|true|yes|on)$/i.test(value);
}

export const vmidSpec: ParamSpec = { type: 'integer', minimum: 100, maximum: 999_999_999 };
export const nodeSpec: ParamSpec = { type: 'string', format: (v) => (/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(v) ? undefined : 'invalid format - value does not look like a valid node name') };
export const storageSpec: ParamSpec = { type: 'string', format: (v) => (/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v) ? undefined : `invalid format - storage ID '${v}' contains illegal characters`) };
export const optional = (spec: ParamSpec): ParamSpec => ({ ...spec, optional: true });
export const bool: ParamSpec = { type: 'boolean', optional: true };
export const int: ParamSpec = { type: 'integer', optional: true };
export const str: ParamSpec = { type: 'string', optional: true };

export const dnsName = (v: string) => (/^(?=.{1,255}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(v)
  ? undefined : 'invalid format - value does not look like a valid DNS name');

export const configIdList = (v: string) => (v.split(/[,;\s]+/).filter(Boolean).every((id) => /^[a-z][a-z_\-0-9]*$/i.test(id))
  ? undefined : 'invalid format - invalid configuration ID');

export const tagList = (v: string) => (v.split(/[,;\s]+/).filter(Boolean).every((tag) => /^[a-z0-9_][a-z0-9_+.-]*$/i.test(tag))
  ? undefined : 'invalid format - invalid tag');

/** `urlencoded`, pve-common's pve_verify_urlencoded: the characters encodeURIComponent leaves, and `%`. */
export const urlEncoded = (v: string) => (/^[-%a-zA-Z0-9_.!~*'()]*$/.test(v)
  ? undefined : `invalid format - invalid urlencoded string: ${v}`);
