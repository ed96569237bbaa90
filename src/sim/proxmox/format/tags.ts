/**
 * VM tags as qemu-server stores them (PVE::GuestHelpers::get_unique_tags with the default tag style): split on
 * `,`, `;` or whitespace (PVE::Tools::split_list), sorted without regard to case, lower-cased, each once, joined
 * with `;`.
 */

export function splitList(text: string): string[] {
  return text.replace(/[,;]/g, ' ').trim().split(/\s+/).filter((item) => item !== '');
}

export function uniqueTags(value: string): string {
  const sorted = splitList(value).sort((a, b) => compare(a.toLowerCase(), b.toLowerCase()));
  return [...new Set(sorted.map((tag) => tag.toLowerCase()))].join(';');
}

/** Perl's `cmp`: code unit order, not locale order. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
