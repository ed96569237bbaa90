import type { ResourceType } from './resources.ts';

/**
 * `kubectl get` asks for a meta.k8s.io Table; the apiserver renders the CRD's printer columns with JSONPath. This
 * evaluates the JSONPath forms our CRDs use: `.a.b`, `.a[0]` and `.a[?(@.k=="v")].b`. Pure.
 */
export function evaluateJsonPath(object: unknown, jsonPath: string): unknown {
  const steps = jsonPath.match(/\.[A-Za-z0-9_]+|\[\d+\]|\[\?\(@\.[A-Za-z0-9_]+=="[^"]*"\)\]/g) ?? [];
  let node: any = object;
  for (const step of steps) {
    if (node === undefined || node === null) return undefined;
    if (step.startsWith('.')) node = node[step.slice(1)];
    else if (/^\[\d+\]$/.test(step)) node = Array.isArray(node) ? node[Number(step.slice(1, -1))] : undefined;
    else {
      const [, key, value] = /^\[\?\(@\.([A-Za-z0-9_]+)=="([^"]*)"\)\]$/.exec(step)!;
      node = Array.isArray(node) ? node.find((item) => item?.[key!] === value) : undefined;
    }
  }
  return node;
}

/** Human age as kubectl prints it (5s, 3m, 2h, 4d). */
export function age(timestamp: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function toTable(type: ResourceType, objects: any[], resourceVersion: string): unknown {
  const columns = type.columns.length ? type.columns
    : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion },
    columnDefinitions: [{ name: 'Name', type: 'string', format: 'name', description: 'Name', priority: 0 },
      ...columns.map((c) => ({ name: c.name, type: c.type, format: '', description: c.description ?? '', priority: c.priority ?? 0 }))],
    rows: objects.map((object) => ({
      cells: [object.metadata.name, ...columns.map((c) => {
        const value = evaluateJsonPath(object, c.jsonPath);
        if (value === undefined) return null;
        return c.type === 'date' && typeof value === 'string' ? age(value) : value;
      })],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata },
    })),
  };
}
