import { createHash } from 'node:crypto';

/**
 * Fingerprints as people copy them: TLS as PVE shows a node certificate (`AB:CD:...`, SHA-256 of the DER), SSH as
 * `ssh-keygen -lf` prints a host key (`SHA256:` and unpadded base64 of the key blob). Comparison ignores case,
 * colons and padding so either spelling pins the same key.
 */

export function sshHostKeyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The fingerprint of an OpenSSH public key line (`ssh-ed25519 AAAA... comment`). */
export function sshPublicKeyFingerprint(publicKeyLine: string): string {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (!blob) throw new Error('not an OpenSSH public key line');
  return sshHostKeyFingerprint(Buffer.from(blob, 'base64'));
}

export function sameTlsFingerprint(a: string, b: string): boolean {
  const canonical = (text: string) => text.replace(/^sha256[:/]?/i, '').replace(/:/g, '').toLowerCase();
  return canonical(a) === canonical(b);
}

export function sameSshFingerprint(a: string, b: string): boolean {
  const canonical = (text: string) => text.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
  return canonical(a) === canonical(b);
}
