import type { FieldProblem } from './errors.ts';
import { fieldName } from './validation.ts';

/**
 * What text any request may carry, whatever the route: PostgreSQL cannot store a NUL byte (text refuses it with
 * 22021, jsonb with 22P05), a lone surrogate is not Unicode (it would be stored as U+FFFD, silently changed), and
 * no field takes text longer than these limits. Pure: src/api/middleware/text-guard.ts applies it to requests.
 */

/** The longest path segment, query value or key: ids, codes, names and filters are all far shorter. */
export const maxShortTextLength = 1024;
/** The longest string anywhere in a body: above the longest field any route takes (a 16 KiB SSH public key). */
export const maxBodyTextLength = 65_536;

/** Why this text is refused whatever the field, or null when it may go on to the field's own rules. */
export function textProblem(text: string, maxLength: number): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL bytes';
  if (!text.isWellFormed()) return 'must be valid Unicode (it has an unpaired surrogate)';
  if (text.length > maxLength) return `at most ${maxLength} characters`;
  return null;
}

/** A refused key as a field name: control characters and lone surrogates escaped, a long key cut short. */
export function printableKey(key: string): string {
  const escaped = JSON.stringify(key).slice(1, -1).replace(/\\"/g, '"');
  return escaped.length > 64 ? `${escaped.slice(0, 64)}…` : escaped;
}

/** Percent-decoding that refuses what is not UTF-8 (a lone surrogate can only arrive that way), unlike the router. */
function decodeUrlText(raw: string, plusIsSpace: boolean): string | null {
  try {
    return decodeURIComponent(plusIsSpace ? raw.replace(/\+/g, ' ') : raw);
  } catch {
    return null;
  }
}

/** Enough refused fields to fix a request by; a body of thousands says nothing more with all of them. */
const maxReported = 20;

const notUtf8 = 'must be percent-encoded UTF-8';

/**
 * Problems of the raw path's segments, named after the route's parameters (`path.code`) where the pattern has one
 * at that place, else `path`.
 */
export function pathProblems(rawPath: string, pattern: string): FieldProblem[] {
  const names = pattern.split('/');
  const problems: FieldProblem[] = [];
  rawPath.split('/').forEach((segment, index) => {
    const decoded = decodeUrlText(segment, false);
    const problem = decoded === null ? notUtf8 : textProblem(decoded, maxShortTextLength);
    if (!problem) return;
    const param = /^:(\w+)/.exec(names[index] ?? '')?.[1];
    problems.push({ name: param ? `path.${param}` : 'path', messages: [problem] });
  });
  return problems;
}

/** Problems of `a=1&b=2` text (a query string or a urlencoded form): keys and values, named `<prefix>.<key>`. */
export function formProblems(raw: string, prefix: string | undefined, maxLength: number): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const named = (key: string) => (prefix ? `${prefix}.${key}` : key);
  for (const pair of raw.split('&')) {
    if (problems.length >= maxReported) break;
    if (!pair) continue;
    const split = pair.indexOf('=');
    const rawKey = split === -1 ? pair : pair.slice(0, split);
    const key = decodeUrlText(rawKey, true);
    const keyProblem = key === null ? notUtf8 : textProblem(key, maxShortTextLength);
    if (keyProblem) {
      problems.push({ name: named(printableKey(key ?? rawKey)), messages: [keyProblem] });
      continue;
    }
    const value = split === -1 ? '' : decodeUrlText(pair.slice(split + 1), true);
    const valueProblem = value === null ? notUtf8 : textProblem(value, maxLength);
    if (valueProblem) problems.push({ name: named(key!), messages: [valueProblem] });
  }
  return problems;
}

/** A value met walking a body, with the way back to the root (paths are built only for problems). */
interface Visit {
  value: unknown;
  key?: PropertyKey;
  parent?: Visit;
  /** Set for a refused key: its value is not looked at. */
  keyProblem?: string;
}

function pathOf(visit: Visit): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent) path.push(at.key!);
  return path.reverse();
}

/**
 * Problems of every string and key in a parsed JSON body, at any depth, in document order, named like validation
 * errors (`config.headers.X-Auth`, `ssh_keys[0]`). Walked without recursion, so no nesting can exhaust the stack.
 */
export function jsonProblems(body: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const pending: Visit[] = [{ value: body }];
  while (pending.length > 0 && problems.length < maxReported) {
    const visit = pending.pop()!;
    const { value } = visit;
    if (visit.keyProblem) {
      problems.push({ name: fieldName(pathOf(visit)), messages: [visit.keyProblem] });
    } else if (typeof value === 'string') {
      const problem = textProblem(value, maxBodyTextLength);
      if (problem) problems.push({ name: fieldName(pathOf(visit)), messages: [problem] });
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--) pending.push({ value: value[index], key: index, parent: visit });
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, item] = entries[index]!;
        const keyProblem = textProblem(key, maxShortTextLength);
        pending.push(keyProblem ? { value: item, key: printableKey(key), parent: visit, keyProblem }
          : { value: item, key, parent: visit });
      }
    }
  }
  return problems;
}
