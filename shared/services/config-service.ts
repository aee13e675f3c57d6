/**
 * The Config Service (control-chain §5): append-only revisions with optimistic concurrency on DynamoDB, the
 * store-boundary key rules (so the CLI, the API and the console behave identically), rollback as a new revision,
 * import of env values, prune of unmanaged keys, history, and the effective view with sources. Every write appends
 * one audit entry with per-key before/after and publishes `config.revision` on `config:updates`.
 */
import * as z from 'zod';
import type { AuditLog } from '../domain/control/audit.ts';
import {
  applyValues,
  baselineRevision,
  type ConfigAction,
  type ConfigRevision,
  type ConfigStore,
  configHash,
  diffSnapshots,
  type EffectiveItem,
  effectiveItems,
  type Snapshot,
  unmanagedKeys,
} from '../domain/control/config.ts';
import {
  CONFIG_REGISTRY,
  type ConfigKeyDef,
  classifyConfigKey,
  expectedOf,
  isEnvOnlyKey,
} from '../domain/control/config-registry.ts';
import { decodeCursor, encodeCursor } from '../domain/control/cursor.ts';
import { parseOrThrow } from '../domain/control/validation.ts';
import { type Clock, isoUtc } from '../domain/time.ts';
import { ConfigRevisionConflictError, InvalidCursorError, NotFoundError } from '../errors/control.ts';
import type { Logger } from '../log.ts';
import { appendAudit, auditWho } from './audit-append.ts';
import { type Caller, requireCallerRole } from './auth-service.ts';

/** Redis channel (under the warm-path prefix) of `config.revision` events. */
export const CONFIG_UPDATES_CHANNEL = 'config:updates';
const MAX_WRITE_TRIES = 3;

export interface ConfigServiceDeps {
  store: ConfigStore;
  audit: AuditLog;
  /** Best-effort publisher (the warm path); never throws. */
  publish: (channel: string, message: unknown) => void;
  clock: Clock;
  log: Logger;
  /** The process environment (resolver's env layer and `import-env`). */
  env: Readonly<Record<string, string | undefined>>;
  cursorSecret: string;
}

const intLike = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().min(1));

export const ConfigSetRequestSchema = z.strictObject({
  values: z
    .record(z.string().min(1).max(200), z.union([z.string().max(4096), z.number(), z.boolean(), z.null()]))
    .refine((v) => Object.keys(v).length > 0, 'at least one key'),
  reason: z.string().min(1).max(500).optional(),
  expected_revision: intLike.optional(),
});
export type ConfigSetRequest = z.input<typeof ConfigSetRequestSchema>;

export const ConfigRollbackRequestSchema = z.strictObject({
  revision: intLike,
  reason: z.string().min(1).max(500).optional(),
  expected_revision: intLike.optional(),
});
export type ConfigRollbackRequest = z.input<typeof ConfigRollbackRequestSchema>;

export const ConfigHistoryQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^-?\d+$/, 'limit must be an integer')
    .transform((s) => Math.min(500, Math.max(1, Number(s))))
    .optional(),
  cursor: z.string().min(1).optional(),
});

export const ConfigEffectiveQuerySchema = z.object({
  prefix: z.string().max(200).optional(),
  var: z.enum(['cu', 'au', 'ag']).optional(),
});

export interface WriteResult {
  revision: number;
  config_hash: string;
  changed_keys: string[];
  changed: boolean;
  rollback_to?: number;
  /** Changed keys that no code of this version reads, each with why (the change is stored but does nothing yet). */
  unused_keys?: { key: string; reason: string }[];
}

export interface HistoryItem {
  revision: number;
  created_at: string;
  actor: ConfigRevision['actor'];
  role: string;
  reason: string;
  action: ConfigAction;
  config_hash: string;
  changed_keys: string[];
  rollback_to?: number;
}

export interface EffectiveView {
  revision: number;
  config_hash: string;
  items: EffectiveItem[];
}

/** The registry as the schema endpoint and the Config page's editor see it (docs come from here, not by hand). */
export interface SchemaItem {
  key: string;
  type: ConfigKeyDef['type'];
  default: ConfigKeyDef['default'];
  expected: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  scopes: readonly string[];
  apply: 'live' | 'restart';
  description: string;
  /** Present on a registered key no code of this version reads: why. */
  unused?: string;
}

export class ConfigService {
  private cached: { at: number; head: ConfigRevision } | null = null;
  private readonly headListeners = new Set<(head: ConfigRevision) => void>();

  constructor(private readonly deps: ConfigServiceDeps) {}

  /**
   * Call `listener` whenever this process learns of a newer head (its own writes, or a re-read by `current`), so
   * `LiveConfig` applies a change at once instead of at its next refresh. Returns the unsubscribe function.
   */
  onHead(listener: (head: ConfigRevision) => void): () => void {
    this.headListeners.add(listener);
    return () => this.headListeners.delete(listener);
  }

