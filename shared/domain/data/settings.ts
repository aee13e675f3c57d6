/**
 * Data-chain settings (data-chain §0): `GHTRADER_*` keys where `<KEY>_<VAR>` (e.g. `_CU`) wins over `<KEY>`, every
 * value reporting the source that won (`env:KEY`, `config:KEY`, `default`) so reports can say why a limit applied.
 * Values are parsed strictly: a malformed value is an error naming the key, never a silent default. Clamps follow the
 * spec tables and are applied after parsing. Pure: the caller passes the environment (and, once the config service
 * lands, the managed config layer).
 */

import { DataChainError } from '../../errors/data.ts';
import { canonicalJson, sha256Hex } from '../control/canonical-json.ts';

export class DataSettingError extends DataChainError {
  constructor(key: string, raw: string, expected: string) {
    super('invalid_setting', `invalid setting ${key}=${JSON.stringify(raw)}: expected ${expected}`, {
      details: { key, raw, expected },
    });
  }
}

export type SettingSource = `env:${string}` | `config:${string}` | 'default';

export interface Resolved<T> {
  readonly value: T;
  readonly source: SettingSource;
}

/** Where settings come from, strongest first: the managed config layer (issue 7), then the environment. */
export interface SettingLayers {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The snapshot of the config revision a job pinned at its start (control-chain §5.4). */
  readonly config?: Readonly<Record<string, string | undefined>>;
  /** That revision's number: sources then read `config:<KEY>@<rev>`. */
  readonly configRevision?: number;
}

/** A snapshot of every resolved value of one run, for reports (`config_snapshot` + `config_hash`). */
export class SettingsSnapshot {
  private readonly values = new Map<string, Resolved<unknown>>();

  record<T>(name: string, r: Resolved<T>): T {
    this.values.set(name, r);
    return r.value;
  }

  toJSON(): Record<string, { value: unknown; source: SettingSource }> {
    const out: Record<string, { value: unknown; source: SettingSource }> = {};
    for (const [k, v] of [...this.values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      out[k] = { value: v.value, source: v.source };
    }
    return out;
  }

  /** 16 hex of SHA-256 over the canonical JSON of `{name: value}` (sources excluded: same values, same hash). */
  hash(): string {
    const plain: Record<string, unknown> = {};
    for (const [k, v] of this.values) plain[k] = v.value;
    return sha256Hex(canonicalJson(plain), 16);
  }
}

function lookup(
  layers: SettingLayers,
  keys: readonly string[],
): { key: string; raw: string; source: SettingSource } | null {
  for (const key of keys) {
    const c = layers.config?.[key];
    if (c !== undefined && c.trim() !== '') {
      const at = layers.configRevision === undefined ? '' : `@${layers.configRevision}`;
      return { key, raw: c.trim(), source: `config:${key}${at}` };
    }
    const e = layers.env[key];
    if (e !== undefined && e.trim() !== '') return { key, raw: e.trim(), source: `env:${key}` };
  }
  return null;
}

/** Candidate keys, strongest first: `<KEY>_<VAR>` then `<KEY>`, then any legacy fallbacks in order. */
export function settingKeys(key: string, variety?: string, fallbacks: readonly string[] = []): string[] {
  const keys: string[] = [];
  if (variety) keys.push(`${key}_${variety.toUpperCase()}`);
  keys.push(key);
  for (const f of fallbacks) {
    if (variety) keys.push(`${f}_${variety.toUpperCase()}`);
    keys.push(f);
  }
  return keys;
}

export interface NumberSetting {
  readonly key: string;
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  /** Keys tried after `key` (e.g. `GHTRADER_PIPELINE_ENFORCE_HEALTH` behind a step's own key). */
  readonly fallbacks?: readonly string[];
}

export function resolveNumber(layers: SettingLayers, s: NumberSetting, variety?: string): Resolved<number> {
  const hit = lookup(layers, settingKeys(s.key, variety, s.fallbacks));
  if (!hit) return { value: clampNum(s.default, s), source: 'default' };
  const n = Number(hit.raw);
  if (!Number.isFinite(n) || (s.integer && !Number.isInteger(n))) {
    throw new DataSettingError(hit.key, hit.raw, s.integer ? 'an integer' : 'a number');
  }
  return { value: clampNum(n, s), source: hit.source };
}

function clampNum(n: number, s: NumberSetting): number {
  let v = n;
  if (s.min !== undefined && v < s.min) v = s.min;
  if (s.max !== undefined && v > s.max) v = s.max;
  return v;
}

export function resolveBoolean(
  layers: SettingLayers,
  s: { key: string; default: boolean; fallbacks?: readonly string[] },
  variety?: string,
): Resolved<boolean> {
  const hit = lookup(layers, settingKeys(s.key, variety, s.fallbacks));
  if (!hit) return { value: s.default, source: 'default' };
  const v = hit.raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return { value: true, source: hit.source };
  if (['0', 'false', 'no', 'off'].includes(v)) return { value: false, source: hit.source };
  throw new DataSettingError(hit.key, hit.raw, 'true or false');
}

/** An ISO date setting (`YYYY-MM-DD`, a real calendar date); `null` when unset and there is no default. */
export function resolveDate(
  layers: SettingLayers,
  s: { key: string; fallbacks?: readonly string[] },
  variety?: string,
): Resolved<string> | null {
  const hit = lookup(layers, settingKeys(s.key, variety, s.fallbacks));
  if (!hit) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(hit.raw);
  const t = Date.parse(`${hit.raw}T00:00:00Z`);
  const ok = m !== null && Number.isFinite(t) && new Date(t).toISOString().startsWith(hit.raw);
  if (!ok) throw new DataSettingError(hit.key, hit.raw, 'a date YYYY-MM-DD');
  return { value: hit.raw, source: hit.source };
}
