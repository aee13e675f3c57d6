/**
 * `ghtrader data schedule | l5-start | main-l5 | validate | verify | field-quality | migrate | contract-check`
 * (data-chain §10.2).
 * The tick store has one writing process (§1.3): the steps run as jobs in the stack that owns it (`ghtrader up`
 * locally, Lambda in the cloud) and these commands submit the job and wait for it, printing the step's JSON with
 * `--json`. Exit 0 ok/warn, 1 failure/error, 2 bad input. `migrate` also runs without a stack (in-process, on the home's embedded DynamoDB),
 * because a store that needs a migration stops `ghtrader up`.
 *
 * With `--api URL` the job steps (`schedule`, `l5-start`, `main-l5`, `validate`, `verify`, `field-quality`) are
 * submitted through `POST /api/jobs` and followed with `GET /api/jobs/{id}` every 1 s as the owner of
 * `GHTRADER_API_TOKEN` (operator or admin), printing the same results; `main-l5 --wait` follows the build's finalize
 * job (`GET /api/jobs?kind=data.main_l5.finalize`), whose result is the build summary. `migrate` and
 * `contract-check` have no API route and refuse `--api`.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '#shared/config.ts';
import { isTerminal, type JobRecord } from '#shared/domain/control/jobs.ts';
import type { Variety } from '#shared/domain/control/varieties.ts';
import { systemClock } from '#shared/domain/time.ts';
import { DynamoMigrationLedger } from '#shared/infra/aws/migration-ledger.ts';
import { openDuckDbTickStore } from '#shared/infra/tickstore/duckdb.ts';
import { BuildItems } from '#shared/services/data/build-items.ts';
import type { JobListResult, SubmitResult } from '#shared/services/job-service.ts';
import type { Runtime } from '#shared/services/runtime.ts';
import { type ApiClient, allowApi, apiClient, seg } from '../api-client.ts';
import { CliUsageError, homeEnv, reportError, withEmbeddedDynamo } from '../cli-support.ts';
import { readLiveStack } from '../stack-file.ts';
import { contractCheckCommand } from './data-contract-check.ts';
import { migrateCommand } from './data-migrate.ts';
import { ctx, withRuntime } from './jobs.ts';

interface Global {
  home?: string;
  json?: boolean;
  api?: string;
}

/** A main_l5 build as `main-l5 --wait` follows it: still building, or its end and summary. */
type BuildOutcome =
  | { status: 'building' }
  | { status: 'promoted' | 'rejected' | 'failed'; summary: Record<string, unknown> };

/**
 * Where the data steps run their jobs: the stack's JobService with the store credentials (as the CLI caller), or the
 * HTTP API (`--api`) as the token's owner.
 */
interface DataJobs {
  submit(kind: string, params: Record<string, unknown>): Promise<JobRecord>;
  get(jobId: string): Promise<JobRecord>;
  build(buildId: string, variety: Variety): Promise<BuildOutcome>;
  /** How often a wait re-reads the job. */
  readonly pollMs: number;
}

function storeDataJobs(rt: Runtime): DataJobs {
  const builds = new BuildItems(rt.clients.doc, rt.config.tables.jobs);
  return {
    submit: async (kind, params) => (await rt.jobs.submit({ kind, params }, ctx())).job,
    get: (id) => rt.jobs.get(id),
    build: async (buildId) => {
      const item = await builds.require(buildId);
      return item.status === 'promoted' || item.status === 'rejected' || item.status === 'failed'
        ? { status: item.status, summary: (item.summary ?? {}) as Record<string, unknown> }
        : { status: 'building' };
    },
    pollMs: POLL_MS,
  };
}

/** Finalize jobs of one variety read per poll when following a build through the API (newest first). */
const FINALIZE_LOOKUP_LIMIT = '50';

function apiDataJobs(api: ApiClient): DataJobs {
  const get = (id: string) => api.get<JobRecord>(`/api/jobs/${seg(id)}`);
  /** Finalize jobs already read that belong to other builds (a list item carries no params). */
  const otherBuilds = new Set<string>();
  return {
    submit: async (kind, params) => (await api.post<SubmitResult>('/api/jobs', { kind, params })).job,
    get,
    // The build's finalize job (enqueued by its last day batch) ends it, and its result is the summary.
    build: async (buildId, variety) => {
      const page = await api.get<JobListResult>('/api/jobs', {
        kind: 'data.main_l5.finalize',
        var: variety,
        limit: FINALIZE_LOOKUP_LIMIT,
      });
      for (const item of page.items) {
        if (otherBuilds.has(item.job_id)) continue;
        const job = await get(item.job_id);
        if ((job.params as { build_id?: unknown }).build_id !== buildId) {
          otherBuilds.add(job.job_id);
          continue;
        }
        if (!isTerminal(job.status)) return { status: 'building' };
        if (job.status === 'succeeded') {
          const summary = (job.result ?? {}) as Record<string, unknown>;
          return { status: summary.status === 'promoted' ? 'promoted' : 'rejected', summary };
        }
        return {
          status: 'failed',
          summary: { error: job.error?.message ?? `finalize job ${job.job_id} ${job.status}` },
        };
      }
      return { status: 'building' };
    },
    pollMs: 1_000,
  };
}

