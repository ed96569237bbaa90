import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { authenticate } from './auth.ts';
import type { ApiDeps, AppEnv } from './context.ts';
import { errorHandler, errorResponse, notFoundHandler } from './errors.ts';
import { observeRequests } from './middleware/observe.ts';
import { refuseUnsafeText } from './middleware/text-guard.ts';
import { dnsRecordRoutes } from './routes/dns-records.ts';
import { healthRoutes } from './routes/health.ts';
import { hookRoutes } from './routes/hooks.ts';
import { jobRoutes } from './routes/jobs.ts';
import { settingsRoutes } from './routes/settings.ts';
import { systemEventRoutes } from './routes/system-events.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { ipPoolRoutes } from './routes/ip-pools.ts';
import { planRoutes } from './routes/plans.ts';
import { podRoutes } from './routes/pods.ts';
import { quotaOverrideRoutes, quotaRoutes } from './routes/quota.ts';
import { subscriptionRoutes } from './routes/subscriptions.ts';
import { templateRoutes } from './routes/templates.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { volumeRoutes } from './routes/volumes.ts';
import { adminRoutes } from '../ui/routes.ts';

/** The HTTP API: probes and metrics at the root, everything else under /api behind bearer tokens. */
export function buildApp(deps: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const limit = deps.config.server.bodyLimitBytes;

  app.use(requestId());
  app.use(observeRequests(deps.logger, deps.metrics));
  app.use(secureHeaders());
  app.use('/api/*', bodyLimit({
    maxSize: limit,
    onError: (c) => errorResponse(c, 413, 'payload_too_large', `request body exceeds ${limit} bytes`, { limit }),
  }));
  app.use('/api/*', authenticate(deps.db, deps.logger));
  app.use('/api/*', refuseUnsafeText());
  // Idempotency-Key is honoured by each POST route after its guards (src/api/idempotency.ts), not here.

  app.route('/', healthRoutes(deps));
  app.route('/api', tokenRoutes(deps));
  app.route('/api/admin/settings', settingsRoutes(deps));
  app.route('/api/admin', jobRoutes(deps));
  app.route('/api/admin/system-events', systemEventRoutes(deps));
  app.route('/api/admin/ip-pools', ipPoolRoutes(deps));
  app.route('/api/cloud-pods/:podId/dns-records', dnsRecordRoutes(deps));
  // Fixed paths under /api/cloud-pods come before the pod routes' /:id.
  app.route('/api/cloud-pods/admin', dashboardRoutes(deps));
  app.route('/api/cloud-pods/hooks', hookRoutes(deps));
  app.route('/api/cloud-pods/plans', planRoutes(deps));
  app.route('/api/cloud-pods/templates', templateRoutes(deps));
  app.route('/api/cloud-pods/quota', quotaRoutes(deps));
  app.route('/api/cloud-pods/tenants/:tenantId/subscriptions', subscriptionRoutes(deps));
  app.route('/api/cloud-pods/tenants/:tenantId/quota', quotaOverrideRoutes(deps));
  app.route('/api/cloud-pods/tenants', tenantRoutes(deps));
  app.route('/api/cloud-pods/:podId/volumes', volumeRoutes(deps));
  app.route('/api/cloud-pods', podRoutes(deps));
  app.route('/admin', adminRoutes(deps));

  app.onError(errorHandler(deps.logger));
  app.notFound(notFoundHandler);
  return app;
}
