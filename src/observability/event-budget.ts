/**
 * How many info-level events one process stores per minute (`cloudpods.events.info_per_minute`), so a component
 * that repeats an event in a loop cannot flood system_events. Minutes are aligned to the epoch; warn and error
 * lines do not count and are never refused. Pure: the caller says when each event happened and what the limit is.
 */
export type BudgetDecision =
  | { keep: true }
  /** `first`: the first event refused in its minute, the one moment the caller reports that more are being dropped. */
  | { keep: false; first: boolean };

export class PerMinuteBudget {
  #minute = -Infinity;
  #kept = 0;
  #refused = 0;

  take(atMs: number, limit: number): BudgetDecision {
    const minute = Math.floor(atMs / 60_000);
    // A line stamped a moment before the current minute (logged concurrently) counts against the current one.
    if (minute > this.#minute) {
      this.#minute = minute;
      this.#kept = 0;
      this.#refused = 0;
    }
    if (this.#kept < limit) {
      this.#kept++;
      return { keep: true };
    }
    this.#refused++;
    return { keep: false, first: this.#refused === 1 };
  }
}
