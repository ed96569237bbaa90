import { formatSize, parseSize } from '../sizes.ts';

/**
 * Property strings (`k=v,k=v`, one key allowed bare) the way pve-common's JSONSchema.pm parses and prints them.
 * The simulator has its own copy, apart from the client's, so that a wrong idea of PVE's forms cannot hide on both
 * sides at once. PVE prints every value it stores again: the default key first (bare, or as `<model>=<MAC>` for a
 * key alias), then the other keys sorted by name, booleans as 0/1 and disk sizes in their largest whole unit.
 */

export interface PropertyFormat {
  /** The key whose value may stand bare (`file` of a disk, `model` of a NIC). */
  defaultKey?: string;
  /** Every key the format knows, aliases excluded. */
  keys: ReadonlySet<string>;
  /** Keys without `optional` in PVE's schema. */
  required?: ReadonlySet<string>;
  /** Plain aliases, such as a disk's `volume` for `file`. */
  aliases?: Readonly<Record<string, string>>;
  /** Key names that carry another key's value: `virtio=<MAC>` is model=virtio with macaddr=<MAC>. */
  keyAlias?: { names: ReadonlySet<string>; key: string; valueKey: string };
  booleans?: ReadonlySet<string>;
  /** Keys of PVE's `disk-size` format. */
  sizes?: ReadonlySet<string>;
}

/** A property string PVE would refuse; the message is pve-common's. */
export class PropertyFormatError extends Error {
  override name = 'PropertyFormatError';
}

/** PVE's parse_property_string: keys resolved through aliases, booleans read as 0/1, unknown keys refused. */
export function parseProperties(text: string, format: PropertyFormat): Map<string, string> {
  const properties = new Map<string, string>();
  let bareSeen = false;
  for (const part of text.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const pair = /^([^=]+)=(.+)$/.exec(part);
    if (pair) {
      let key = pair[1]!;
      let value = pair[2]!;
      if (properties.has(key)) throw new PropertyFormatError(`duplicate key in comma-separated list property: ${key}`);
      if (format.keyAlias?.names.has(key)) {
        const { key: named, valueKey } = format.keyAlias;
        if (properties.has(named)) throw new PropertyFormatError(`key alias '${named}' is already defined`);
        properties.set(named, key);
        key = valueKey;
      } else if (format.aliases?.[key] !== undefined) {
        key = format.aliases[key]!;
      }
      if (!format.keys.has(key)) throw new PropertyFormatError(`invalid key in comma-separated list property: ${key}`);
      if (format.booleans?.has(key)) value = parseBoolean(value) ?? value;
      properties.set(key, value);
    } else if (!part.includes('=')) {
      const defaultKey = format.defaultKey;
      if (defaultKey === undefined) {
        throw new PropertyFormatError('value without key, but schema does not define a default key');
      }
      if (bareSeen || properties.has(defaultKey)) {
        throw new PropertyFormatError(`duplicate key in comma-separated list property: ${defaultKey}`);
      }
      bareSeen = true;
      properties.set(defaultKey, part);
    } else {
      throw new PropertyFormatError('missing key in comma-separated list property');
    }
  }
  checkValues(properties, format);
  return properties;
}

/** PVE's print_property_string: the default key first, then required keys, then the rest, each group by name. */
export function printProperties(properties: ReadonlyMap<string, string>, format: PropertyFormat): string {
  const parts: string[] = [];
  const done = new Set<string>();
  const add = (key: string, bare: boolean) => {
    if (done.has(key)) return;
    done.add(key);
    const value = properties.get(key);
    if (value === undefined) return;
    const alias = format.keyAlias;
    const combined = alias?.key === key ? properties.get(alias.valueKey) : undefined;
    if (combined !== undefined) {
      parts.push(`${printValue(key, value, format)}=${printValue(alias!.valueKey, combined, format)}`);
      done.add(alias!.valueKey);
      return;
    }
    parts.push(bare ? printValue(key, value, format) : `${key}=${printValue(key, value, format)}`);
  };
  if (format.defaultKey !== undefined) add(format.defaultKey, true);
  const keys = [...properties.keys()].sort();
  for (const key of keys) if (format.required?.has(key)) add(key, false);
  for (const key of keys) add(key, false);
  return parts.join(',');
}

/** pve-common's parse_boolean. */
export function parseBoolean(text: string): '1' | '0' | undefined {
  if (/^(?:1|on|yes|true)$/i.test(text)) return '1';
  if (/^(?:0|off|no|false)$/i.test(text)) return '0';
  return undefined;
}

function checkValues(properties: Map<string, string>, format: PropertyFormat): void {
  for (const key of format.required ?? []) {
    if (!properties.has(key)) throw new PropertyFormatError(`${key}: property is missing and it is not optional`);
  }
  for (const [key, value] of properties) {
    if (format.booleans?.has(key) && value !== '0' && value !== '1') {
      throw new PropertyFormatError(`${key}: type check ('boolean') failed - got '${value}'`);
    }
    if (format.sizes?.has(key) && parseSize(value) === undefined) {
      throw new PropertyFormatError(`${key}: value '${value}' does not look like a valid disk size`);
    }
  }
}

function printValue(key: string, value: string, format: PropertyFormat): string {
  if (format.sizes?.has(key)) return formatSize(parseSize(value)!);
  if (value.includes(',')) throw new PropertyFormatError(`illegal value with commas for ${key}`);
  return value;
}