  /** A `config.revision` event from another process: a cached head older than `revision` is dropped. */
  noteRevision(revision: number): void {
    if (this.cached && this.cached.head.revision < revision) this.cached = null;
  }

  private remember(head: ConfigRevision): void {
    // Revisions only grow: a read that started before one of our writes and finished after it is not kept.
    if (this.cached && head.revision < this.cached.head.revision) return;
    const newer = !this.cached || this.cached.head.revision !== head.revision;
    this.cached = { at: this.deps.clock.nowMs(), head };
    if (newer) for (const l of this.headListeners) l(head);
  }

  /**
   * The head for readers that apply config (jobs pin it at their start): re-read at most every `maxAgeMs` (5 s, the
   * spec's refresh bound for long-running processes and Lambda containers); this service's own writes refresh it.
   */
  async current(maxAgeMs = 5_000): Promise<ConfigRevision> {
    const now = this.deps.clock.nowMs();
    if (this.cached && now - this.cached.at < maxAgeMs) return this.cached.head;
    const head = await this.head();
    this.remember(head);
    return head;
  }

  /** Put revision 1 (`baseline`) if the log is empty; a lost race means someone else did. Returns the head. */
  async bootstrap(): Promise<ConfigRevision> {
    const head = await this.deps.store.head();
    if (head) return head;
    await this.deps.store.put(baselineRevision(isoUtc(this.deps.clock.nowMs())));
    return this.head();
  }

  /** The newest revision (bootstrapping the baseline when the log is empty). */
  async head(): Promise<ConfigRevision> {
    return (await this.deps.store.head()) ?? this.bootstrap();
  }

  async getRevision(revision: number): Promise<ConfigRevision> {
    const r = await this.deps.store.get(revision);
    if (!r) throw new NotFoundError('config revision', String(revision));
    return r;
  }

  /** Set (or with `null` remove) keys, all or nothing; no change writes nothing and returns the head. */
  async set(caller: Caller, input: unknown, defaultReason = 'api_set'): Promise<WriteResult> {
    requireCallerRole(caller, 'admin');
    const req = parseOrThrow(ConfigSetRequestSchema, input, 'config set request');
    return this.write(caller, 'set', req.reason ?? defaultReason, req.expected_revision, (head) =>
      applyValues(head.snapshot, req.values),
    );
  }

  /** A new revision whose snapshot equals revision R's (history is never rewritten). Unknown R -> 404. */
  async rollback(caller: Caller, input: unknown): Promise<WriteResult> {
    requireCallerRole(caller, 'admin');
    const req = parseOrThrow(ConfigRollbackRequestSchema, input, 'config rollback request');
    const target = await this.getRevision(req.revision);
    const r = await this.write(
      caller,
      'rollback',
      req.reason ?? `rollback_to:${req.revision}`,
      req.expected_revision,
      () => ({ ...target.snapshot }),
      req.revision,
    );
    return { ...r, rollback_to: req.revision };
  }

