/**
 * Session versions observed from the provider (data-chain §3.2): the shipped SHFE history
 * (`DEFAULT_SESSION_VERSIONS`) plus the versions the schedule job appended to `calendar/sessions.json` when the main
 * contract's `trading_time` differed from the version in effect. Append-only: a version starts on the trading day it
 * was observed, and a past day is never given other sessions. Pure: reading and writing the file is the caller's.
 */
import * as z from 'zod';
import { DEFAULT_SESSION_VERSIONS, type SessionVersion, type TradingTime, TradingTimeSchema } from './sessions.ts';
import { VARIETIES, type Variety } from './varieties.ts';

const IsoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');

const VersionSchema = z.object({ effective_from: IsoDay, trading_time: TradingTimeSchema }).strict();

/** `calendar/sessions.json`: the appended versions per variety, each list ascending by `effective_from`. */
export const SessionsFileSchema = z
  .object({
    version: z.literal(1),
    varieties: z.partialRecord(z.enum(VARIETIES), z.array(VersionSchema)),
  })
  .strict()
  .superRefine((file, ctx) => {
    for (const [variety, list] of Object.entries(file.varieties)) {
      for (let i = 1; i < (list ?? []).length; i++) {
        if ((list?.[i - 1]?.effective_from ?? '') >= (list?.[i]?.effective_from ?? '')) {
          ctx.addIssue({
            code: 'custom',
            path: ['varieties', variety, i, 'effective_from'],
            message: 'versions must be strictly ascending by effective_from',
          });
        }
      }
    }
  });
export type SessionsFile = z.infer<typeof SessionsFileSchema>;

export const EMPTY_SESSIONS_FILE: SessionsFile = { version: 1, varieties: {} };

/** The whole history of `variety`: shipped versions, then the appended ones, ascending by `effective_from`. */
export function sessionHistory(variety: Variety, file: SessionsFile = EMPTY_SESSIONS_FILE): SessionVersion[] {
  return [...DEFAULT_SESSION_VERSIONS[variety], ...(file.varieties[variety] ?? [])]
    .map((v) => structuredClone(v))
    .sort((a, b) => (a.effective_from < b.effective_from ? -1 : a.effective_from > b.effective_from ? 1 : 0));
}

/** Equal sessions: the same day and night ranges, whatever their order on the wire. */
export function sameTradingTime(a: TradingTime, b: TradingTime): boolean {
  const key = (t: TradingTime) =>
    JSON.stringify({ day: [...t.day].map(String).sort(), night: [...t.night].map(String).sort() });
  return key(a) === key(b);
}

export type SessionObservation =
  | { change: 'none'; in_effect: SessionVersion }
  /** `file` is the new content: `version` appended to the variety's list. */
  | { change: 'appended'; in_effect: SessionVersion; version: SessionVersion; file: SessionsFile }
  /** A version already starts on or after the observed day: appending would rewrite a day that has sessions. */
  | { change: 'conflict'; in_effect: SessionVersion; observed: SessionVersion; latest_effective_from: string };

/**
 * Compare the provider's `trading_time` observed on `tradingDay` with the version in effect that day: equal → none;
 * different and `tradingDay` after every version's start → a new version from `tradingDay`; different otherwise →
 * conflict (reported, nothing rewritten).
 */
export function observeSessions(
  file: SessionsFile,
  variety: Variety,
  tradingDay: string,
  observed: TradingTime,
): SessionObservation {
  IsoDay.parse(tradingDay);
  const history = sessionHistory(variety, file);
  let inEffect: SessionVersion | undefined;
  for (const v of history) if (v.effective_from <= tradingDay) inEffect = v;
  if (inEffect === undefined) throw new RangeError(`no session version of ${variety} in effect on ${tradingDay}`);
  if (sameTradingTime(inEffect.trading_time, observed)) return { change: 'none', in_effect: inEffect };
  const version: SessionVersion = { effective_from: tradingDay, trading_time: structuredClone(observed) };
  const latest = (history[history.length - 1] as SessionVersion).effective_from;
  if (tradingDay <= latest) {
    return { change: 'conflict', in_effect: inEffect, observed: version, latest_effective_from: latest };
  }
  return {
    change: 'appended',
    in_effect: inEffect,
    version,
    file: {
      version: 1,
      varieties: { ...file.varieties, [variety]: [...(file.varieties[variety] ?? []), version] },
    },
  };
}
