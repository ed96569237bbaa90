import { html, raw } from 'hono/html';
import type { EffectiveSetting } from '../../settings/service.ts';
import { formatTime, page, type Branding } from '../layout.ts';

export interface SettingsPageState {
  branding: Branding;
  csrf: string;
  groups: Array<{ namespace: string; settings: EffectiveSetting[] }>;
  canEdit: boolean;
  /** Namespace just saved, for the success message. */
  saved?: string;
  /** Per setting name: the rejected text and why, re-shown after a failed save. */
  errors?: Map<string, { text: string; message: string }>;
  errorNamespace?: string;
}

function input(setting: EffectiveSetting, disabled: boolean, rejected?: { text: string; first?: boolean }) {
  const id = `s-${setting.name}`;
  // The first rejected field takes the focus, so the browser scrolls to what needs fixing.
  const invalid = rejected ? 'true' : 'false';
  const focus = rejected?.first ? raw('autofocus') : '';
  const current = rejected ? rejected.text : String(setting.value);
  if (setting.type === 'boolean') {
    return html`<select id="${id}" name="${setting.key}" aria-invalid="${invalid}" ${focus} ${disabled ? 'disabled' : ''}>
      <option value="true" ${current === 'true' ? 'selected' : ''}>true</option>
      <option value="false" ${current === 'false' ? 'selected' : ''}>false</option></select>`;
  }
  const c = setting.constraints as { min?: number; max?: number; max_length?: number };
  if (setting.type === 'number') {
    // type=text, not number: the browser must not block a bad value, so the server's message is what people see.
    return html`<input id="${id}" name="${setting.key}" type="text" inputmode="numeric" value="${current}"
      aria-invalid="${invalid}" ${focus} ${disabled ? 'disabled' : ''} title="${c.min} to ${c.max}">`;
  }
  const text = setting.type === 'json' ? JSON.stringify(setting.value) : current;
  return html`<input id="${id}" name="${setting.key}" type="text" value="${rejected ? rejected.text : text}"
    aria-invalid="${invalid}" ${focus} ${disabled ? 'disabled' : ''}>`;
}

function describeDefault(setting: EffectiveSetting): string {
  const unit = (setting.constraints as { unit?: string }).unit;
  const value = setting.type === 'json' ? JSON.stringify(setting.default) : String(setting.default);
  return `default ${value === '' ? '(empty)' : value}${unit ? ` ${unit}` : ''}`;
}

export function settingsPage(state: SettingsPageState) {
  const { branding, csrf, groups, canEdit, saved, errors, errorNamespace } = state;
  return page({
    title: 'Settings', branding, section: 'settings', csrf,
    body: html`<h1>System settings</h1>
${saved ? html`<div class="notice ok" role="status">Saved ${saved} settings.</div>` : ''}
${errors && errors.size > 0 ? html`<div class="notice error" role="alert">Nothing was saved: ${errors.size === 1 ? 'one value is' : `${errors.size} values are`} not valid.</div>` : ''}
${canEdit ? '' : html`<div class="notice error">Your token can read settings but not change them (it lacks settings.manage).</div>`}
${groups.map(({ namespace, settings }) => html`<section class="card" id="ns-${namespace}">
  <h2>${namespace}</h2>
  <form method="post" action="/admin/settings/${namespace}">
    <input type="hidden" name="csrf" value="${csrf}">
    <table>
      <thead><tr><th style="width:34%">Setting</th><th style="width:30%">Value</th><th>Last change</th></tr></thead>
      <tbody>
      ${settings.map((s) => {
        const error = namespace === errorNamespace ? errors?.get(s.name) : undefined;
        const rejected = error && { ...error, first: s.name === errors?.keys().next().value };
        return html`<tr>
        <td><label for="s-${s.name}" class="name">${s.key}</label><div class="muted">${s.description}</div></td>
        <td>${input(s, !canEdit, rejected)}
          ${rejected ? html`<div class="field-error" data-testid="error-${s.name}">${rejected.message}</div>` : ''}
          <div class="muted">${describeDefault(s)}</div></td>
        <td class="muted">${s.is_default ? 'default' : html`${s.updated_by ?? ''}<br>${formatTime(s.updated_at, branding.timezone)}`}</td>
      </tr>`;
      })}
      </tbody>
    </table>
    ${canEdit ? html`<p><button class="primary" type="submit">Save ${namespace}</button></p>` : ''}
  </form>
</section>`)}`,
  });
}