  /** Store every managed key present in the environment as one revision (`import_env`). */
  async importEnv(caller: Caller, reason = 'import_env'): Promise<WriteResult> {
    requireCallerRole(caller, 'admin');
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.deps.env)) {
      if (v === undefined || v.trim() === '' || isEnvOnlyKey(k)) continue;
      if (classifyConfigKey(k).kind === 'managed') values[k] = v;
    }
    return this.write(caller, 'import_env', reason, undefined, (head) =>
      Object.keys(values).length === 0 ? { ...head.snapshot } : applyValues(head.snapshot, values),
    );
  }

  /** Remove keys that are no longer managed (retired or unknown) from the snapshot (`prune`). */
  async prune(caller: Caller, reason = 'prune'): Promise<WriteResult> {
    requireCallerRole(caller, 'admin');
    return this.write(caller, 'prune', reason, undefined, (head) => {
      const next: Record<string, string> = { ...head.snapshot };
      for (const k of unmanagedKeys(head.snapshot)) delete next[k];
      return next;
    });
  }

  async history(query: unknown): Promise<{ items: HistoryItem[]; next_cursor: string | null; limit: number }> {
    const q = parseOrThrow(ConfigHistoryQuerySchema, query, 'config history query');
    const limit = q.limit ?? 50;
    if (!q.cursor) await this.head(); // an empty log gets its baseline first, as every other read sees it
    const filters = { list: 'config_history' };
    const before = q.cursor ? Number(decodeCursor(this.deps.cursorSecret, q.cursor, filters).revision) : undefined;
    if (before !== undefined && !Number.isInteger(before)) throw new InvalidCursorError('not a config history cursor');
    const revs = await this.deps.store.list(limit + 1, before);
    const page = revs.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(historyItem),
      next_cursor:
        revs.length > limit && last ? encodeCursor(this.deps.cursorSecret, { revision: last.revision }, filters) : null,
      limit,
    };
  }

  async effective(query: unknown = {}): Promise<EffectiveView> {
    const q = parseOrThrow(ConfigEffectiveQuerySchema, query, 'config effective query');
    const head = await this.head();
    return {
      revision: head.revision,
      config_hash: head.config_hash,
      items: effectiveItems(
        { revision: head.revision, snapshot: head.snapshot, env: this.deps.env },
        { ...(q.prefix ? { prefix: q.prefix } : {}), ...(q.var ? { var: q.var } : {}) },
      ),
    };
  }

  /** The registry (`?prefix` filters keys; `?var` is accepted for symmetry with the effective view: every key applies). */
  schema(query: unknown = {}): SchemaItem[] {
    const q = parseOrThrow(ConfigEffectiveQuerySchema, query, 'config schema query');
    return [...CONFIG_REGISTRY.values()]
      .filter((d) => !q.prefix || d.key.startsWith(q.prefix))
      .sort((a, b) => (a.key < b.key ? -1 : 1))
      .map((d) => ({
        key: d.key,
        type: d.type,
        default: d.default,
        expected: expectedOf(d),
        ...(d.min === undefined ? {} : { min: d.min }),
        ...(d.max === undefined ? {} : { max: d.max }),
        ...(d.values ? { values: d.values } : {}),
        scopes: d.scopes ?? [],
        apply: d.apply ?? 'live',
        description: d.description,
        ...(d.unused ? { unused: d.unused } : {}),
      }));
  }

  /**
   * Read head N, build the next snapshot, write N+1 with `attribute_not_exists`. No change -> head, `changed:false`.
   * A lost race with `expected_revision` -> 409; without it, re-read and re-apply (≤ 3 tries).
   */
  private async write(
    caller: Caller,
    action: ConfigAction,
    reason: string,
    expected: number | undefined,
    next: (head: ConfigRevision) => Record<string, string>,
    rollbackTo?: number,
  ): Promise<WriteResult> {
    for (let attempt = 1; ; attempt++) {
      const head = await this.head();
      if (expected !== undefined && head.revision !== expected) {
        throw new ConfigRevisionConflictError(expected, head.revision);
      }
      const snapshot = next(head);
      const changes = diffSnapshots(head.snapshot, snapshot);
      if (changes.length === 0) {
        return { revision: head.revision, config_hash: head.config_hash, changed_keys: [], changed: false };
      }
      const rev: ConfigRevision = {
        revision: head.revision + 1,
        created_at: isoUtc(this.deps.clock.nowMs()),
        actor: caller.actor,
        role: caller.role,
        reason,
        action,
        snapshot,
        changed_keys: changes.map((c) => c.key),
        changes,
        config_hash: configHash(snapshot),
        ...(rollbackTo === undefined ? {} : { rollback_to: rollbackTo }),
      };
      if (await this.deps.store.put(rev)) {
        this.remember(rev);
        await this.afterWrite(caller, rev, head.snapshot);
        const unused = unusedKeys(rev.changed_keys);
        return {
          revision: rev.revision,
          config_hash: rev.config_hash,
          changed_keys: rev.changed_keys,
          changed: true,
          ...(unused.length > 0 ? { unused_keys: unused } : {}),
        };
      }
      if (expected !== undefined) throw new ConfigRevisionConflictError(expected, head.revision + 1);
      if (attempt >= MAX_WRITE_TRIES) {
        throw new ConfigRevisionConflictError(head.revision, head.revision + 1);
      }
      this.deps.log.info({ revision: rev.revision, attempt }, 'config.write_retry');
    }
  }

  private async afterWrite(caller: Caller, rev: ConfigRevision, before: Snapshot): Promise<void> {
    this.deps.publish(CONFIG_UPDATES_CHANNEL, {
      type: 'config.revision',
      revision: rev.revision,
      config_hash: rev.config_hash,
      changed_keys: rev.changed_keys,
      ts: rev.created_at,
    });
    const pick = (s: Snapshot) => Object.fromEntries(rev.changed_keys.map((k) => [k, s[k] ?? null]));
    await appendAudit(this.deps.audit, this.deps.log, {
      ...auditWho(caller),
      action: `config.${rev.action}`,
      target: `config:${rev.revision}`,
      outcome: 'ok',
      reason: rev.reason,
      before: pick(before),
      after: pick(rev.snapshot),
    });
  }
}

/** Of `keys`, the managed ones (scoped variants included) that no code of this version reads, with why. */
function unusedKeys(keys: readonly string[]): { key: string; reason: string }[] {
  return keys.flatMap((key) => {
    const c = classifyConfigKey(key);
    return c.kind === 'managed' && c.def.unused ? [{ key, reason: c.def.unused }] : [];
  });
}

/** Config writes are admin only (control-chain §2), whichever door the caller came through. */

function historyItem(r: ConfigRevision): HistoryItem {
  return {
    revision: r.revision,
    created_at: r.created_at,
    actor: r.actor,
    role: r.role,
    reason: r.reason,
    action: r.action,
    config_hash: r.config_hash,
    changed_keys: r.changed_keys,
    ...(r.rollback_to === undefined ? {} : { rollback_to: r.rollback_to }),
  };
}
