import { html } from 'hono/html';
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
}

export function healthPage(state: HealthPageState) {
  const { branding, csrf, filter, services, events, page: current, lastPage, total, filterQuery, problems } = state;
  const link = (p: number) => `/admin/health?${filterQuery ? `${filterQuery}&` : ''}page=${p}`;
  return page({
    title: 'System health', branding, section: 'health', csrf,
    body: html`<h1>System health</h1>
<section class="card">
  <h2>Recent system events</h2>
  ${problems?.length ? html`<div class="notice error" role="alert">${problems.join('; ')}</div>` : ''}
  <form class="filters" method="get" action="/admin/health">
    <div><label for="service">Service</label><br><select id="service" name="service"><option value="">all</option>
      ${services.map((s) => html`<option ${filter.service === s ? 'selected' : ''}>${s}</option>`)}</select></div>
    <div><label for="level">Level</label><br><select id="level" name="level"><option value="">warn and error</option>
      ${['warn', 'error', 'info'].map((l) => html`<option ${filter.level === l ? 'selected' : ''}>${l}</option>`)}</select></div>
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