/** Run `fn` with the jobs of the stack under `--home`, or of the API at `--api`. */
function withDataJobs<T>(g: Global, fn: (src: DataJobs) => Promise<T>): Promise<T> {
  if (g.api !== undefined) return fn(apiDataJobs(apiClient(g.api)));
  return withRuntime(g.home, (rt) => fn(storeDataJobs(rt)));
}

/**
 * `data calendar --api`: the `data.calendar` job (refresh or report) through the HTTP API, as the token's owner; its
 * result (covers, holidays, refresh, disagreements, warnings). The day views need the calendar itself and stay local.
 */
export function calendarJobViaApi(api: string, refresh: boolean): Promise<Record<string, unknown>> {
  return withDataJobs(
    { api },
    async (src) => (await runJob(src, 'data.calendar', { refresh }, 180)).result as Record<string, unknown>,
  );
}

/** A job that failed or was cancelled: exit 1 with its error. */
export class DataJobFailedError extends Error {}

const POLL_MS = 500;

/** The data steps that are jobs, so `--api` can submit and follow them. */
const API_STEPS = new Set(['schedule', 'l5-start', 'main-l5', 'validate', 'verify', 'field-quality']);

async function waitJob(src: DataJobs, job: JobRecord, timeoutS: number): Promise<JobRecord> {
  const deadline = Date.now() + timeoutS * 1000;
  let cur = job;
  while (!isTerminal(cur.status)) {
    if (Date.now() > deadline)
      throw new DataJobFailedError(`timed out after ${timeoutS}s waiting for job ${job.job_id} (${cur.status})`);
    await new Promise((r) => setTimeout(r, src.pollMs));
    cur = await src.get(job.job_id);
  }
  if (cur.status !== 'succeeded') {
    throw new DataJobFailedError(
      `${cur.kind} job ${cur.job_id} ${cur.status}: ${cur.error?.message ?? 'no error recorded'}`,
    );
  }
  return cur;
}

async function runJob(
  src: DataJobs,
  kind: string,
  params: Record<string, unknown>,
  timeoutS: number,
): Promise<JobRecord> {
  return waitJob(src, await src.submit(kind, params), timeoutS);
}

function out(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

function parseVar(v: string | undefined): 'cu' | 'au' | 'ag' {
  if (v === 'cu' || v === 'au' || v === 'ag') return v;
  throw new CliUsageError(`--var must be cu, au or ag (got ${JSON.stringify(v ?? '')})`);
}

function posInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new CliUsageError(`${name} must be a positive integer (got ${JSON.stringify(v)})`);
  return n;
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliUsageError(`${name} must be a number (got ${JSON.stringify(v)})`);
  return n;
}

