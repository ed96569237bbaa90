import { z } from 'zod';

/**
 * The DNS label and DNS name rules, in the one form rows store (RFC 1123, lower-case, no trailing dot; migration
 * 0001's LABEL and HOSTNAME checks). The REST routes, the configuration, the settings registry, the CRD generator
 * and src/dns/names.ts all take them from here, so the front doors cannot drift apart.
 */

const label = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';

/** What a label may hold, in words (the CRDs' CEL messages say it after their own subject). */
export const dnsLabelRule = 'lower-case letters, digits and inner hyphens, at most 63 characters';
const dnsLabelMessage = `expected ${dnsLabelRule}`;

/** One label: pod, volume, tenant, plan and IP pool names, Kubernetes namespaces and object names of our kinds. */
export const dnsLabelPattern = `^${label}$`;
export const dnsLabel = new RegExp(dnsLabelPattern);
export const dnsLabelSchema = z.string().regex(dnsLabel, dnsLabelMessage);

/** A name: one label or several between dots, at most 253 characters. */
export const dnsNamePattern = `^${label}(\\.${label})*$`;
export const dnsName = new RegExp(dnsNamePattern);
export const dnsNameMaxLength = 253;
export const dnsNameMessage = 'expected an RFC 1123 host name: letters, digits and inner hyphens between dots';

export const isDnsName = (name: string): boolean => name.length <= dnsNameMaxLength && dnsName.test(name);

/**
 * A name as the REST API takes it: shape only, since the order normalises case and a trailing dot before it applies
 * the naming rule (src/dns/zones.ts, resolveName).
 */
export const dnsNameInput = z.string({ error: 'expected a string' }).min(1, 'must not be empty')
  .max(dnsNameMaxLength, `at most ${dnsNameMaxLength} characters`);
