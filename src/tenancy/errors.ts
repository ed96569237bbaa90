import { AppError } from '../errors.ts';

export const quotaResources = ['pods', 'cpu_cores', 'memory_mb', 'disk_gb', 'bandwidth_gb', 'ipv4'] as const;
export type QuotaResource = (typeof quotaResources)[number];

export interface QuotaViolation {
  resource: QuotaResource;
  requested: number;
  used: number;
  limit: number;
}

/** The order does not fit the tenant's quota; the details name every resource that is short. */
export class QuotaExceededError extends AppError {
  readonly violations: QuotaViolation[];
  constructor(violations: QuotaViolation[]) {
    const first = violations[0]!;
    super(422, 'resource_limit_exceeded',
      violations.map((v) => `${v.resource}: ${v.used} used + ${v.requested} requested exceeds the limit of ${v.limit}`)
        .join('; '),
      { ...first, limits: violations }, 'QuotaExceeded');
    this.violations = violations;
  }
}

export class TenantSuspendedError extends AppError {
  constructor(slug: string) {
    super(409, 'tenant_suspended', `tenant ${slug} is suspended: it cannot create or start pods`, undefined,
      'TenantSuspended');
  }
}

/** The template needs a larger plan than the tenant holds. */
export class PlanRequiredError extends AppError {
  constructor(template: string, plan: string) {
    super(422, 'plan_required', `template ${template} needs an active subscription to plan ${plan} or a larger one`,
      { template, minimum_plan_code: plan }, 'PlanRequired');
  }
}
