/** PVE disk sizes: `<number>[KMGT]` in binary units, bytes without a unit. */

const units: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * units[match[2]!]!);
}

/** The largest unit that divides the size evenly, as PVE writes `size=` into a disk. */
export function formatSize(bytes: number): string {
  for (const unit of ['T', 'G', 'M', 'K'] as const) {
    if (bytes % units[unit]! === 0) return `${bytes / units[unit]!}${unit}`;
  }
  return String(bytes);
}
