/**
 * The operator's calendar overrides (`calendar/overrides.json` in the ArtifactStore; locally
 * `$GHTRADER_HOME/artifacts/calendar/overrides.json`). Pure: the caller reads the file and passes the parsed JSON.
 */
import * as z from 'zod';
import { CalendarDataError } from '../../../errors/market.ts';
import { type ExchangeEvent, ExchangeEventSchema, IsoDaySchema } from './exchange-events.ts';

export const CalendarOverridesSchema = z.strictObject({
  add_holidays: z.array(IsoDaySchema).optional(),
  remove_holidays: z.array(IsoDaySchema).optional(),
  exchange_events: z.array(ExchangeEventSchema).optional(),
  /**
   * Extends the calendar's coverage to this date: the operator vouches that `add_holidays` lists every weekday
   * closure up to it. Without it, overrides never extend coverage (a date beyond it stays an error).
   */
  covers_to: IsoDaySchema.optional(),
});

export interface CalendarOverrides {
  add_holidays?: string[];
  remove_holidays?: string[];
  /** Added to the built-ins; an event with a built-in's `id` replaces that built-in. */
  exchange_events?: ExchangeEvent[];
  covers_to?: string;
}

/** Validate parsed `overrides.json`; throws `CalendarDataError` naming the first offending path. */
export function parseCalendarOverrides(json: unknown): CalendarOverrides {
  const r = CalendarOverridesSchema.safeParse(json);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : '';
  throw new CalendarDataError('calendar overrides', `${issue?.message ?? 'does not match the schema'}${where}`, {
    details: { issues: r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
  });
}
