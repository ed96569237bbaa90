/**
 * Proxmox property strings: `k=v,k=v`, where one key (the format's default key) may appear bare, without `k=`.
 * `net0: virtio=BC:24:11:00:00:01,bridge=vmbr0`, `memory: current=2048` and `memory: 2048` are all property strings.
 */

export type PropertyMap = Map<string, string>;

export class PropertyStringError extends Error {
  override name = 'PropertyStringError';
}

/** Parses a property string, keeping the order of its keys. A bare value belongs to `defaultKey`. */
export function parsePropertyString(text: string, defaultKey?: string): PropertyMap {
  const properties: PropertyMap = new Map();
  for (const part of text.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const [key, value] = eq < 0 ? [defaultKey, part] : [part.slice(0, eq), part.slice(eq + 1)];
    if (key === undefined) throw new PropertyStringError(`"${part}" has no key and this format has no default key`);
    if (properties.has(key)) throw new PropertyStringError(`duplicate key "${key}"`);
    properties.set(key, value);
  }
  return properties;
}

/** Formats properties in their order; the default key, when present, goes first and bare as PVE writes it. */
export function formatPropertyString(properties: PropertyMap | Record<string, string | number | boolean | undefined>,
  defaultKey?: string): string {
  const entries = (properties instanceof Map ? [...properties] : Object.entries(properties))
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([key, value]): [string, string] => [key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value)]);
  const bare = entries.filter(([key]) => key === defaultKey).map(([, value]) => value);
  const rest = entries.filter(([key]) => key !== defaultKey).map(([key, value]) => `${key}=${value}`);
  return [...bare, ...rest].join(',');
}