function fail(err: unknown, json: boolean): never {
  if (err instanceof DataJobFailedError) {
    if (json)
      process.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'job_failed', message: err.message } })}\n`);
    else process.stderr.write(`ghtrader: ${err.message}\n`);
    process.exit(1);
  }
  reportError(err, json);
}

export function registerDataJobs(data: Command, g: () => Global): void {
  data
    .command('schedule')
    .description('rebuild the main-contract roll schedule of a variety (no-op when unchanged)')
    .requiredOption('--var <var>', 'cu, au or ag')
    .action((o: { var: string }) => {
      const json = Boolean(g().json);
      return withDataJobs(g(), async (src) => {
        const job = await runJob(src, 'data.schedule', { var: parseVar(o.var) }, 600);
        const r = job.result as Record<string, unknown>;
        out(
          json,
          r,
          `schedule ${o.var}: ${r.relation}, ${r.rows} days, hash ${r.schedule_hash} (${r.segments_total} segments); report ${r.report_uri}`,
        );
      }).catch((e) => fail(e, json));
    });

  data
    .command('l5-start')
    .description('find the first trading day with true-L5 ticks of a variety (cached for GHTRADER_L5_START_TTL_S)')
    .requiredOption('--var <var>', 'cu, au or ag')
    .option('--refresh', 'probe the provider again instead of answering from the cache')
    .action((o: { var: string; refresh?: boolean }) => {
      const json = Boolean(g().json);
      return withDataJobs(g(), async (src) => {
        const job = await runJob(src, 'data.l5_start', { var: parseVar(o.var), refresh: o.refresh === true }, 900);
        const r = job.result as Record<string, unknown>;
        out(
          json,
          r,
          r.ok
            ? `l5-start ${o.var}: ${r.l5_start_date} (${r.l5_start_contract}; ${r.source}, ${r.contracts_checked} contracts, ${r.probes_total} probes); set GHTRADER_L5_START_DATE_${o.var.toUpperCase()}=${r.l5_start_date}`
            : `l5-start ${o.var}: no contract has true-L5 ticks up to today (${r.contracts_checked} contracts, ${r.probes_total} probes)`,
        );
        if (!r.ok) process.exitCode = 1;
      }).catch((e) => fail(e, json));
    });

  data
    .command('main-l5')
    .description('build main_l5 ticks of a variety (update mode unless --full-rebuild)')
    .requiredOption('--var <var>', 'cu, au or ag')
    .option('--full-rebuild', 'delete the symbol’s ticks and rebuild every scheduled day')
    .option('--days-per-job <n>', 'days per day-batch job (default GHTRADER_MAIN_L5_DAYS_PER_JOB or 5)')
    .option('--max-concurrency <n>', 'day-batch jobs at once (default GHTRADER_MAIN_L5_MAX_CONCURRENCY or 4)')
    .option('--wait', 'wait for finalize and print the build summary; exit 1 unless promoted')
    .option('--timeout-s <s>', 'how long --wait waits', '3600')
    .action(
      (o: {
        var: string;
        fullRebuild?: boolean;
        daysPerJob?: string;
        maxConcurrency?: string;
        wait?: boolean;
        timeoutS: string;
      }) => {
        const json = Boolean(g().json);
        return withDataJobs(g(), async (src) => {
          const variety = parseVar(o.var);
          const timeoutS = posInt('--timeout-s', o.timeoutS) ?? 3600;
          const params: Record<string, unknown> = { var: variety, full_rebuild: Boolean(o.fullRebuild) };
          const dpj = posInt('--days-per-job', o.daysPerJob);
          const mc = posInt('--max-concurrency', o.maxConcurrency);
          if (dpj !== undefined) params.days_per_job = dpj;
          if (mc !== undefined) params.max_concurrency = mc;
          const plan = await runJob(src, 'data.main_l5', params, 600);
          const p = plan.result as { build_id: string; jobs_total: number; days_total: number; mode: string };
          if (!o.wait) {
            out(
              json,
              { ok: true, ...p },
              `main_l5 ${variety}: build ${p.build_id} (${p.mode}) planned ${p.days_total} days in ${p.jobs_total} jobs`,
            );
            return;
          }
          const deadline = Date.now() + timeoutS * 1000;
          for (;;) {
            const item = await src.build(p.build_id, variety);
            if (item.status !== 'building') {
              const summary = item.summary;
              out(
                json,
                summary,
                `main_l5 ${variety}: build ${p.build_id} ${item.status}; ${summary.rows_total ?? 0} rows over ${summary.days_total ?? 0} days; report ${summary.report_uri ?? '-'}${
                  Array.isArray((summary.health as { errors?: string[] })?.errors) &&
                  (summary.health as { errors: string[] }).errors.length > 0
                    ? `\n  health: ${(summary.health as { errors: string[] }).errors.join('; ')}`
                    : ''
                }${summary.error ? `\n  error: ${summary.error}` : ''}`,
              );
              if (item.status !== 'promoted') process.exitCode = 1;
              return;
            }
            if (Date.now() > deadline)
              throw new DataJobFailedError(
                `timed out after ${timeoutS}s waiting for build ${p.build_id} (${item.status})`,
              );
            await new Promise((r) => setTimeout(r, src.pollMs));
          }
        }).catch((e) => fail(e, json));
      },
    );

  data
    .command('validate')
    .description('validate main_l5 ticks (sessions, gaps, field quality) and persist the results')
    .requiredOption('--var <var>', 'cu, au or ag')
    .option('--start <date>', 'first day, YYYY-MM-DD')
    .option('--end <date>', 'last day, YYYY-MM-DD')
    .option('--incremental', 'only days after the last validated one')
    .option('--no-provider-check', 'skip asking the provider about gaps')
    .option('--gap-threshold-s <s>', 'gap threshold in seconds (≥ 0.5)')
    .option('--strict-ratio <r>', 'cadence ratio for fixed 0.5 s mode, 0..1')
    .option('--max-segments-per-day <n>', 'segments listed per day (≥ 10)')
    .action(
      (o: {
        var: string;
        start?: string;
        end?: string;
        incremental?: boolean;
        providerCheck: boolean;
        gapThresholdS?: string;
        strictRatio?: string;
        maxSegmentsPerDay?: string;
      }) => {
        const json = Boolean(g().json);
        return withDataJobs(g(), async (src) => {
          const params: Record<string, unknown> = {
            var: parseVar(o.var),
            incremental: Boolean(o.incremental),
            provider_check: o.providerCheck,
          };
          if (o.start) params.start = o.start;
          if (o.end) params.end = o.end;
          const gt = num('--gap-threshold-s', o.gapThresholdS);
          const sr = num('--strict-ratio', o.strictRatio);
          const ms = posInt('--max-segments-per-day', o.maxSegmentsPerDay);
          if (gt !== undefined) params.gap_threshold_s = gt;
          if (sr !== undefined) params.strict_ratio = sr;
          if (ms !== undefined) params.max_segments_per_day = ms;
          const job = await runJob(src, 'data.validate', params, 1800);
          const r = job.result as Record<string, unknown>;
          out(
            json,
            r,
            `validate ${o.var}: ${r.state} (${r.reason_code}) over ${r.checked_days} days; ${r.action_hint}; report ${r.report_uri}`,
          );
          if (r.ok !== true) process.exitCode = 1;
        }).catch((e) => fail(e, json));
      },
    );

  data
    .command('verify')
    .description(
      'verify a (legacy) main_l5 dataset: schedule hash, row hashes, provenance, L5 rule, validation (read-only unless --promote)',
    )
    .requiredOption('--var <var>', 'cu, au or ag')
    .option('--sample-days <n>', 'check n stored days, evenly spaced with the first and last, instead of every day')
    .option('--promote', 'append a legacy_verified builds row when the result is not error')
    .action((o: { var: string; sampleDays?: string; promote?: boolean }) => {
      const json = Boolean(g().json);
      return withDataJobs(g(), async (src) => {
        const params: Record<string, unknown> = { var: parseVar(o.var), promote: Boolean(o.promote) };
        const n = posInt('--sample-days', o.sampleDays);
        if (n !== undefined) params.sample_days = n;
        const job = await runJob(src, 'data.verify', params, 1800);
        const r = job.result as Record<string, unknown>;
        const v = (r.validation ?? {}) as Record<string, unknown>;
        out(
          json,
          r,
          `verify ${o.var}: ${r.state} (schedule ${r.schedule_hash_check}); ${r.rows_checked} rows over ${r.days_checked}/${r.days_total} days: ${r.row_hash_mismatches} row_hash mismatches, ${r.provenance_errors} provenance errors, ${r.l5_any_depth_violations} l5_any_depth_v1 violations, ${r.l5_strict_violations} l5_levels_2_5_v2 violations; validation ${v.state} (${v.reason_code}); ${r.promoted_build_id ? `promoted build ${r.promoted_build_id}` : 'not promoted'}; report ${r.report_uri}`,
        );
        if (r.ok !== true) process.exitCode = 1;
      }).catch((e) => fail(e, json));
    });

  data
    .command('field-quality')
    .description(
      'field quality of stored main_l5 ticks (L1/L5 null rates, book invariants, outliers; status and score), read-only',
    )
    .requiredOption('--var <var>', 'cu, au or ag')
    .option('--start <date>', 'first day, YYYY-MM-DD (default: the first stored day)')
    .option('--end <date>', 'last day, YYYY-MM-DD (default: the last stored day)')
    .action((o: { var: string; start?: string; end?: string }) => {
      const json = Boolean(g().json);
      return withDataJobs(g(), async (src) => {
        const params: Record<string, unknown> = { var: parseVar(o.var) };
        if (o.start) params.start = o.start;
        if (o.end) params.end = o.end;
        const job = await runJob(src, 'data.field_quality', params, 1800);
        const r = job.result as Record<string, unknown>;
        const t = (r.totals ?? {}) as Record<string, number>;
        const pct = (x: number | undefined) => `${((x ?? 0) * 100).toFixed(3)}%`;
        const reasons = Array.isArray(r.reasons)
          ? (r.reasons as { level: string; message: string }[]).filter((x) => x.level !== 'info').map((x) => x.message)
          : [];
        out(
          json,
          r,
          `field-quality ${o.var}: ${r.status}, score ${Number(r.score).toFixed(2)} over ${r.days} days (${r.first_day} … ${r.last_day}); null bid1 ${pct(t.bid_price1_null_rate)}, ask1 ${pct(t.ask_price1_null_rate)}, l5 ${pct(t.l5_fields_null_rate)}; ${t.anomalies ?? 0} anomalies, ${t.critical_gaps ?? 0} critical gaps${r.days_without_validation ? ` (${r.days_without_validation} days without validation)` : ''}${reasons.length > 0 ? `; ${reasons.join('; ')}` : ''}; report ${r.report_uri}`,
        );
        if (r.ok !== true) process.exitCode = 1;
      }).catch((e) => fail(e, json));
    });

  data
    .command('migrate')
    .description('show (dry run) or apply the tick-store migrations')
    .option('--apply', 'apply them (default: dry run)')
    .option('--table <t>', 'one table only')
    .option('--retry-failed', 'retry migrations the ledger records as failed')
    .action((o: { apply?: boolean; table?: string; retryFailed?: boolean }) => {
      const json = Boolean(g().json);
      return migrate(g().home, o)
        .then((r) => {
          out(json, r, renderMigrate(r));
          if (r.ok !== true) process.exitCode = 1;
        })
        .catch((e) => fail(e, json));
    });

  data
    .command('contract-check')
    .description('check the tick data contract on synthetic rows')
    .option('--rows <n>', 'synthetic rows', '64')
    .option('--min-rows <n>', 'minimum rows', '32')
    .option('--max-core-null-rate <r>', 'max null rate of each core column', '0.01')
    .option('--max-l5-null-rate <r>', 'max mean null rate of the 20 book columns', '0.05')
    .action((o: { rows: string; minRows: string; maxCoreNullRate: string; maxL5NullRate: string }) => {
      const json = Boolean(g().json);
      return (async () => {
        const r = await contractCheckCommand({
          rows: posInt('--rows', o.rows) as number,
          minRows: posInt('--min-rows', o.minRows) as number,
          maxCoreNullRate: num('--max-core-null-rate', o.maxCoreNullRate) as number,
          maxL5NullRate: num('--max-l5-null-rate', o.maxL5NullRate) as number,
        });
        out(json, r, JSON.stringify(r, null, 2));
        if (!r.ok) process.exitCode = 1;
      })().catch((e) => fail(e, json));
    });

  // The job steps also run through the HTTP API (`--api`); migrate and contract-check need the store.
  allowApi(...data.commands.filter((c) => API_STEPS.has(c.name())));
}

interface MigrateView {
  ok: boolean;
  mode: string;
  migrations: { id: string; table: string; status: string; sql?: string[] }[];
  [k: string]: unknown;
}

function renderMigrate(r: MigrateView): string {
  const lines = [`migrate (${r.mode}): ${r.ok ? 'ok' : 'NOT ok'}`];
  for (const m of r.migrations) {
    lines.push(`  ${m.id} ${m.table}: ${m.status}`);
    for (const s of m.sql ?? []) lines.push(`    ${s}`);
  }
  return lines.join('\n');
}

/** Through the running stack when there is one (it owns the store), else in-process on the home's own store. */
async function migrate(
  home: string | undefined,
  o: { apply?: boolean; table?: string; retryFailed?: boolean },
): Promise<MigrateView> {
  const env = homeEnv(home);
  const base = loadConfig(env);
  const params: Record<string, unknown> = { apply: Boolean(o.apply), retry_failed: Boolean(o.retryFailed) };
  if (o.table) params.table = o.table;
  if (await readLiveStack(base.home)) {
    return withRuntime(
      home,
      async (rt) => (await runJob(storeDataJobs(rt), 'data.migrate', params, 600)).result as MigrateView,
    );
  }
  if (base.aws.dynamoEndpoint || env.AWS_ENDPOINT_URL) {
    throw new CliUsageError(
      'no ghtrader stack runs under this home: submit `ghtrader jobs submit data.migrate` to the cloud stack instead',
    );
  }
  const file = path.join(base.home, 'ticks.duckdb');
  await access(file).catch(() => {
    throw new CliUsageError(`no tick store at ${file}: \`ghtrader up\` creates it`);
  });
  return withEmbeddedDynamo(env, async (config, clients) => {
    const store = await openDuckDbTickStore({ path: file, storeIdBase: base.home });
    try {
      const ledger = new DynamoMigrationLedger(clients.doc, config.tables.migrationLedger, systemClock);
      const r = await migrateCommand(
        { store, ledger },
        {
          apply: Boolean(o.apply),
          retryFailed: Boolean(o.retryFailed),
          appliedBy: 'cli',
          ...(o.table ? { table: o.table } : {}),
        },
      );
      return r as unknown as MigrateView;
    } finally {
      await store.close();
    }
  });
}
