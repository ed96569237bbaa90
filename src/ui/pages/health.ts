import { html } from 'hono/html';
import type { QueueOverview } from '../../jobs/admin.ts';
import type { SystemEvent, SystemEventFilter } from '../../observability/events-query.ts';
import { formatTime, page, type Branding } from '../layout.ts';

export interface HealthPageState {
  branding: Branding;
  csrf: string;
  filter: SystemEventFilter;
  services: string[];
  events: SystemEvent[];
  page: number;
  lastPage: number;
  total: number;
  /** Query string of the current filter, for the pager links. */
  filterQuery: string;
  problems?: string[];
  queues: QueueOverview;
}

const statuses = ['pending', 'running', 'completed', 'failed', 'dead'] as const;

function age(seconds: number | null): string {
  if (seconds === null) return '';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function queuesSection({ queues, workers }: QueueOverview, timezone: string) {
  return html`<section class="card" id="queues">
  <h2>Job queues</h2>
  <table>
    <thead><tr><th>Queue</th>${statuses.map((s) => html`<th>${s}</th>`)}<th>Oldest pending</th><th>Done / failed last min</th></tr></thead>
    <tbody>
    ${queues.length === 0 ? html`<tr><td colspan="8" class="muted">No jobs yet.</td></tr>` : ''}
    ${queues.map((q) => html`<tr data-queue="${q.queue}"><td class="name">${q.queue}</td>
      ${statuses.map((s) => html`<td class="${(s === 'dead' || s === 'failed') && q.depth[s] > 0 ? 'level-error' : ''}">${q.depth[s]}</td>`)}
      <td>${age(q.oldest_pending_age_seconds)}</td><td>${q.completed_last_minute} / ${q.failed_last_minute}</td></tr>`)}
    </tbody>
  </table>
  <h2 style="margin-top:16px">Workers</h2>
  <table>
    <thead><tr><th>Worker</th><th>Queue</th><th>Status</th><th>Concurrency</th><th>Last heartbeat</th></tr></thead>
    <tbody>
    ${workers.length === 0 ? html`<tr><td colspan="5" class="muted">No workers.</td></tr>` : ''}
    ${workers.map((w) => html`<tr><td class="name">${w.name}</td><td>${w.queue}</td>
      <td class="${w.status === 'online' ? '' : 'level-warn'}">${w.status}</td><td>${w.concurrency}</td>
      <td class="muted">${formatTime(w.last_heartbeat_at, timezone)}</td></tr>`)}
    </tbody>
  </table>
</section>`;
}

export function healthPage(state: HealthPageState) {
  const { branding, csrf, filter, services, events, page: current, lastPage, total, filterQuery, problems, queues } = state;
  const link = (p: number) => `/admin/health?${filterQuery ? `${filterQuery}&` : ''}page=${p}`;
  return page({
    title: 'System health', branding, section: 'health', csrf,
    body: html`<h1>System health</h1>
${queuesSection(queues, branding.timezone)}
<section class="card">
  <h2>Recent system events</h2>
  ${problems?.length ? html`<div class="notice error" role="alert">${problems.join('; ')}</div>` : ''}
  <form class="filters" method="get" action="/admin/health">
    <div><label for="service">Service</label><br><select id="service" name="service"><option value="">all</option>
      ${services.map((s) => html`<option ${filter.service === s ? 'selected' : ''}>${s}</option>`)}</select></div>
    <div><label for="level">Level</label><br><select id="level" name="level"><option value="">all</option>
      ${['error', 'warn', 'info'].map((l) => html`<option ${filter.level === l ? 'selected' : ''}>${l}</option>`)}</select></div>
    <div><label for="q">Message contains</label><br><input id="q" name="q" type="text" value="${filter.q ?? ''}"></div>
    <div><button class="primary" type="submit">Filter</button></div>
  </form>
  <p class="muted">${total} event${total === 1 ? '' : 's'}</p>
  <table>
    <thead><tr><th style="width:190px">Time</th><th style="width:110px">Service</th><th style="width:70px">Level</th><th>Message</th></tr></thead>
    <tbody>
    ${events.length === 0 ? html`<tr><td colspan="4" class="muted">No events match.</td></tr>` : ''}
    ${events.map((e) => html`<tr>
      <td class="muted">${formatTime(e.created_at, branding.timezone)}</td><td>${e.service}</td>
      <td class="level-${e.level}">${e.level}</td>
      <td>${e.message}${Object.keys(e.context).length ? html`<div class="muted name">${JSON.stringify(e.context)}</div>` : ''}</td>
    </tr>`)}
    </tbody>
  </table>
  <div class="pager">
    ${current > 1 ? html`<a href="${link(current - 1)}">← newer</a>` : ''}
    <span class="muted">page ${current} of ${lastPage}</span>
    ${current < lastPage ? html`<a href="${link(current + 1)}">older →</a>` : ''}
  </div>
</section>`,
  });
}
