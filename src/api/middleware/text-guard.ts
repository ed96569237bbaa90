import type { Context, MiddlewareHandler } from 'hono';
import { validationError, type FieldProblem } from '../errors.ts';
import { formProblems, jsonProblems, maxBodyTextLength, maxShortTextLength, pathProblems } from '../text-rules.ts';
import { isJsonMediaType } from '../validation.ts';
import { routePattern } from './observe.ts';

/**
 * Refuses a request whose path, query or body carries text no field may take (src/api/text-rules.ts): 400
 * validation_error naming every such field, before any route, the idempotency record or SQL sees it. Mount it
 * after the body limit, which it relies on to read bodies safely.
 */
export function refuseUnsafeText(): MiddlewareHandler {
  return async function checkText(c, next) {
    const url = new URL(c.req.url);
    const problems = [
      ...pathProblems(url.pathname, routePattern(c)),
      ...formProblems(url.search.slice(1), 'query', maxShortTextLength),
      ...await bodyProblems(c),
    ];
    if (problems.length > 0) throw validationError(problems);
    await next();
  };
}

async function bodyProblems(c: Context): Promise<FieldProblem[]> {
  const type = c.req.header('content-type') ?? '';
  if (isJsonMediaType(type)) {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return []; // not JSON: readJson answers json_error
    }
    return jsonProblems(body);
  }
  if (/^application\/x-www-form-urlencoded\b/i.test(type)) return formProblems(await c.req.text(), undefined, maxBodyTextLength);
  // Files are objects without own fields: only the text fields are looked at.
  if (/^multipart\/form-data\b/i.test(type)) return jsonProblems(await c.req.parseBody({ all: true }));
  return [];
}
