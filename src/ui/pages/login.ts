import { html } from 'hono/html';
import { page, type Branding } from '../layout.ts';

const reasons: Record<string, string> = {
  expired: 'Your token has expired. Sign in with a current one.',
  revoked: 'Your token has been revoked.',
  unknown: 'That token is not known.',
  malformed: 'That is not a CloudPods token: it starts with cpk_.',
  'not-admin': 'The admin pages need a token with admin scope.',
  'signed-out': 'You are signed out.',
};

export function loginPage(branding: Branding, reason?: string) {
  const message = reason ? reasons[reason] : undefined;
  return page({
    title: 'Sign in', branding,
    body: html`<section class="card" style="max-width:460px;margin:40px auto">
  <h1>Sign in to ${branding.brandName}</h1>
  ${message ? html`<div class="notice ${reason === 'signed-out' ? 'ok' : 'error'}" role="alert">${message}</div>` : ''}
  <form method="post" action="/admin/login">
    <label for="token">Admin API token</label>
    <input id="token" name="token" type="password" autocomplete="off" placeholder="cpk_…" required>
    <p class="muted">Create one with <code>cloudpods token create --admin --permissions settings.manage,health.view</code>.</p>
    <button class="primary" type="submit">Sign in</button>
  </form>
</section>`,
  });
}
