/**
 * `/api/explorer` (control-chain §3.2, §8): `POST /query` [operator] runs one guarded read-only SELECT on the tick
 * store (`TickStore.readOnlyQuery`: the store's own parser and catalog decide, never a keyword filter) and answers
 * `{columns, rows, row_count, truncated, elapsed_ms, limit}`; `GET /catalog` [viewer] lists the tables and columns it
 * may read. The row limit clamps silently to 1 … min(500, `GHTRADER_EXPLORER_MAX_ROWS`) (default 200; non-numeric ->
 * 400); the statement timeout is `GHTRADER_EXPLORER_STATEMENT_TIMEOUT_MS`, both resolved live from the config head.
 * Every query is audited (`explorer.query`, SQL SHA-256 and first 200 characters; outcome `failed` with the error
 * code when it did not run); a viewer's attempt is audited as denied. No tick store -> 503 `dependency_unavailable`.
 */
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import * as z from 'zod';
import { resolveConfig } from '#shared/domain/control/config.ts';
import { parseOrThrow } from '#shared/domain/control/validation.ts';
import type { CatalogTable, ReadOnlyQueryResult, TickStore } from '#shared/domain/data/tick-store.ts';
import { ControlError, DependencyUnavailableError } from '#shared/errors/control.ts';
import { DataChainError } from '#shared/errors/data.ts';
import { appendAudit, auditWho } from '#shared/services/audit-append.ts';
import { callerOf } from '#shared/services/auth-service.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireRole } from '../middleware/require-role.ts';
import { readJson } from '../request-body.ts';
import { authMeta, principalOf } from '../request-info.ts';
import { DataChainOffError } from './api-data.ts';

/** §3.1 limits table: explorer `limit` default 200, min 1, max 500 (and ≤ `GHTRADER_EXPLORER_MAX_ROWS`). */
export const EXPLORER_LIMIT = { default: 200, min: 1, max: 500 } as const;
export const EXPLORER_SQL_MAX = 10_000;
/** Characters of the statement kept in the audit entry (control-chain §8). */
const SQL_HEAD = 200;

export const ExplorerQuerySchema = z.strictObject({
  sql: z.string().min(1).max(EXPLORER_SQL_MAX),
  limit: z
    .union([
      z.number(),
      z
        .string()
        .trim()
        .regex(/^[+-]?\d+$/, 'limit must be an integer'),
    ])
    .transform(Number)
    .optional(),
});

export interface ExplorerSettings {
  timeoutMs: number;
  /** min(500, `GHTRADER_EXPLORER_MAX_ROWS`). */
  maxLimit: number;
}

export type ExplorerQueryResponse = ReadOnlyQueryResult & { limit: number };

/** The explorer's bounds from the config head (revision > env > default), applied live. */
export async function explorerSettings(deps: Pick<AppDeps, 'configService' | 'config'>): Promise<ExplorerSettings> {
  const head = await deps.configService.current();
  const layers = { revision: head.revision, snapshot: head.snapshot, env: deps.config.env };
  const timeoutMs = Number(resolveConfig('GHTRADER_EXPLORER_STATEMENT_TIMEOUT_MS', layers).value);
  const maxRows = Number(resolveConfig('GHTRADER_EXPLORER_MAX_ROWS', layers).value);
  return {
    timeoutMs,
    maxLimit: Math.max(EXPLORER_LIMIT.min, Math.min(EXPLORER_LIMIT.max, Math.trunc(maxRows))),
  };
}

/** A requested limit clamped silently into 1 … `maxLimit` (absent -> the default, itself clamped). */
export function clampExplorerLimit(requested: number | undefined, maxLimit: number): number {
  const n = requested === undefined || !Number.isFinite(requested) ? EXPLORER_LIMIT.default : Math.trunc(requested);
  return Math.min(maxLimit, Math.max(EXPLORER_LIMIT.min, n));
}

