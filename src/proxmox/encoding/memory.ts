import { parsePropertyString } from './property-string.ts';

/**
 * `memory` was an integer (MiB) up to PVE 8.0 and is the property string `[current=]<MiB>` from 8.1. A bare number
 * is valid in both, so that is what is written; both forms are read.
 */

export function parseMemoryMiB(value: string | number | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number') return value;
  const current = parsePropertyString(value, 'current').get('current');
  const mib = Number(current);
  if (current === undefined || !Number.isInteger(mib)) throw new Error(`memory "${value}" has no whole current size`);
  return mib;
}

export function formatMemory(mib: number): string {
  if (!Number.isInteger(mib) || mib < 16) throw new RangeError(`memory must be a whole number of MiB >= 16, got ${mib}`);
  return String(mib);
}
