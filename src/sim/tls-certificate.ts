import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Self-signed certificates made at run time with node:crypto alone: a root CA (like a cluster's pve-root-ca) and
 * a server certificate it signs (like a node's pve-ssl.pem). Only what TLS needs is encoded: ECDSA P-256 keys,
 * ecdsa-with-SHA256 signatures, basic constraints, key usage and subject alternative names.
 */

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the DER, as `AB:CD:...` the way PVE and Node print it. */
  fingerprint256: string;
}

export interface SimulatorCertificates {
  ca: IssuedCertificate;
  server: IssuedCertificate;
}

/** A CA and a server certificate for the given DNS names and IP addresses, valid from an hour ago for a year. */
export function issueSimulatorCertificates(altNames: readonly string[]): SimulatorCertificates {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caName = 'CloudPods simulator CA';
  const ca = issue({ subject: caName, issuer: caName, keys: caKeys, signer: caKeys.privateKey, isCa: true, altNames: [] });
  const serverKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const server = issue({
    subject: altNames[0] ?? 'localhost', issuer: caName, keys: serverKeys, signer: caKeys.privateKey, isCa: false, altNames,
  });
  return { ca, server };
}

interface IssueInput {
  subject: string;
  issuer: string;
  keys: { publicKey: KeyObject; privateKey: KeyObject };
  signer: KeyObject;
  isCa: boolean;
  altNames: readonly string[];
}

function issue({ subject, issuer, keys, signer, isCa, altNames }: IssueInput): IssuedCertificate {
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const now = Date.now();
  const extensions = [
    extension('2.5.29.19', true, sequence(...(isCa ? [tlv(0x01, Buffer.from([0xff]))] : []))),
    extension('2.5.29.15', true, bitString(Buffer.from([isCa ? 0x06 : 0xa0]))), // keyCertSign+cRLSign | digitalSignature+keyEncipherment
  ];
  if (altNames.length > 0) extensions.push(extension('2.5.29.17', false, sequence(...altNames.map(generalName))));
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])),
    ecdsaWithSha256,
    name(issuer),
    sequence(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 365 * 86400_000))),
    name(subject),
    keys.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signer);
  const der = sequence(tbs, ecdsaWithSha256, bitString(signature));
  const certPem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END CERTIFICATE-----\n`;
  return {
    certPem,
    keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    fingerprint256: new X509Certificate(certPem).fingerprint256,
  };
}

/** SHA-256 of a certificate's DER as `AB:CD:...`; the same as X509Certificate.fingerprint256. */
export function certificateFingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  const header = length < 0x80 ? Buffer.from([length])
    : length < 0x100 ? Buffer.from([0x81, length]) : Buffer.from([0x82, length >> 8, length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), header, content]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const bitString = (bytes: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
const octetString = (bytes: Buffer) => tlv(0x04, bytes);
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));

function integer(bytes: Buffer): Buffer {
  return tlv(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first! * 40 + second!];
  for (const value of rest) {
    const chunk = [value & 0x7f];
    for (let v = value >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return tlv(0x17, Buffer.from(`${text}Z`, 'ascii'));
}

function name(commonName: string): Buffer {
  return sequence(set(sequence(oid('2.5.4.3'), utf8(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), octetString(value));
}

function generalName(value: string): Buffer {
  if (isIP(value) === 4) return tlv(0x87, Buffer.from(value.split('.').map(Number)));
  if (isIP(value) === 6) return tlv(0x87, ipv6Bytes(value));
  return tlv(0x82, Buffer.from(value, 'ascii'));
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = [...groups(head), ...Array<string>(address.includes('::') ? missing : 0).fill('0'), ...groups(tail)];
  return Buffer.from(all.flatMap((group) => { const n = parseInt(group, 16); return [n >> 8, n & 0xff]; }));
}
