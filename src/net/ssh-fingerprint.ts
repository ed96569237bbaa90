import { createHash } from 'node:crypto';

/** SSH key fingerprints as `ssh-keygen -lf` prints them: `SHA256:` and the unpadded base64 of the key blob. */

export function sshHostKeyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The fingerprint of an OpenSSH public key line (`ssh-ed25519 AAAA... comment`). */
export function sshPublicKeyFingerprint(publicKeyLine: string): string {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (!blob) throw new Error('not an OpenSSH public key line');
  return sshHostKeyFingerprint(Buffer.from(blob, 'base64'));
}
