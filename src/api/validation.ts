import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError, validationError, type FieldProblem } from './errors.ts';

/** `permissions.1.name` style paths read better as `permissions[1].name`. */
export function fieldName(path: readonly PropertyKey[], prefix?: string): string {
  const joined = path.reduce<string>((out, key) =>
    typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key), '');
  if (!prefix) return joined || '(body)';
  return joined ? `${prefix}.${joined}` : prefix;
}

export function fieldProblems(error: z.ZodError, prefix?: string): FieldProblem[] {
  const byField = new Map<string, string[]>();
  for (const issue of error.issues) {
    const names = issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => fieldName([...issue.path, key], prefix))
      : [fieldName(issue.path, prefix)];
    // A refused map key says why in its nested issues; zod's own message ("Invalid key in record") does not.
    const message = issue.code === 'unrecognized_keys' ? 'unknown field'
      : issue.code === 'invalid_key' ? issue.issues.map((nested) => nested.message).join('; ') : issue.message;
    for (const name of names) byField.set(name, [...(byField.get(name) ?? []), message]);
  }
  return [...byField].map(([name, messages]) => ({ name, messages }));
}

/** `application/json` and its `+json` kin, parameters allowed. */
export const isJsonMediaType = (type: string): boolean => /^application\/([\w.+-]+\+)?json\b/i.test(type);

/** Reads a JSON body and validates it: 415 for another media type, 400 `json_error`, 400 `validation_error`. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  if (!isJsonMediaType(c.req.header('content-type') ?? '')) {
    throw new ApiError(415, 'unsupported_media_type', 'send the request body as application/json');
  }
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, 'json_error', `request body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw validationError(fieldProblems(parsed.error));
  return parsed.data;
}

/** Validates the query string; field names are prefixed `query.`. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw validationError(fieldProblems(parsed.error, 'query'));
  return parsed.data;
}

/** Validates a path parameter such as an id; a malformed id is simply not found. */
export function readParam<S extends z.ZodType>(c: Context, name: string, schema: S, what: string): z.output<S> {
  const parsed = schema.safeParse(c.req.param(name));
  if (!parsed.success) throw new ApiError(404, 'not_found', `${what} not found`);
  return parsed.data;
}