/** The tick store, when it offers the explorer; a process without one answers 503. */
export function explorerStore(deps: AppDeps): TickStore & Required<Pick<TickStore, 'readOnlyQuery' | 'catalog'>> {
  const store = deps.data?.store;
  if (!store) throw new DataChainOffError();
  if (store.readOnlyQuery === undefined || store.catalog === undefined) {
    throw new DependencyUnavailableError('tick store explorer', {
      details: { reason: `the ${store.kind} tick store offers no read-only query` },
    });
  }
  return store as TickStore & Required<Pick<TickStore, 'readOnlyQuery' | 'catalog'>>;
}

/** A store failure that is not the caller's: an unreachable server is 503, anything else stays a bug (500). */
function storeFailure(err: unknown): unknown {
  if (err instanceof ControlError) return err;
  if (err instanceof DataChainError && /^questdb_(unreachable|http_error)$/.test(err.code)) {
    return new DependencyUnavailableError('tick store', { cause: err });
  }
  return err;
}

export async function loadCatalog(deps: AppDeps): Promise<CatalogTable[]> {
  try {
    return await explorerStore(deps).catalog();
  } catch (err) {
    throw storeFailure(err);
  }
}

/** The catalog as the Explorer page shows it: the tables, why they could not be read, or no tick store at all. */
export type CatalogSection = { ok: true; tables: CatalogTable[] } | { ok: false; code: string; message: string } | null;

export interface ExplorerPageModel {
  /** The tick store's kind (`duckdb`, `questdb`), or null when this process has none. */
  storeKind: string | null;
  catalog: CatalogSection;
  settings: ExplorerSettings;
  defaultLimit: number;
}

/** Everything the Explorer page renders on first paint (the same calls as the API); a store error is shown, not thrown. */
export async function loadExplorerPage(deps: AppDeps): Promise<ExplorerPageModel> {
  const settings = await explorerSettings(deps);
  const defaultLimit = clampExplorerLimit(undefined, settings.maxLimit);
  if (!deps.data) return { storeKind: null, catalog: null, settings, defaultLimit };
  let catalog: CatalogSection;
  try {
    catalog = { ok: true, tables: await loadCatalog(deps) };
  } catch (err) {
    if (!(err instanceof ControlError)) throw err;
    catalog = { ok: false, code: err.code, message: err.message };
  }
  return { storeKind: deps.data.store.kind, catalog, settings, defaultLimit };
}

export function explorerRoutes(deps: AppDeps): Hono<WebEnv> {
  const hops = deps.config.auth.trustedProxyHops;
  const app = new Hono<WebEnv>();

  app.get('/catalog', requireRole(deps, 'viewer'), async (c) => c.json({ tables: await loadCatalog(deps) }));

  app.post('/query', requireRole(deps, 'operator', 'explorer.query'), async (c) => {
    const store = explorerStore(deps);
    const body = parseOrThrow(ExplorerQuerySchema, await readJson(c), 'explorer query');
    const settings = await explorerSettings(deps);
    const limit = clampExplorerLimit(body.limit, settings.maxLimit);
    const caller = callerOf(principalOf(c), authMeta(c, hops));
    const audit = (outcome: 'ok' | 'failed', reason: string | null, after: Record<string, unknown>) =>
      appendAudit(deps.audit, c.get('log'), {
        ...auditWho(caller),
        action: 'explorer.query',
        target: 'explorer',
        outcome,
        reason,
        before: null,
        after: {
          sql_sha256: createHash('sha256').update(body.sql, 'utf8').digest('hex'),
          sql_head: body.sql.slice(0, SQL_HEAD),
          limit,
          ...after,
        },
      });
    let result: ReadOnlyQueryResult;
    try {
      result = await store.readOnlyQuery(body.sql, { timeoutMs: settings.timeoutMs, maxRows: limit });
    } catch (err) {
      const failure = storeFailure(err);
      const code = failure instanceof ControlError ? failure.code : 'internal';
      await audit('failed', code, { error_code: code });
      throw failure;
    }
    await audit('ok', null, {
      row_count: result.row_count,
      truncated: result.truncated,
      elapsed_ms: result.elapsed_ms,
    });
    const response: ExplorerQueryResponse = { ...result, limit };
    return c.json(response);
  });

  return app;
}
