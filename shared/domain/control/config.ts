/**
 * Config Service domain (control-chain §5.1, §5.2, §5.4): append-only revisions, the all-or-nothing write plan with
 * the store-boundary key classification, rollback as a new revision, `config_hash`, and the resolver's precedence
 * (CLI flag > config revision > env > default). Pure: the DynamoDB adapter and the service do the I/O.
 */
import * as z from 'zod';
import { ConfigKeyNotWritableError, ValidationFailedError, type ValidationIssue } from '../../errors/control.ts';
import { canonicalJson, sha256Hex } from './canonical-json.ts';
import {
  CONFIG_REGISTRY,
  type ConfigKeyDef,
  type ConfigValue,
  classifyConfigKey,
  expectedOf,
  isDeployEnvKey,
  parseConfigValue,
  scopedCandidates,
  typedValue,
} from './config-registry.ts';

export const CONFIG_ACTIONS = ['baseline', 'set', 'rollback', 'import_env', 'prune'] as const;
export type ConfigAction = (typeof CONFIG_ACTIONS)[number];

const ActorSchema = z.object({ type: z.enum(['user', 'token', 'cli', 'system']), id: z.string(), name: z.string() });

export const ConfigChangeSchema = z.object({
  key: z.string(),
  before: z.string().nullable(),
  after: z.string().nullable(),
});
export type ConfigChange = z.infer<typeof ConfigChangeSchema>;

/** One revision item (Config table, partition `config`, numeric sort key `revision`). */
export const ConfigRevisionSchema = z.object({
  revision: z.number().int().min(1),
  created_at: z.string(),
  actor: ActorSchema,
  role: z.string(),
  reason: z.string(),
  action: z.enum(CONFIG_ACTIONS),
  snapshot: z.record(z.string(), z.string()),
  changed_keys: z.array(z.string()),
  changes: z.array(ConfigChangeSchema),
  config_hash: z.string().regex(/^[0-9a-f]{16}$/),
  rollback_to: z.number().int().min(1).optional(),
});
export type ConfigRevision = z.infer<typeof ConfigRevisionSchema>;

export type Snapshot = Readonly<Record<string, string>>;

/** First 16 hex of SHA-256 over the snapshot as canonical JSON (sorted keys, `,`/`:` separators, UTF-8). */
export function configHash(snapshot: Snapshot): string {
  return sha256Hex(canonicalJson(snapshot), 16);
}

/** Per-key differences from `a` to `b`, sorted by key. */
export function diffSnapshots(a: Snapshot, b: Snapshot): ConfigChange[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: ConfigChange[] = [];
  for (const key of keys) {
    const before = a[key] ?? null;
    const after = b[key] ?? null;
    if (before !== after) out.push({ key, before, after });
  }
  return out;
}

/** Revision 1: `system`, `baseline`, empty snapshot. */
export function baselineRevision(createdAt: string): ConfigRevision {
  return {
    revision: 1,
    created_at: createdAt,
    actor: { type: 'system', id: 'system', name: 'system' },
    role: 'system',
    reason: 'baseline',
    action: 'baseline',
    snapshot: {},
    changed_keys: [],
    changes: [],
    config_hash: configHash({}),
  };
}

/**
 * Validate a batch of key -> value (`null` removes the key) against the store-boundary rules, all or nothing:
 * env-only keys, then unmanaged keys, throw `ConfigKeyNotWritableError` for the first such key (sorted); bad values
 * and broken relations throw one `ValidationFailedError` with one issue per key. Returns the next snapshot.
 */
export function applyValues(head: Snapshot, values: Readonly<Record<string, unknown>>): Record<string, string> {
  const keys = Object.keys(values).sort();
  for (const key of keys) {
    const c = classifyConfigKey(key);
    if (c.kind === 'env_only') throw new ConfigKeyNotWritableError(key, 'env_only');
  }
  for (const key of keys) {
    const c = classifyConfigKey(key);
    if (c.kind === 'unmanaged') throw new ConfigKeyNotWritableError(key, 'unmanaged');
  }
  const next: Record<string, string> = { ...head };
  const issues: ValidationIssue[] = [];
  for (const key of keys) {
    const c = classifyConfigKey(key);
    if (c.kind !== 'managed') continue;
    const v = values[key];
    if (v === null) {
      delete next[key];
      continue;
    }
    const parsed = parseConfigValue(c.def, v);
    if (parsed.ok) next[key] = parsed.normalised;
    else issues.push({ path: ['values', key], code: 'invalid_value', message: `${key}: ${parsed.message}` });
  }
  if (issues.length === 0) issues.push(...relationIssues(next, keys));
  if (issues.length > 0) {
    throw new ValidationFailedError(
      `invalid config value${issues.length > 1 ? 's' : ''}: ${issues.map((i) => i.message).join('; ')}`,
      issues,
    );
  }
  return next;
}

