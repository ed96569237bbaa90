/**
 * Fingerprints as people copy them: TLS as PVE shows a node certificate (`AB:CD:...`, SHA-256 of the DER), SSH as
 * `ssh-keygen -lf` prints a host key (src/net/ssh-fingerprint.ts). Comparison ignores case, colons and padding so
 * either spelling pins the same key.
 */

export { sshHostKeyFingerprint, sshPublicKeyFingerprint } from '../../net/ssh-fingerprint.ts';

export function sameTlsFingerprint(a: string, b: string): boolean {
  const canonical = (text: string) => text.replace(/^sha256[:/]?/i, '').replace(/:/g, '').toLowerCase();
  return canonical(a) === canonical(b);
}

export function sameSshFingerprint(a: string, b: string): boolean {
  const canonical = (text: string) => text.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
  return canonical(a) === canonical(b);
}
