import { html } from 'hono/html';
import type { Overview } from '../../dashboard/overview.ts';
import { formatTime, page, type Branding } from '../layout.ts';

/** Bars for pods created and destroyed per day: inline SVG, no script, readable without colour (labels). */
function createdVsDestroyed(days: Overview['podsCreatedVsDestroyed7d'], color: string) {
  const max = Math.max(1, ...days.flatMap((d) => [d.created, d.destroyed]));
  const width = 560;
  const height = 160;
  const slot = width / days.length;
  const bar = (value: number) => Math.round((value / max) * (height - 30));
  return html`<svg role="img" aria-label="Pods created and destroyed per day, last 7 days" viewBox="0 0 ${width} ${height + 20}" width="100%" style="max-width:${width}px">
  ${days.map((d, i) => html`
    <rect x="${i * slot + 8}" y="${height - bar(d.created)}" width="${slot / 2 - 10}" height="${bar(d.created)}" fill="${color}"><title>${d.day}: ${d.created} created</title></rect>
    <rect x="${i * slot + slot / 2}" y="${height - bar(d.destroyed)}" width="${slot / 2 - 10}" height="${bar(d.destroyed)}" fill="#9ca3af"><title>${d.day}: ${d.destroyed} destroyed</title></rect>
    <text x="${i * slot + slot / 2}" y="${height - Math.max(bar(d.created), bar(d.destroyed)) - 4}" font-size="11" text-anchor="middle">${d.created}/${d.destroyed}</text>
    <text x="${i * slot + slot / 2}" y="${height + 14}" font-size="11" text-anchor="middle" fill="#6b7280">${d.day.slice(5)}</text>`)}
</svg>
<p class="muted"><span style="color:${color}">■</span> created &nbsp; <span style="color:#9ca3af">■</span> destroyed</p>`;
}

const card = (label: string, value: number | string, testid: string) =>
  html`<div class="stat"><div class="muted">${label}</div><div class="value" data-testid="${testid}">${value}</div></div>`;

export function dashboardPage(branding: Branding, csrf: string, overview: Overview) {
  const { totals, resources, health } = overview;
  const pct = (used: number, allocated: number) => (allocated ? `${Math.round((used / allocated) * 100)}%` : '–');
  return page({
    title: 'Dashboard', branding, section: 'dashboard', csrf,
    body: html`<h1>CloudPods overview</h1>
<style>.stats{display:grid;grid-template-columns:repeat(4,1fr);gap:16px;margin-bottom:20px}.stat{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:14px 18px}.stat .value{font-size:28px;font-weight:650}</style>
<div class="stats">
  ${card('Pods', totals.pods.total, 'pods')}
  ${card('Tenants', totals.tenants, 'tenants')}
  ${card('Unhealthy pods', health.unhealthyPods, 'unhealthy')}
  ${card('Auto-heal, last 24 h', health.autoHealTriggeredLast24h, 'autoheal')}
</div>
<section class="card">
  <h2>Pods by phase</h2>
  <p data-testid="phases">${totals.pods.active} active · ${totals.pods.stopped} stopped · ${totals.pods.provisioning} provisioning ·
    ${totals.pods.error} in error · ${totals.pods.deleting} deleting</p>
  <table>
    <thead><tr><th>Resource</th><th>Allocated</th><th>Held by running pods</th><th></th></tr></thead>
    <tbody>
      <tr><td>CPU cores</td><td>${resources.cpuCores.allocated}</td><td>${resources.cpuCores.usedApprox}</td><td>${pct(resources.cpuCores.usedApprox, resources.cpuCores.allocated)}</td></tr>
      <tr><td>Memory (MB)</td><td>${resources.memoryMb.allocated}</td><td>${resources.memoryMb.usedApprox}</td><td>${pct(resources.memoryMb.usedApprox, resources.memoryMb.allocated)}</td></tr>
      <tr><td>Disk (GB)</td><td>${resources.diskGb.allocated}</td><td>${resources.diskGb.usedApprox}</td><td>${pct(resources.diskGb.usedApprox, resources.diskGb.allocated)}</td></tr>
    </tbody>
  </table>
</section>
<section class="card"><h2>Pods created vs destroyed, last 7 days</h2>${createdVsDestroyed(overview.podsCreatedVsDestroyed7d, branding.primaryColor)}</section>
<section class="card" id="top-tenants">
  <h2>Top tenants by usage</h2>
  <table><thead><tr><th>Tenant</th><th>Pods</th><th>CPU cores</th><th>Memory (MB)</th></tr></thead><tbody>
  ${overview.topTenantsByUsage.length === 0 ? html`<tr><td colspan="4" class="muted">No pods yet.</td></tr>` : ''}
  ${overview.topTenantsByUsage.map((t) => html`<tr><td>${t.name}</td><td>${t.pods}</td><td>${t.cpuCores}</td><td>${t.memoryMb}</td></tr>`)}
  </tbody></table>
</section>
<section class="card" id="recent-events">
  <h2>Recent events</h2>
  <table><thead><tr><th style="width:190px">Time</th><th>Category</th><th>Action</th><th>By</th></tr></thead><tbody>
  ${overview.recentEvents.length === 0 ? html`<tr><td colspan="4" class="muted">Nothing yet.</td></tr>` : ''}
  ${overview.recentEvents.map((e) => html`<tr><td class="muted">${formatTime(e.created_at, branding.timezone)}</td><td>${e.category}</td><td class="name">${e.action}</td><td class="muted">${e.actor}</td></tr>`)}
  </tbody></table>
</section>`,
  });
}
