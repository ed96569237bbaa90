import { isDeepStrictEqual } from 'node:util';

/**
 * The CEL rules our CRDs use, evaluated in JavaScript. A CRD naming any other rule fails to load, so a new rule
 * cannot silently go unchecked in tests. Rules reading `oldSelf` are transition rules: checked on update only,
 * and only when the old value exists (as the apiserver does).
 */
type Rule = (self: any, oldSelf: any) => boolean;

const fixed: Record<string, Rule> = {
  'self == oldSelf': (self, old) => isDeepStrictEqual(self, old),
  'self >= oldSelf': (self, old) => self >= old,
  "!has(self.hostname) || has(self.zone) || self.hostname.contains('.')":
    (s) => s.hostname === undefined || s.zone !== undefined || s.hostname.includes('.'),
  "!has(self.hostname) || !has(self.zone) || !self.hostname.contains('.') || self.hostname == self.zone || self.hostname.endsWith('.' + self.zone)":
    (s) => s.hostname === undefined || s.zone === undefined || !s.hostname.includes('.') || s.hostname === s.zone
      || s.hostname.endsWith(`.${s.zone}`),
  "self.type != 'http' || self.target.startsWith('https://') || self.target.startsWith('http://')":
    (s) => s.type !== 'http' || s.target.startsWith('https://') || s.target.startsWith('http://'),
  "self.type != 'script' || self.target.matches('^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$')":
    (s) => s.type !== 'script' || /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(s.target),
  "!has(self.config) || !has(self.config.blocking) || !self.config.blocking || self.event in ['pod.pre_create','pod.pre_destroy']":
    (s) => s.config?.blocking !== true || ['pod.pre_create', 'pod.pre_destroy'].includes(s.event),
  "self.type != 'tcp' || has(self.port)": (s) => s.type !== 'tcp' || s.port !== undefined,
  "self.type == 'tcp' || has(self.path)": (s) => s.type === 'tcp' || s.path !== undefined,
  "self.type != 'tcp' || (!has(self.path) && !has(self.expectedStatus))":
    (s) => s.type !== 'tcp' || (s.path === undefined && s.expectedStatus === undefined),
};

export interface CompiledRule {
  transition: boolean;
  check: Rule;
}

export function compileRule(rule: string): CompiledRule {
  const name = /^self\.metadata\.name\.matches\('(.*)'\)$/.exec(rule);
  if (name) {
    const pattern = new RegExp(name[1]!);
    return { transition: false, check: (self) => pattern.test(self?.metadata?.name ?? '') };
  }
  const check = fixed[rule];
  if (!check) throw new Error(`the fake apiserver cannot evaluate the CEL rule ${JSON.stringify(rule)}: add it to cel.ts`);
  return { transition: rule.includes('oldSelf'), check };
}
