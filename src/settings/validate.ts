import type { SettingDefinition } from './registry.ts';

export type Validation = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Checks a value against its definition: a pure function shared by the API, the admin pages and the service.
 * Values arrive typed (JSON) from the API; `coerceFormValue` first turns form text into that type.
 */
export function validateSettingValue(definition: SettingDefinition, value: unknown): Validation {
  switch (definition.type) {
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false, message: 'expected true or false' };
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return { ok: false, message: 'expected a number' };
      if (definition.integer && !Number.isInteger(value)) return { ok: false, message: 'expected a whole number' };
      if (value < definition.min || value > definition.max) {
        return { ok: false, message: `expected a number from ${definition.min} to ${definition.max}` };
      }
      return { ok: true, value };
    }
    case 'string': {
      if (typeof value !== 'string') return { ok: false, message: 'expected a string' };
      if (value.length > definition.maxLength) {
        return { ok: false, message: `expected at most ${definition.maxLength} characters` };
      }
      if (definition.allowed && !definition.allowed.includes(value)) {
        return { ok: false, message: `expected one of ${definition.allowed.join(', ')}` };
      }
      if (definition.pattern && !definition.pattern.regex.test(value)) {
        return { ok: false, message: definition.pattern.meaning };
      }
      const problem = definition.check?.(value);
      return problem ? { ok: false, message: problem } : { ok: true, value };
    }
    case 'json': {
      if (value === undefined) return { ok: false, message: 'expected a JSON value' };
      const problem = definition.check?.(value);
      return problem ? { ok: false, message: problem } : { ok: true, value };
    }
  }
}

/** Turns the text of an HTML form field into the setting's type, so the form follows the API's validation. */
export function coerceFormValue(definition: SettingDefinition, text: string): Validation {
  switch (definition.type) {
    case 'boolean':
      if (text === 'true' || text === 'false') return validateSettingValue(definition, text === 'true');
      return { ok: false, message: 'expected true or false' };
    case 'number': {
      const trimmed = text.trim();
      if (trimmed === '' || !/^-?\d+(\.\d+)?$/.test(trimmed)) return { ok: false, message: 'expected a number' };
      return validateSettingValue(definition, Number(trimmed));
    }
    case 'string':
      return validateSettingValue(definition, text);
    case 'json':
      try {
        return validateSettingValue(definition, JSON.parse(text));
      } catch {
        return { ok: false, message: 'expected valid JSON' };
      }
  }
}

/** What the audit and the pages show of a value: secrets never leave masked. */
export function displayValue(definition: SettingDefinition, value: unknown): unknown {
  return definition.secret ? '[secret]' : value;
}
