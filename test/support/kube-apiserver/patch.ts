/** Patch application as the apiserver does it for custom resources: JSON merge patch and JSON Patch. Pure. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 7386: objects merge key by key, null removes, anything else (arrays included) replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

export class PatchError extends Error {
  readonly status: 409 | 422;
  constructor(message: string, status: 409 | 422 = 422) {
    super(message);
    this.status = status;
  }
}

const unescape = (token: string) => token.replace(/~1/g, '/').replace(/~0/g, '~');

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${pointer}`);
  return pointer.slice(1).split('/').map(unescape);
}

function parentOf(doc: Json, tokens: string[], op: string): { parent: Json; key: string } {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    const next = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (next === undefined) throw new PatchError(`${op}: the path /${tokens.join('/')} does not exist`);
    node = next;
  }
  return { parent: node, key: tokens[tokens.length - 1]! };
}

function getAt(doc: Json, pointer: string): Json {
  let node: Json | undefined = doc;
  for (const token of parsePointer(pointer)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (node === undefined) throw new PatchError(`the path ${pointer} does not exist`);
  }
  return node;
}

function removeAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  const { parent, key } = parentOf(doc, tokens, 'remove');
  if (Array.isArray(parent)) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length) throw new PatchError(`remove: no index ${key}`);
    return parent.splice(index, 1)[0]!;
  }
  if (!isObject(parent) || !(key in parent)) throw new PatchError(`remove: the path ${pointer} does not exist`);
  const old = parent[key]!;
  delete parent[key];
  return old;
}

function addAt(doc: Json, pointer: string, value: Json, replace: boolean): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, replace ? 'replace' : 'add');
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    const bound = replace ? parent.length - 1 : parent.length;
    if (!Number.isInteger(index) || index < 0 || index > bound) throw new PatchError(`index ${key} out of range`);
    parent.splice(index, replace ? 1 : 0, value);
  } else if (isObject(parent)) {
    if (replace && !(key in parent)) throw new PatchError(`replace: the path ${pointer} does not exist`);
    parent[key] = value;
  } else {
    throw new PatchError(`the path ${pointer} does not exist`);
  }
  return doc;
}

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: Json;
  from?: string;
}

/** RFC 6902, all or nothing: a failed `test` is a 422 as the apiserver answers it. */
export function jsonPatch(document: Json, operations: JsonPatchOperation[]): Json {
  if (!Array.isArray(operations)) throw new PatchError('a JSON patch is an array of operations');
  let doc = structuredClone(document);
  for (const operation of operations) {
    switch (operation.op) {
      case 'add': doc = addAt(doc, operation.path, structuredClone(operation.value ?? null), false); break;
      case 'replace': doc = addAt(doc, operation.path, structuredClone(operation.value ?? null), true); break;
      case 'remove': removeAt(doc, operation.path); break;
      case 'move': doc = addAt(doc, operation.path, removeAt(doc, operation.from ?? ''), false); break;
      case 'copy': doc = addAt(doc, operation.path, structuredClone(getAt(doc, operation.from ?? '')), false); break;
      case 'test':
        if (JSON.stringify(getAt(doc, operation.path)) !== JSON.stringify(operation.value)) {
          throw new PatchError(`testing value ${operation.path} failed`);
        }
        break;
      default: throw new PatchError(`unknown JSON patch operation ${(operation as { op: string }).op}`);
    }
  }
  return doc;
}
