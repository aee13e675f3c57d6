/**
 * The control-chain §1 status payload on the data endpoints (`/api/data/{coverage, schedule, validation/summary,
 * validation/gaps, reports, quality/readiness}`): each answer keeps its own fields (`status` ok/none/error, `data`,
 * `message`) and gains `state` (`ok`, `empty` for "not run yet / nothing stored", `error` for an unreadable record;
 * readiness keeps its worst-layer state), a one-line `text`, `error` (the code, or `""`), `updated_at` and `stale`.
 * The section's error object (`{code, message}`) moves to `error_detail`, since `error` is the code.
 *
 * These answers are read from the stores on every request, so `updated_at` is the read time and `stale` is false.
 * Readiness also carries the quality contract: `reason_code` and `action_hint` of its worst layer, and the layered
 * `engineering_state`, `source_state`, `policy_state` (`unknown` before the first validation) and `overall_state`.
 */
import type { StatusState } from '../../domain/control/status.ts';
import type { ReadinessResponse } from './data-api.ts';
import type { SectionError } from './data-view.ts';

export interface StatusFields {
  state: StatusState;
  text: string;
  error: string;
  updated_at: string;
  stale: boolean;
}

interface SectionLike {
  status: 'ok' | 'none' | 'error';
  message?: string;
  error?: SectionError;
}

export type WithStatus<T extends SectionLike> = Omit<T, 'error'> & StatusFields & { error_detail?: SectionError };

const STATE_OF: Record<SectionLike['status'], StatusState> = { ok: 'ok', none: 'empty', error: 'error' };

/** A section-shaped answer with the §1 fields; `okText` is the line said when it is `ok`. */
export function withSectionStatus<T extends SectionLike>(
  body: T,
  okText: (body: T) => string,
  updatedAt: string,
): WithStatus<T> {
  const { error, ...rest } = body;
  const text =
    body.status === 'ok'
      ? okText(body)
      : body.status === 'none'
        ? (body.message ?? 'nothing stored yet')
        : `unreadable: ${error?.message ?? 'unknown error'}`;
  return {
    ...rest,
    state: STATE_OF[body.status],
    text,
    error: body.status === 'error' ? (error?.code ?? 'error') : '',
    updated_at: updatedAt,
    stale: false,
    ...(error ? { error_detail: error } : {}),
  };
}

/** An answer made of several sections (the reports' steps): error if one is unreadable, empty if none has data. */
export function withSectionsStatus<T extends object>(
  body: T,
  sections: Record<string, SectionLike>,
  okText: string,
  updatedAt: string,
): T & StatusFields {
  const entries = Object.entries(sections);
  const broken = entries.filter(([, s]) => s.status === 'error');
  const filled = entries.filter(([, s]) => s.status === 'ok');
  const state: StatusState = broken.length > 0 ? 'error' : filled.length === 0 ? 'empty' : 'ok';
  const text =
    state === 'error'
      ? `unreadable: ${broken.map(([name, s]) => `${name} (${s.error?.message ?? 'unknown error'})`).join('; ')}`
      : state === 'empty'
        ? 'nothing stored yet'
        : okText;
  const error = state === 'error' ? (broken[0]?.[1].error?.code ?? 'error') : '';
  return { ...body, state, text, error, updated_at: updatedAt, stale: false };
}

export type ReadinessWithStatus = ReadinessResponse &
  Omit<StatusFields, 'state'> & {
    reason_code: string | null;
    action_hint: string | null;
    engineering_state: ReadinessResponse['state'];
    source_state: ReadinessResponse['state'];
    policy_state: ReadinessResponse['state'];
    overall_state: ReadinessResponse['state'];
  };

/** Readiness with the status and quality contracts: the worst layer speaks for the whole. */
export function withReadinessStatus(r: ReadinessResponse, updatedAt: string): ReadinessWithStatus {
  const worst = r.layers.find((l) => l.state === r.state && l.state !== 'ok') ?? null;
  const layer = (name: 'engineering' | 'source' | 'policy') =>
    r.layers.find((l) => l.layer === name)?.state ?? 'unknown';
  return {
    ...r,
    text:
      worst === null
        ? `${r.symbol} ready: every layer ok`
        : `${worst.layer} ${worst.state}${worst.reason_code ? ` (${worst.reason_code})` : ''}${worst.action_hint ? `: ${worst.action_hint}` : ''}`,
    error: r.state === 'error' ? (worst?.reason_code ?? 'error') : '',
    updated_at: updatedAt,
    stale: false,
    reason_code: worst?.reason_code ?? null,
    action_hint: worst?.action_hint ?? null,
    engineering_state: layer('engineering'),
    source_state: layer('source'),
    policy_state: layer('policy'),
    overall_state: r.state,
  };
}
