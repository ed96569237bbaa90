import { html } from 'hono/html';
import { page, type Branding } from '../layout.ts';

/** Shown, with status 403, when a signed-in admin lacks a permission or a form's CSRF token is wrong. */
export function forbiddenPage(branding: Branding, csrf: string, message: string) {
  return page({
    title: 'Not allowed', branding, csrf,
    body: html`<h1>Not allowed</h1><div class="notice error" role="alert">${message}</div>
<p><a href="/admin/settings">Back to settings</a></p>`,
  });
}
