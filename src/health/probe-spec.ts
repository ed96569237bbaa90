import { z } from 'zod';

/**
 * A tenant's optional probe of its pod (`health_check`, issue 16): a TCP connect to a port, or an HTTP(S) GET of a
 * path answered with an expected status, every `interval_seconds`, each attempt bounded by `timeout_seconds`; the
 * pod is unhealthy after `failure_threshold` failures in a row. The probe always targets the pod's own address:
 * no host may be named, so a probe never makes the controller connect anywhere but the tenant's VM (and the hook
 * address guard still decides at connect time, src/health/probe.ts).
 *
 * One schema for every front door: the REST body, the pod orders (the Kubernetes bridge's path) and the CloudPod
 * CRD (whose OpenAPI bounds are these constants).
 */

export const probeTypes = ['tcp', 'http', 'https'] as const;
export type ProbeType = (typeof probeTypes)[number];

/** Bounds and defaults, shared with the CRD. */
export const probeBounds = {
  port: { min: 1, max: 65_535 },
  interval_seconds: { min: 5, max: 3_600, default: 30 },
  timeout_seconds: { min: 1, max: 60, default: 5 },
  failure_threshold: { min: 1, max: 100, default: 3 },
  expected_status: { min: 100, max: 599, default: 200 },
  pathLength: 1_024,
} as const;

/** An absolute path with an optional query: printable ASCII without spaces (RFC 3986 characters, percent-encoded). */
export const probePathPattern = '^/[A-Za-z0-9\\-._~!$&\'()*+,;=:@%/?]*$';

const whole = (bounds: { min: number; max: number }) => z.number({ error: 'expected a number' })
  .int('expected a whole number').min(bounds.min, `expected ${bounds.min} or more`)
  .max(bounds.max, `expected at most ${bounds.max}`);

const timing = {
  interval_seconds: whole(probeBounds.interval_seconds).default(probeBounds.interval_seconds.default),
  timeout_seconds: whole(probeBounds.timeout_seconds).default(probeBounds.timeout_seconds.default),
  failure_threshold: whole(probeBounds.failure_threshold).default(probeBounds.failure_threshold.default),
};

const tcpProbe = z.strictObject({
  type: z.literal('tcp'),
  port: whole(probeBounds.port),
  ...timing,
});

const httpProbe = z.strictObject({
  type: z.enum(['http', 'https']),
  /** Default: 80 for http, 443 for https (filled in by the schema, so the row says what is probed). */
  port: whole(probeBounds.port).optional(),
  path: z.string({ error: 'expected a string' }).max(probeBounds.pathLength, `at most ${probeBounds.pathLength} characters`)
    .regex(new RegExp(probePathPattern), 'expected an absolute path such as /healthz (printable characters, no spaces)'),
  expected_status: whole(probeBounds.expected_status).default(probeBounds.expected_status.default),
  ...timing,
});

export const healthCheckSchema = z.discriminatedUnion('type', [tcpProbe, httpProbe],
  { error: `expected type ${probeTypes.join(', ')}` })
  .transform((probe): HealthCheck => {
    if (probe.type === 'tcp') return probe;
    return { ...probe, port: probe.port ?? (probe.type === 'https' ? 443 : 80) };
  })
  // An attempt must end before the next one is due, or probes of one pod would pile up.
  .refine((probe) => probe.timeout_seconds < probe.interval_seconds,
    { path: ['timeout_seconds'], message: 'must be shorter than interval_seconds' });

export type TcpHealthCheck = z.output<typeof tcpProbe>;
export type HttpHealthCheck = Omit<z.output<typeof httpProbe>, 'port'> & { port: number };
/** A probe as stored in cloud_pods.health_check: every default filled in. */
export type HealthCheck = TcpHealthCheck | HttpHealthCheck;

/** Probes are flat objects; PostgreSQL's jsonb orders their keys its own way, so they compare field by field. */
export function sameProbe(a: HealthCheck | null, b: HealthCheck | null): boolean {
  if (a === null || b === null) return a === b;
  const fieldsOf = (probe: HealthCheck) => Object.entries(probe).sort(([x], [y]) => (x < y ? -1 : 1));
  return JSON.stringify(fieldsOf(a)) === JSON.stringify(fieldsOf(b));
}