/** `minOf` relations (e.g. lease ≥ 3 × heartbeat) of every changed key, against defaults where a key is unset. */
function relationIssues(snapshot: Snapshot, changed: readonly string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const numberOf = (key: string): number | null => {
    const def = CONFIG_REGISTRY.get(key);
    const raw = snapshot[key];
    if (raw !== undefined) return Number(raw);
    return typeof def?.default === 'number' ? def.default : null;
  };
  for (const def of CONFIG_REGISTRY.values()) {
    if (!def.minOf) continue;
    if (!changed.includes(def.key) && !changed.includes(def.minOf.key)) continue;
    const v = numberOf(def.key);
    const other = numberOf(def.minOf.key);
    if (v === null || other === null) continue;
    if (v < other * def.minOf.factor) {
      issues.push({
        path: ['values', changed.includes(def.key) ? def.key : def.minOf.key],
        code: 'invalid_value',
        message: `${def.key}: expected ≥ ${def.minOf.factor === 1 ? '' : `${def.minOf.factor}×`}${def.minOf.key} (${other * def.minOf.factor}), got ${v}`,
      });
    }
  }
  return issues;
}

/** Keys of a snapshot that are not managed (retired or unknown): ignored by the resolver, removed by prune. */
export function unmanagedKeys(snapshot: Snapshot): string[] {
  return Object.keys(snapshot)
    .filter((k) => classifyConfigKey(k).kind !== 'managed')
    .sort();
}

export type ResolvedSource = 'flag' | 'default' | `config:${string}` | `env:${string}`;

export interface ResolvedConfig {
  readonly key: string;
  readonly value: ConfigValue | null;
  readonly source: ResolvedSource;
  readonly key_used: string;
  readonly revision?: number;
}

export interface ResolveLayers {
  readonly revision: number;
  readonly snapshot: Snapshot;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * `resolve(key, {flag?, var?, session?})`: CLI flag > config revision > env > default; scoped candidates most specific
 * first, each looked up in the revision and then in env. An env value that does not parse is an error naming key,
 * value and expected type (startup checks report it first; see `checkEnvironment`). Unmanaged snapshot keys are never
 * read (the key asked for is a registry key).
 */
export function resolveConfig(
  key: string,
  layers: ResolveLayers,
  opts: { flag?: unknown; var?: string; session?: string } = {},
): ResolvedConfig {
  const def = CONFIG_REGISTRY.get(key);
  if (!def) throw new Error(`resolveConfig: ${key} is not a managed key`);
  if (opts.flag !== undefined) {
    const p = parseConfigValue(def, opts.flag);
    if (!p.ok)
      throw new ValidationFailedError(`${key}: ${p.message}`, [
        { path: [key], code: 'invalid_value', message: p.message },
      ]);
    return { key, value: p.value, source: 'flag', key_used: key };
  }
  for (const candidate of scopedCandidates(def, opts.var, opts.session)) {
    const stored = layers.snapshot[candidate];
    if (stored !== undefined) {
      return {
        key,
        value: typedValue(def, stored),
        source: `config:${candidate}@${layers.revision}`,
        key_used: candidate,
        revision: layers.revision,
      };
    }
    const env = layers.env[candidate];
    if (env !== undefined && env.trim() !== '') {
      const p = parseConfigValue(def, env);
      if (!p.ok) throw new InvalidEnvValueError(candidate, env, expectedOf(def));
      return { key, value: p.value, source: `env:${candidate}`, key_used: candidate };
    }
  }
  return { key, value: def.default, source: 'default', key_used: key };
}

/** A managed key's env value does not parse: startup stops (exit 2) naming key, value and expected type. */
export class InvalidEnvValueError extends ValidationFailedError {
  constructor(
    readonly key: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`invalid environment value ${key}=${JSON.stringify(value)}: expected ${expected}`, [
      { path: [key], code: 'invalid_env_value', message: `expected ${expected}` },
    ]);
  }
}

export interface EnvCheck {
  /** `GHTRADER_*` keys that are neither managed nor env-only (one `config.unknown_env_key` warning lists them). */
  readonly unknown: string[];
}

