import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export interface Branding {
  brandName: string;
  primaryColor: string;
  timezone: string;
  supportEmail: string;
}

type Markup = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface PageOptions {
  title: string;
  branding: Branding;
  /** Which navigation entry is current; none on the login page. */
  section?: 'dashboard' | 'settings' | 'health';
  /** The CSRF token for the logout form; absent when signed out. */
  csrf?: string;
  body: Markup;
}

/** Formats a time in the platform's time zone, as admins read it. */
export function formatTime(value: Date | string | null, timezone: string): string {
  if (!value) return '';
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone, year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit',
    second: '2-digit', timeZoneName: 'short',
  }).format(new Date(value));
}

const styles = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2937;background:#f6f7f9}
header{background:var(--brand);color:#fff;padding:0 24px;display:flex;align-items:center;gap:24px;height:56px}
header .brand{font-weight:650;font-size:18px}header nav a{color:#fff;opacity:.8;text-decoration:none;margin-right:16px}
header nav a.current{opacity:1;border-bottom:2px solid #fff;padding-bottom:4px}header form{margin-left:auto}
header button{background:transparent;border:1px solid rgba(255,255,255,.6);color:#fff;border-radius:6px;padding:4px 10px;cursor:pointer}
main{max-width:1100px;margin:24px auto;padding:0 24px}h1{font-size:22px;margin:0 0 16px}
section.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:16px 20px;margin-bottom:20px}
section.card h2{font-size:16px;margin:0 0 12px}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:8px 6px;border-bottom:1px solid #f0f1f3;vertical-align:top}
th{font-size:12px;text-transform:uppercase;color:#6b7280;font-weight:600}
.muted{color:#6b7280;font-size:13px}.name{font-family:ui-monospace,monospace;font-size:13px}
input[type=text],input[type=number],input[type=password],select{width:100%;padding:6px 8px;border:1px solid #cbd5e1;border-radius:6px;font:inherit}
input[aria-invalid=true]{border-color:#dc2626;background:#fef2f2}
button.primary{background:var(--brand);color:#fff;border:0;border-radius:6px;padding:8px 16px;font:inherit;cursor:pointer}
.notice{padding:10px 14px;border-radius:8px;margin-bottom:16px}.notice.ok{background:#ecfdf5;color:#065f46;border:1px solid #a7f3d0}
.notice.error{background:#fef2f2;color:#991b1b;border:1px solid #fecaca}.field-error{color:#b91c1c;font-size:13px;margin-top:4px}
.level-error{color:#b91c1c;font-weight:600}.level-warn{color:#b45309;font-weight:600}
form.filters{display:flex;gap:8px;align-items:end;flex-wrap:wrap}form.filters label{font-size:12px;color:#6b7280}
form.filters input,form.filters select{width:auto}.pager{margin-top:12px;display:flex;gap:12px}
footer{max-width:1100px;margin:0 auto 24px;padding:0 24px}
`;

/** The shared shell of every admin page, branded from `platform.*` settings. */
export function page({ title, branding, section, csrf, body }: PageOptions): Markup {
  // The colour is validated as #rrggbb by its setting; it is still escaped like everything else.
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · ${branding.brandName}</title>
<style>:root{--brand:${branding.primaryColor}}${raw(styles)}</style>
</head>
<body>
<header>
  <span class="brand" data-testid="brand">${branding.brandName}</span>
  ${csrf ? html`<nav>
    <a href="/admin/dashboard" class="${section === 'dashboard' ? 'current' : ''}">Dashboard</a>
    <a href="/admin/settings" class="${section === 'settings' ? 'current' : ''}">Settings</a>
    <a href="/admin/health" class="${section === 'health' ? 'current' : ''}">System health</a>
  </nav>
  <form method="post" action="/admin/logout"><input type="hidden" name="csrf" value="${csrf}"><button>Sign out</button></form>`
    : ''}
</header>
<main>${body}</main>
${branding.supportEmail ? html`<footer class="muted">Help: <a href="mailto:${branding.supportEmail}">${branding.supportEmail}</a></footer>` : ''}
</body>
</html>`;
}
