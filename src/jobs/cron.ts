/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC: `*`, lists `1,15`,
 * ranges `1-5`, steps `*\/10` and `8-18/2`; day-of-week 0-7 with 0 and 7 both Sunday. As in Vixie cron, when both
 * day fields are restricted a day matching either one matches.
 */
export interface CronExpression {
  source: string;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  daysOfWeek: ReadonlySet<number>;
  /** Whether the day fields were `*`, which changes how they combine. */
  anyDayOfMonth: boolean;
  anyDayOfWeek: boolean;
}

const fields = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

export class CronSyntaxError extends Error {
  override name = 'CronSyntaxError';
}

function parseField(text: string, { name, min, max }: (typeof fields)[number]): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new CronSyntaxError(`${name}: cannot read "${part}"`);
    const [, all, from, to, step] = match;
    const start = all === '*' ? min : Number(from);
    const end = all === '*' ? max : to !== undefined ? Number(to) : step !== undefined ? max : start;
    const by = step !== undefined ? Number(step) : 1;
    if (start < min || end > max || start > end) throw new CronSyntaxError(`${name}: ${part} is outside ${min}-${max}`);
    if (by < 1) throw new CronSyntaxError(`${name}: the step must be 1 or more`);
    for (let value = start; value <= end; value += by) values.add(value);
  }
  return values;
}

export function parseCron(source: string): CronExpression {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5) throw new CronSyntaxError(`expected 5 fields (minute hour day month weekday), got ${parts.length}`);
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((part, i) => parseField(part, fields[i]!)) as
    [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (daysOfWeek.delete(7)) daysOfWeek.add(0);
  return { source, minutes, hours, daysOfMonth, months, daysOfWeek,
    anyDayOfMonth: parts[2] === '*', anyDayOfWeek: parts[4] === '*' };
}

function dayMatches(cron: CronExpression, date: Date): boolean {
  const byMonth = cron.daysOfMonth.has(date.getUTCDate());
  const byWeek = cron.daysOfWeek.has(date.getUTCDay());
  if (cron.anyDayOfMonth && cron.anyDayOfWeek) return true;
  if (cron.anyDayOfMonth) return byWeek;
  if (cron.anyDayOfWeek) return byMonth;
  return byMonth || byWeek;
}

/** The first minute strictly after `after` that the expression matches (UTC); throws if none within 5 years. */
export function nextCronTick(cron: CronExpression, after: Date): Date {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  const limit = after.getTime() + 5 * 366 * 86_400_000;
  while (t.getTime() <= limit) {
    if (!cron.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(cron, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!cron.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    } else if (!cron.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    } else {
      return t;
    }
  }
  throw new CronSyntaxError(`"${cron.source}" never matches`);
}

/** How often a schedule fires: a cron expression, or a fixed interval counted from the Unix epoch. */
export type Cadence = { cron: string } | { everyMs: number };

/**
 * The next tick strictly after `after`. Interval ticks are aligned to the epoch, so every replica computes the same
 * ticks without talking to the others, which is what lets the database deduplicate them.
 */
export function nextTick(cadence: Cadence, after: Date, parsed?: CronExpression): Date {
  if ('everyMs' in cadence) {
    if (!(cadence.everyMs >= 1)) throw new CronSyntaxError('an interval must be at least 1 ms');
    return new Date((Math.floor(after.getTime() / cadence.everyMs) + 1) * cadence.everyMs);
  }
  return nextCronTick(parsed ?? parseCron(cadence.cron), after);
}
