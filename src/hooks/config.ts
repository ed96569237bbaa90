import { z } from 'zod';

/**
 * A hook's `config` (spec 9: headers, timeout, env): one schema for the REST API, the CRD's intent and the
 * delivery, which re-reads it from the row. Unknown keys are refused so a typo is not silently ignored.
 */

/** Headers a hook may not set: the signature and transport headers are ours. */
const reservedHeader = /^(webhook-(id|timestamp|signature)|content-(type|length)|host|connection|transfer-encoding|te|trailer|upgrade|keep-alive|proxy-.*|expect)$/i;

/**
 * Variables that would change how a script or its interpreter runs rather than tell it something (dynamic
 * loader, shell start-up files, interpreter options): a hook's config may not set them.
 */
export const hijackingVariable = /^(LD_.*|DYLD_.*|BASH_ENV|ENV|BASH_FUNC_.*|SHELLOPTS|BASHOPTS|PS4|IFS|CDPATH|GLOBIGNORE|PATH|NODE_OPTIONS|NODE_PATH|PYTHON.*|PERL5.*|PERLLIB|RUBYOPT|RUBYLIB|GCONV_PATH|LOCPATH|HOSTALIASES|LOCALDOMAIN|RES_OPTIONS)$/;

export const hookConfigSchema = z.strictObject({
  /** Extra request headers of an http hook (for example an Authorization the receiver expects). */
  headers: z.record(
    z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'expected an HTTP header name')
      .refine((name) => !reservedHeader.test(name), 'this header is set by CloudPods'),
    z.string().max(4096, 'at most 4096 characters').regex(/^[^\r\n]*$/, 'must be one line'),
  ).refine((headers) => Object.keys(headers).length <= 20, 'at most 20 headers').optional(),
  /** Seconds a delivery may take (http: the whole request; script: the run); default: cloudpods.webhooks.timeout_seconds. */
  timeout_seconds: z.number({ error: 'expected a number' }).int('expected a whole number').min(1, 'expected 1 or more')
    .max(60, 'expected at most 60').optional(),
  /** Environment of a script hook, added to the event's own variables. */
  env: z.record(
    z.string().regex(/^[A-Z_][A-Z0-9_]{0,63}$/, 'expected an environment variable name (A-Z, 0-9, _)')
      .refine((name) => !name.startsWith('CLOUDPODS_'), 'CLOUDPODS_ variables are set by CloudPods')
      .refine((name) => !hijackingVariable.test(name), 'this variable changes how the script runs'),
    z.string().max(4096, 'at most 4096 characters'),
  ).refine((env) => Object.keys(env).length <= 50, 'at most 50 variables').optional(),
  /**
   * The pod waits for this hook's delivery (spec 9's "blocking hooks"): provisioning for `pod.pre_create`, teardown
   * for `pod.pre_destroy`; only those events may set it (src/hooks/orders.ts). Default false: hooks never block.
   */
  blocking: z.boolean({ error: 'expected true or false' }).optional(),
});

export type HookConfig = z.infer<typeof hookConfigSchema>;

/** The events a hook may block the pod on: what happens next waits for their deliveries (src/hooks/gate.ts). */
export const blockingEvents = ['pod.pre_create', 'pod.pre_destroy'] as const;
export type BlockingEvent = typeof blockingEvents[number];

export const isBlockingEvent = (event: string): event is BlockingEvent => (blockingEvents as readonly string[]).includes(event);

/** Why `config.blocking` cannot be set for this event, or null when it can (or is not set). */
export function blockingProblem(event: string, config: Pick<HookConfig, 'blocking'> | undefined): string | null {
  return config?.blocking === true && !isBlockingEvent(event)
    ? `only ${blockingEvents.join(' and ')} hooks can block: a ${event} hook has nothing to hold up` : null;
}

/** The condition type delivery outcomes are recorded under on a hook's row (and its CloudPodHook's status). */
export const lastDeliveryCondition = 'LastDelivery';

/**
 * Header and env values may be credentials (an Authorization header, a token for a script): reads show them as
 * this, and a change that sends it back for a key keeps that key's stored value, so read-modify-write works.
 */
export const maskedValue = '********';

type ValueMaps = Pick<HookConfig, 'headers' | 'env'>;

const mapValues = (map: Record<string, string> | undefined, value: (key: string, v: string) => string) =>
  map === undefined ? undefined : Object.fromEntries(Object.entries(map).map(([key, v]) => [key, value(key, v)]));

/** The config as reads show it: every header and env value masked. */
export function maskedConfig<C extends ValueMaps>(config: C): C {
  const masked = { ...config };
  for (const field of ['headers', 'env'] as const) {
    if (config[field] !== undefined) masked[field] = mapValues(config[field], () => maskedValue);
  }
  return masked;
}

/**
 * A new config with masked values put back from the stored one; a masked value for a key that had none is
 * returned in `unknown` (field names like `config.headers.Authorization`).
 */
export function unmaskedConfig<C extends ValueMaps>(next: C, stored: ValueMaps): { config: C; unknown: string[] } {
  const unknown: string[] = [];
  const config = { ...next };
  for (const field of ['headers', 'env'] as const) {
    config[field] = mapValues(next[field], (key, value) => {
      if (value !== maskedValue) return value;
      const kept = stored[field]?.[key];
      if (kept === undefined) unknown.push(`config.${field}.${key}`);
      return kept ?? value;
    });
    if (config[field] === undefined) delete config[field];
  }
  return { config, unknown };
}
