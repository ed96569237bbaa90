/**
 * VM tags: `[a-z0-9_][a-z0-9_+.-]*`, case-insensitive. PVE may lower-case, sort and de-duplicate them and accepts
 * `,`, `;` or spaces between them, so they are compared as sets and always written in one canonical form.
 */

const tagPattern = /^[a-z0-9_][a-z0-9_+.-]*$/;

export class InvalidTagError extends Error {
  override name = 'InvalidTagError';
}

/** The canonical set of tags in a value read from PVE (or `/cluster/resources`, which separates them with `;`). */
export function parseTags(value: string | undefined): string[] {
  return canonicalTags((value ?? '').split(/[,;\s]+/));
}

/** The wire value for a set of tags; throws on a tag PVE would refuse. */
export function formatTags(tags: readonly string[]): string {
  const canonical = canonicalTags(tags);
  const bad = canonical.find((tag) => !tagPattern.test(tag));
  if (bad !== undefined) throw new InvalidTagError(`tag "${bad}" must match [a-z0-9_][a-z0-9_+.-]*`);
  return canonical.join(';');
}

export function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return canonicalTags(a).join(';') === canonicalTags(b).join(';');
}

export function isValidTag(tag: string): boolean {
  return tagPattern.test(tag.toLowerCase());
}

function canonicalTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim().toLowerCase()).filter((tag) => tag !== ''))].sort();
}
