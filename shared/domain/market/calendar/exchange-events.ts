/**
 * Exchange events: one-off changes to a session that the holiday list cannot express (a delayed night open, a
 * suspended night session). Applied by `sessionWindows` (data-chain §3.3 step 3).
 */
import * as z from 'zod';
import { VarietySchema } from '../../control/varieties.ts';
import { isIsoDay } from './days.ts';

export const IsoDaySchema = z.string().refine(isIsoDay, { message: 'expected an ISO date YYYY-MM-DD' });

/** `HH:MM:SS`; hours up to 47 so a night time past midnight can be written `25:30:00`, as in `trading_time`. */
export const SessionClockSchema = z
  .string()
  .regex(/^([0-3]\d|4[0-7]):[0-5]\d:[0-5]\d$/, 'expected HH:MM:SS (hours 00-47)');

const ExchangeEventObjectSchema = z
  .strictObject({
    id: z.string().min(1),
    exchange: z.literal('SHFE'),
    variety: VarietySchema.optional(),
    session: z.enum(['day', 'night']),
    kind: z.enum(['skip', 'shift_start', 'shift_end']),
    time: SessionClockSchema.optional(),
    start_day: IsoDaySchema,
    end_day: IsoDaySchema,
  })
  .superRefine((e, ctx) => {
    if (e.kind !== 'skip' && e.time === undefined) {
      ctx.addIssue({ code: 'custom', path: ['time'], message: `a ${e.kind} event needs time HH:MM:SS` });
    }
    if (e.kind === 'skip' && e.time !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['time'], message: 'a skip event takes no time' });
    }
    if (e.start_day > e.end_day) {
      ctx.addIssue({
        code: 'custom',
        path: ['end_day'],
        message: `end_day ${e.end_day} is before start_day ${e.start_day}`,
      });
    }
  });

/**
 * One exchange event. `trading_day: D` is accepted as shorthand for `start_day = end_day = D`. Applies to trading days
 * `start_day ≤ D ≤ end_day`, to every variety unless `variety` is named.
 */
export const ExchangeEventSchema = z.preprocess((v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const { trading_day, ...rest } = v as Record<string, unknown>;
  if (trading_day === undefined || 'start_day' in rest || 'end_day' in rest) return v;
  return { ...rest, start_day: trading_day, end_day: trading_day };
}, ExchangeEventObjectSchema);

export interface ExchangeEvent {
  id: string;
  exchange: 'SHFE';
  variety?: z.infer<typeof VarietySchema>;
  session: 'day' | 'night';
  kind: 'skip' | 'shift_start' | 'shift_end';
  /** `HH:MM:SS` for shifts, anchored like the session's own times (night: on the previous trading day). */
  time?: string;
  start_day: string;
  end_day: string;
}

/**
 * Built-in SHFE events (data-chain §3.3).
 * - 2019-12-25 evening: SHFE opened the night session at 22:30 instead of 21:00 (trading day 2019-12-26).
 * - COVID-19: SHFE suspended night sessions from the reopening after the 2020 Spring Festival (trading day
 *   2020-02-03) until they resumed on the evening of 2020-05-06 (trading day 2020-05-07).
 */
export const BUILTIN_EXCHANGE_EVENTS: readonly ExchangeEvent[] = Object.freeze([
  {
    id: 'shfe_2019_12_25_delay_open',
    exchange: 'SHFE',
    session: 'night',
    kind: 'shift_start',
    time: '22:30:00',
    start_day: '2019-12-26',
    end_day: '2019-12-26',
  },
  {
    id: 'shfe_covid_night_suspend',
    exchange: 'SHFE',
    session: 'night',
    kind: 'skip',
    start_day: '2020-02-03',
    end_day: '2020-05-06',
  },
] satisfies ExchangeEvent[]);
