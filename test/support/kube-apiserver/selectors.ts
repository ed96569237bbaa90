/** Label and field selectors as the apiserver parses them. Pure. */

export type Requirement =
  | { key: string; op: '=' | '!='; values: [string] }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists'; values: [] };

export class SelectorError extends Error {}

/** Splits on commas outside parentheses (`a in (x,y),b` is two requirements). */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

export function parseLabelSelector(text: string): Requirement[] {
  return splitTop(text).map((part): Requirement => {
    let match = /^([A-Za-z0-9._/-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (match) return { key: match[1]!, op: match[2] as 'in' | 'notin', values: match[3]!.split(',').map((v) => v.trim()).filter(Boolean) };
    match = /^([A-Za-z0-9._/-]+)\s*(==|!=|=)\s*([A-Za-z0-9._-]*)$/.exec(part);
    if (match) return { key: match[1]!, op: match[2] === '!=' ? '!=' : '=', values: [match[3]!] };
    match = /^(!?)([A-Za-z0-9._/-]+)$/.exec(part);
    if (match) return { key: match[2]!, op: match[1] ? '!exists' : 'exists', values: [] };
    throw new SelectorError(`unable to parse requirement: ${part}`);
  });
}

export function matchesRequirements(values: Record<string, string>, requirements: Requirement[]): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(values, r.key);
    const value = values[r.key];
    switch (r.op) {
      case '=': return has && value === r.values[0];
      case '!=': return !has || value !== r.values[0];
      case 'in': return has && r.values.includes(value!);
      case 'notin': return !has || !r.values.includes(value!);
      case 'exists': return has;
      case '!exists': return !has;
    }
  });
}

/** Field selectors: only `=`, `==` and `!=` on the fields the resource supports. */
export function parseFieldSelector(text: string, supported: readonly string[]): Requirement[] {
  const requirements = parseLabelSelector(text);
  for (const r of requirements) {
    if (r.op !== '=' && r.op !== '!=') throw new SelectorError(`field selectors support only =, == and !=: ${r.key}`);
    if (!supported.includes(r.key)) throw new SelectorError(`field label not supported: ${r.key}`);
  }
  return requirements;
}

/** The fields a field selector can name, read from an object. */
export function fieldsOf(object: { metadata?: { name?: string; namespace?: string } }): Record<string, string> {
  return { 'metadata.name': object.metadata?.name ?? '', 'metadata.namespace': object.metadata?.namespace ?? '' };
}
