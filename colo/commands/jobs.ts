/**
 * `ghtrader jobs ...`: the same JobService the API uses, with the CLI's identity (`cli:<user>@<host>`, admin), or with
 * `--api URL` the same routes of the HTTP API as the token's owner. Each command gets its result from a `JobsSource`
 * (store or API) and prints it the same way either way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { findJobKind } from '#shared/domain/control/job-kinds/index.ts';
import { isTerminal, type JobRecord } from '#shared/domain/control/jobs.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import type { JobLogTail } from '#shared/services/job-log.ts';
import type {
  CancelBatchResult,
  JobListResult,
  JobLogChunk,
  KindView,
  RequestContext,
  SubmitResult,
} from '#shared/services/job-service.ts';
import { createRuntime, type Runtime } from '#shared/services/runtime.ts';
import { type ApiClient, allowApi, apiClient, seg } from '../api-client.ts';
import { attachToStack, CliUsageError, cliActor, cliLogger, parseParamsFor, reportError } from '../cli-support.ts';
import { persistentSecret } from '../secrets.ts';

interface Global {
  home?: string;
  json?: boolean;
  api?: string;
}

/** Run `fn` with a runtime on the stack under `home`, and the cursor secret it signs list cursors with. */
export async function withRuntime<T>(
  home: string | undefined,
  fn: (rt: Runtime, cursorSecret: string) => Promise<T>,
): Promise<T> {
  const { config } = await attachToStack(home);
  // The same persisted secret as `ghtrader up`, so cursors printed here work in the console and back.
  const cursorSecret = config.auth.cursorSecret ?? (await persistentSecret(config.home, 'cursor.key'));
  const log = cliLogger({ logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const rt = await createRuntime(config, log, { cursorSecret });
  try {
    return await fn(rt, cursorSecret);
  } finally {
    await rt.close();
  }
}

export function ctx(): RequestContext {
  return { actor: { actor: cliActor(), role: 'admin' }, requestId: ulidGen.next(), actorType: 'cli' };
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

type JobsQuery = Record<string, string>;

/** Where `ghtrader jobs` gets its results: the JobService with the store credentials, or the HTTP API (`--api`). */
export interface JobsSource {
  kinds(): Promise<readonly KindView[]>;
  submit(req: { kind: string; params: Record<string, unknown>; note?: string }): Promise<SubmitResult>;
  get(id: string): Promise<JobRecord>;
  list(query: JobsQuery): Promise<JobListResult>;
  logTail(id: string, query: JobsQuery): Promise<JobLogTail>;
  /** The newest attempt's tail, then new lines (later attempts too) until the job is terminal or `signal` aborts. */
  followLog(id: string, query: JobsQuery, signal: AbortSignal): AsyncIterable<JobLogChunk>;
  cancel(id: string, body: { reason?: string }): Promise<JobRecord>;
  cancelBatch(body: Record<string, unknown>): Promise<CancelBatchResult>;
  /** How often `submit --wait` re-reads the job. */
  readonly waitPollMs: number;
}

function storeJobs(rt: Runtime): JobsSource {
  return {
    kinds: async () => rt.jobs.kinds(),
    submit: (req) => rt.jobs.submit(req, ctx()),
    get: (id) => rt.jobs.get(id),
    list: (query) => rt.jobs.list(query),
    logTail: (id, query) => rt.jobs.logTail(id, query),
    followLog: (id, query, signal) => rt.jobs.followLog(id, query, { signal }),
    cancel: (id, body) => rt.jobs.cancel(id, body, ctx()),
    cancelBatch: (body) => rt.jobs.cancelBatch(body, ctx()),
    waitPollMs: 500,
  };
}

/** API polls (`submit --wait`, `logs --follow`) once a second. */
const API_POLL_MS = 1_000;
/** Tail size of each `logs --follow` poll through the API: new lines are found in it by overlap with the last one. */
const API_FOLLOW_TAIL_BYTES = 262_144;

function apiJobs(api: ApiClient): JobsSource {
  const get = (id: string) => api.get<JobRecord>(`/api/jobs/${seg(id)}`);
  const logTail = (id: string, query: JobsQuery) => api.get<JobLogTail>(`/api/jobs/${seg(id)}/log`, query);
  return {
    kinds: async () => (await api.get<{ items: KindView[] }>('/api/jobs/kinds')).items,
    submit: (req) => api.post<SubmitResult>('/api/jobs', req),
    get,
    list: (query) => api.get<JobListResult>('/api/jobs', query),
    logTail,
    followLog: (id, query, signal) => followViaApi({ get, logTail }, id, query, signal),
    cancel: async (id, body) => (await api.post<{ job: JobRecord }>(`/api/jobs/${seg(id)}/cancel`, body)).job,
    cancelBatch: (body) => api.post<CancelBatchResult>('/api/jobs/cancel-batch', body),
    waitPollMs: API_POLL_MS,
  };
}

/** The newest attempt a job record knows of (0: none started yet). */
function latestAttempt(job: JobRecord): number {
  return Math.max(job.attempt, ...job.attempts.map((a) => a.attempt));
}

/**
 * What `next` (a later tail of the same attempt) adds to `prev`: the rest after `prev` when `next` still starts with
 * it, else the rest after the end of `prev` found in `next`; not found (more than one tail was written between two
 * polls) -> all of `next`, flagged as a gap.
 */
export function newLogText(prev: string, next: string): { text: string; gap: boolean } {
  if (next.startsWith(prev)) return { text: next.slice(prev.length), gap: false };
  const anchor = prev.slice(-4096);
  const at = next.indexOf(anchor);
  return at < 0 ? { text: next, gap: true } : { text: next.slice(at + anchor.length), gap: false };
}

/**
 * `logs --follow` through the API, as `JobService.followLog` does it on the stores: the tail of the newest attempt
 * first, then, every second, the job record and then the new lines of each attempt up to its newest, until the job
 * is terminal (read before its last lines, which a worker stores before the final transition) or `signal` aborts.
 */
async function* followViaApi(
  api: { get(id: string): Promise<JobRecord>; logTail(id: string, q: JobsQuery): Promise<JobLogTail> },
  id: string,
  query: JobsQuery,
  signal: AbortSignal,
): AsyncGenerator<JobLogChunk> {
  let job = await api.get(id);
  const first = await api.logTail(id, query);
  let attempt = first.attempt ?? 0;
  let seen = first.text;
  if (first.attempt !== null && first.text !== '') {
    yield { attempt: first.attempt, text: first.text, truncated: first.truncated };
  }
  const tailBytes = String(Math.max(API_FOLLOW_TAIL_BYTES, Number(query.max_bytes) || 0));
  while (!isTerminal(job.status) && !signal.aborted) {
    try {
      await sleep(API_POLL_MS, undefined, { signal });
    } catch {
      return; // aborted
    }
    job = await api.get(id);
    for (let a = Math.max(attempt, 1); a <= latestAttempt(job); a++) {
      const tail = await api.logTail(id, { attempt: String(a), max_bytes: tailBytes });
      const fresh = newLogText(a === attempt ? seen : '', tail.text);
      attempt = a;
      seen = tail.text;
      if (fresh.text !== '') yield { attempt: a, text: fresh.text, truncated: fresh.gap };
    }
  }
}

/** Run `fn` with the jobs of the stack under `--home`, or of the API at `--api`. */
async function withJobs<T>(g: Global, fn: (jobs: JobsSource) => Promise<T>): Promise<T> {
  if (g.api !== undefined) return fn(apiJobs(apiClient(g.api)));
  return withRuntime(g.home, (rt) => fn(storeJobs(rt)));
}

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('submit, list, show, follow and cancel jobs');
  const g = (): Global => program.opts<Global>();

  jobs
    .command('kinds')
    .description('list the job kinds and their parameter schemas')
    .action(() =>
      withJobs(g(), async (src) => {
        const kinds = await src.kinds();
        print(g().json, { items: kinds }, () => kinds.map((k) => `${k.kind.padEnd(20)} ${k.description}`).join('\n'));
      }).catch((e) => reportError(e, Boolean(g().json))),
    );

  jobs
    .command('submit <kind>')
    .description('submit a job; a duplicate of an active job returns that job')
    .option(
      '--param <k=v...>',
      'a parameter (repeatable): text where the kind takes text, else JSON when it parses (seconds=2)',
      [],
    )
    .option('--params-json <json>', 'all parameters as one JSON object')
    .option('--note <text>', 'a note stored with the job')
    .option('--wait', 'wait until the job ends; exit 1 if it failed or was cancelled')
    .action((kind: string, o: { param: string[]; paramsJson?: string; note?: string; wait?: boolean }) =>
      withJobs(g(), async (src) => {
        let params: Record<string, unknown> = parseParamsFor(findJobKind(kind)?.params, o.param);
        if (o.paramsJson) {
          try {
            params = { ...JSON.parse(o.paramsJson), ...params };
          } catch (err) {
            throw new CliUsageError(`--params-json is not valid JSON: ${(err as Error).message}`);
          }
        }
        const r = await src.submit({ kind, params, ...(o.note ? { note: o.note } : {}) });
        let job = r.job;
        if (o.wait) {
          while (!isTerminal(job.status)) {
            await sleep(src.waitPollMs);
            job = await src.get(job.job_id);
          }
        }
        print(
          g().json,
          { job, deduped: r.deduped },
          () => `${job.job_id} ${job.kind} ${job.status}${r.deduped ? ' (deduped: already active)' : ''}`,
        );
        if (o.wait && job.status !== 'succeeded') process.exitCode = 1;
      }).catch((e) => reportError(e, Boolean(g().json))),
    );

  jobs
    .command('list')
    .description('list jobs, newest first')
    .option('--status <csv>', 'queued,running,succeeded,failed,cancelled')
    .option('--kind <kind>')
    .option('--var <var>', 'cu, au, ag or none')
    .option('--limit <n>', 'page size (clamped to 1..500)')
    .option('--cursor <cursor>')
    .action((o: Record<string, string | undefined>) =>
      withJobs(g(), async (src) => {
        const query: JobsQuery = {};
        for (const [k, v] of Object.entries(o)) if (v !== undefined) query[k] = v;
        const page = await src.list(query);
        print(g().json, page, () =>
          [
            ...page.items.map(
              (j) =>
                `${j.job_id}  ${j.status.padEnd(9)}  ${j.kind.padEnd(16)}  ${j.created_at}  ${j.pct === null ? '' : `${Math.round(j.pct * 100)}%`}`,
            ),
            `(${page.counts.queued} queued, ${page.counts.running} running)${page.next_cursor ? `  next: --cursor ${page.next_cursor}` : ''}`,
          ].join('\n'),
        );
      }).catch((e) => reportError(e, Boolean(g().json))),
    );

  jobs
    .command('show <id>')
    .description('show one job record')
    .action((id: string) =>
      withJobs(g(), async (src) => {
        const job = await src.get(id);
        print(g().json, job, () => JSON.stringify(job, null, 2));
      }).catch((e) => reportError(e, Boolean(g().json))),
    );

  jobs
    .command('logs <id>')
    .description('print the log tail of the newest attempt; --follow keeps printing new lines until the job ends')
    .option('--max-bytes <n>', 'tail size in bytes (default 64000, clamped to 1024..1048576)')
    .option('--follow', 'keep printing new lines (later attempts too) until the job ends (exit 0) or Ctrl-C')
    .addHelpText(
      'after',
      '\nWith --json: the tail as the API answers it ({attempt, text, bytes, truncated}); with --json --follow the\n' +
        "log's own NDJSON lines, as they are stored.",
    )
    .action((id: string, o: { maxBytes?: string; follow?: boolean }) =>
      withJobs(g(), async (src) => {
        const query: Record<string, string> = o.maxBytes === undefined ? {} : { max_bytes: o.maxBytes };
        if (!o.follow) {
          const tail = await src.logTail(id, query);
          if (g().json) {
            print(true, tail, () => '');
            return;
          }
          if (tail.attempt === null) process.stderr.write(`(job ${id} has not started an attempt yet)\n`);
          else if (tail.truncated) process.stderr.write(`(older lines left out; --max-bytes shows more)\n`);
          process.stdout.write(formatLogText(tail.text));
          return;
        }
        await followLog(src, id, query, Boolean(g().json));
      }).catch((e) => reportError(e, Boolean(g().json))),
    );

  jobs
    .command('cancel-batch')
    .description('cancel the queued and running jobs matching every filter given (at most 500 per call)')
    .option('--kind <kind>', 'a job kind (repeatable or comma-separated)', collect, [])
    .option('--status <status>', 'queued or running (repeatable or comma-separated; default both)', collect, [])
    .option('--var <var>', 'cu, au or ag')
    .option('--reason <text>', 'why these jobs are cancelled (required)')
    .action((o: { kind: string[]; status: string[]; var?: string; reason?: string }) =>
      withJobs(g(), async (src) => {
        const r = await src.cancelBatch({
          ...(o.kind.length > 0 ? { kinds: o.kind } : {}),
          ...(o.status.length > 0 ? { statuses: o.status } : {}),
          ...(o.var !== undefined ? { var: o.var } : {}),
          reason: o.reason,
        });
        print(g().json, r, () =>
          [
            `${r.cancel_requested} of ${r.matched} matching jobs cancelled or asked to stop` +
              (r.truncated ? '; more match: run it again' : ''),
            ...r.job_ids,
          ].join('\n'),
        );
      }).catch((e) => reportError(e, Boolean(g().json))),
    );

  jobs
    .command('cancel <id>')
    .description('cancel a queued or running job')
    .option('--reason <text>')
    .action((id: string, o: { reason?: string }) =>
      withJobs(g(), async (src) => {
        const job = await src.cancel(id, o.reason ? { reason: o.reason } : {});
        print(
          g().json,
          { job },
          () =>
            `${job.job_id} ${job.status}${job.cancel_requested_at ? ` (cancel requested ${job.cancel_requested_at})` : ''}`,
        );
      }).catch((e) => reportError(e, Boolean(g().json))),
    );

  // Every `jobs` command has its API route (`/api/jobs*`).
  allowApi(...jobs.commands);
}

/** A repeatable option's values; each may be a comma-separated list. */
function collect(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

/** Follow a job's log until it ends (exit 0) or Ctrl-C (exit 130). */
async function followLog(src: JobsSource, id: string, query: JobsQuery, json: boolean): Promise<void> {
  const abort = new AbortController();
  const onSigint = () => {
    process.exitCode = 130;
    abort.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    let attempt: number | null = null;
    for await (const chunk of src.followLog(id, query, abort.signal)) {
      if (json) {
        process.stdout.write(chunk.text);
        continue;
      }
      if (chunk.truncated) process.stderr.write('(older lines left out; --max-bytes shows more)\n');
      if (attempt !== null && chunk.attempt !== attempt) process.stdout.write(`--- attempt ${chunk.attempt} ---\n`);
      attempt = chunk.attempt;
      process.stdout.write(formatLogText(chunk.text));
    }
    if (!abort.signal.aborted && !json) {
      const job = await src.get(id);
      process.stderr.write(`(job ${id} ${job.status})\n`);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** NDJSON log lines as `<ts> <level> <msg> <other fields>`; a line that is not JSON is printed as it is. */
export function formatLogText(text: string): string {
  let out = '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let rec: Record<string, unknown> | null = null;
    try {
      const v: unknown = JSON.parse(line);
      if (v && typeof v === 'object' && !Array.isArray(v)) rec = v as Record<string, unknown>;
    } catch {
      // not JSON: printed raw below
    }
    if (!rec) {
      out += `${line}\n`;
      continue;
    }
    const { ts, level, msg, job_id: _job, attempt: _attempt, ...rest } = rec;
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
    out += `${String(ts ?? '')} ${String(level ?? '').padEnd(5)} ${String(msg ?? '')}${extra}\n`;
  }
  return out;
}
