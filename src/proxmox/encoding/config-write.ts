import { formatMemory, parseMemoryMiB } from './memory.ts';
import { sameNetDevice, withCurrentMac } from './net-device.ts';
import { decodeSshKeys, encodeSshKeys, sameSshKeys } from './sshkeys.ts';
import { formatTags, parseTags, sameTags } from './tags.ts';

/**
 * Turns a desired VM configuration into the smallest write against the current one. Values are normalised on both
 * sides (tags as sets, sshkeys decoded, memory in MiB, MACs kept, description whitespace) so that writing the
 * result and reading it back yields an empty write: no perpetual diff.
 */

/** `tags` and `sshkeys` are lists here; `null` deletes the key; `undefined` leaves it alone. */
export type DesiredValue = string | number | boolean | readonly string[] | null | undefined;
export type DesiredConfig = Record<string, DesiredValue>;

export interface ConfigWrite {
  /** Wire values, ready for POST/PUT config. */
  set: Record<string, string>;
  /** Keys to remove, for the `delete` parameter. */
  delete: string[];
}

export function planConfigWrite(current: Readonly<Record<string, unknown>>, desired: DesiredConfig): ConfigWrite {
  const write: ConfigWrite = { set: {}, delete: [] };
  for (const [key, value] of Object.entries(desired)) {
    if (value === undefined) continue;
    const have = current[key];
    if (value === null) {
      if (have !== undefined) write.delete.push(key);
      continue;
    }
    const wire = encodeConfigValue(key, value);
    if (have !== undefined && sameConfigValue(key, wire, String(have))) continue;
    write.set[key] = isNetKey(key) ? withCurrentMac(wire, have === undefined ? undefined : String(have)) : wire;
  }
  return write;
}

export function isEmptyWrite(write: ConfigWrite): boolean {
  return write.delete.length === 0 && Object.keys(write.set).length === 0;
}

/** The wire form of one desired value. */
export function encodeConfigValue(key: string, value: Exclude<DesiredValue, null | undefined>): string {
  if (key === 'tags') return formatTags(asList(key, value));
  if (key === 'sshkeys') return encodeSshKeys(asList(key, value));
  if (key === 'memory') return formatMemory(parseMemoryMiB(typeof value === 'number' ? value : String(value))!);
  if (Array.isArray(value)) throw new TypeError(`${key}: only tags and sshkeys take a list`);
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

/** Whether a wire value and the value PVE returned mean the same thing. */
export function sameConfigValue(key: string, wire: string, current: string): boolean {
  if (key === 'tags') return sameTags(parseTags(wire), parseTags(current));
  if (key === 'sshkeys') return sameSshKeys(decodeSshKeys(wire), decodeSshKeys(current));
  if (key === 'memory') return parseMemoryMiB(wire) === parseMemoryMiB(current);
  if (key === 'description') return normalizeDescription(wire) === normalizeDescription(current);
  if (isNetKey(key)) return sameNetDevice(wire, current);
  return wire === current || (isBooleanText(wire) && isBooleanText(current) && asBit(wire) === asBit(current));
}

/** PVE keeps the description as `#` comment lines; trailing spaces and blank lines do not survive a read-back. */
export function normalizeDescription(text: string): string {
  return text.split(/\r?\n/).map((line) => line.trimEnd()).join('\n').trim();
}

const isNetKey = (key: string) => /^net\d+$/.test(key);
const isBooleanText = (text: string) => /^(0|1|true|false)$/.test(text);
const asBit = (text: string) => (text === '1' || text === 'true' ? '1' : '0');

function asList(key: string, value: Exclude<DesiredValue, null | undefined>): readonly string[] {
  if (!Array.isArray(value)) throw new TypeError(`${key}: expected a list`);
  return value;
}
