/**
 * `sshkeys` is declared `format: urlencoded`: PVE stores and returns it percent-encoded and unescapes it only when it
 * writes the cloud-init drive. The encoding must be encodeURIComponent's: a `+` for a space (URLSearchParams,
 * proxmoxer #153) is stored literally and breaks every key.
 */

/** The wire value for a list of OpenSSH public keys, one per line. */
export function encodeSshKeys(keys: readonly string[]): string {
  return encodeURIComponent(normalizeSshKeys(keys).join('\n'));
}

/** The keys in a value read back from PVE (which may hold a trailing newline or `\r\n`). */
export function decodeSshKeys(value: string | undefined): string[] {
  if (!value) return [];
  let text: string;
  try {
    text = decodeURIComponent(value);
  } catch {
    text = value; // Written by hand on the node, not encoded: take it as it is.
  }
  return normalizeSshKeys(text.split(/\r?\n/));
}

/** Keys compared as a set of whitespace-normalised lines: order and spacing are not a change. */
export function sameSshKeys(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(normalizeSshKeys(a));
  const right = new Set(normalizeSshKeys(b));
  return left.size === right.size && [...left].every((key) => right.has(key));
}

function normalizeSshKeys(keys: readonly string[]): string[] {
  return keys.map((key) => key.trim().replace(/\s+/g, ' ')).filter((key) => key !== '');
}