/**
 * Startup check of the environment (§5.4): every managed key present must parse (else `InvalidEnvValueError`), and
 * the `GHTRADER_*` keys that are neither managed nor env-only are returned for one warning. Keys `known` accepts are
 * validated by the process itself (the env schema of `shared/config.ts`, with test-friendly bounds) and skipped here,
 * as are deployment wiring keys (`isDeployEnvKey`).
 */
export function checkEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  known: (key: string) => boolean = () => false,
): EnvCheck {
  const unknown: string[] = [];
  for (const key of Object.keys(env).sort()) {
    const raw = env[key];
    if (raw === undefined || !key.startsWith('GHTRADER_') || known(key) || isDeployEnvKey(key)) continue;
    const c = classifyConfigKey(key);
    if (c.kind === 'managed') {
      if (raw.trim() === '') continue;
      const p = parseConfigValue(c.def, raw);
      if (!p.ok) throw new InvalidEnvValueError(key, raw, expectedOf(c.def));
    } else if (c.kind === 'unmanaged' && !known(key)) {
      unknown.push(key);
    }
  }
  return { unknown };
}

export interface EffectiveItem {
  key: string;
  value: ConfigValue | null;
  source: ResolvedSource;
  type: ConfigKeyDef['type'];
  default: ConfigValue | null;
  bounds: { min?: number; max?: number; min_of?: string; values?: readonly string[] };
  description: string;
  apply: 'live' | 'restart';
  scopes: readonly string[];
  env_shadowed: boolean;
  /** Present for a stored key that is no longer managed (`ghtrader config prune` removes it). */
  unmanaged?: true;
  /** Present when the env value that would apply does not parse (value then null). */
  invalid_env?: { key: string; value: string; expected: string };
  /** Present on a registered key no code of this version reads: why (`ConfigKeyDef.unused`). */
  unused?: string;
}

/** The effective view (`GET /api/config/effective`): every managed key (prefix-filtered) plus flagged unmanaged ones. */
export function effectiveItems(layers: ResolveLayers, opts: { prefix?: string; var?: string } = {}): EffectiveItem[] {
  const items: EffectiveItem[] = [];
  for (const def of [...CONFIG_REGISTRY.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    if (opts.prefix && !def.key.startsWith(opts.prefix)) continue;
    let r: ResolvedConfig;
    let invalidEnv: EffectiveItem['invalid_env'];
    try {
      r = resolveConfig(def.key, layers, opts.var ? { var: opts.var } : {});
    } catch (err) {
      // A bad env value is shown on its own row (the process that reads it refuses to start); the view still renders.
      if (!(err instanceof InvalidEnvValueError)) throw err;
      invalidEnv = { key: err.key, value: err.value, expected: err.expected };
      r = { key: def.key, value: null, source: `env:${err.key}`, key_used: err.key };
    }
    const envHere = scopedCandidates(def, opts.var).some((k) => (layers.env[k] ?? '').trim() !== '');
    items.push({
      key: def.key,
      value: r.value,
      source: r.source,
      type: def.type,
      default: def.default,
      bounds: {
        ...(def.min === undefined ? {} : { min: def.min }),
        ...(def.max === undefined ? {} : { max: def.max }),
        ...(def.minOf ? { min_of: `${def.minOf.factor}×${def.minOf.key}` } : {}),
        ...(def.values ? { values: def.values } : {}),
      },
      description: def.description,
      apply: def.apply ?? 'live',
      scopes: def.scopes ?? [],
      env_shadowed: envHere && r.source.startsWith('config:'),
      ...(invalidEnv ? { invalid_env: invalidEnv } : {}),
      ...(def.unused ? { unused: def.unused } : {}),
    });
  }
  for (const key of unmanagedKeys(layers.snapshot)) {
    if (opts.prefix && !key.startsWith(opts.prefix)) continue;
    items.push({
      key,
      value: layers.snapshot[key] ?? null,
      source: `config:${key}@${layers.revision}`,
      type: 'string',
      default: null,
      bounds: {},
      description: 'not a managed key: ignored by the resolver; `ghtrader config prune` removes it',
      apply: 'live',
      scopes: [],
      env_shadowed: false,
      unmanaged: true,
    });
  }
  return items;
}

/** Port: the revision log (DynamoDB Config table in every environment). */
export interface ConfigStore {
  /** The newest revision, or null before bootstrap. */
  head(): Promise<ConfigRevision | null>;
  /** Put revision `rev.revision` only if it does not exist; false when another writer got that number first. */
  put(rev: ConfigRevision): Promise<boolean>;
  get(revision: number): Promise<ConfigRevision | null>;
  /** Newest first; only revisions below `before` when given. */
  list(limit: number, before?: number): Promise<ConfigRevision[]>;
}
