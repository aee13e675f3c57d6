/** `ghtrader jobs ...`: the same JobService the API uses, with the CLI's identity (`cli:<user>@<host>`, admin). */
import type { Command } from 'commander';
import { isTerminal } from '#shared/domain/control/jobs.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import type { RequestContext } from '#shared/services/job-service.ts';
import { createRuntime, type Runtime } from '#shared/services/runtime.ts';
import { attachToStack, CliUsageError, cliActor, cliLogger, parseParams, reportError } from '../cli-support.ts';
import { persistentSecret } from '../secrets.ts';

interface Global {
  home?: string;
  json?: boolean;
}

export async function withRuntime<T>(home: string | undefined, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const { config } = await attachToStack(home);
  // The same persisted secret as `ghtrader up`, so cursors printed here work in the console and back.
  const cursorSecret = config.auth.cursorSecret ?? (await persistentSecret(config.home, 'cursor.key'));
  const log = cliLogger({ logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const rt = await createRuntime(config, log, { cursorSecret });
  try {
    return await fn(rt);
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

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('submit, list, show, follow and cancel jobs');
  const g = (): Global => program.opts<Global>();

  jobs
    .command('kinds')
    .description('list the job kinds and their parameter schemas')
    .action(() =>
      withRuntime(g().home, async (rt) => {
        const kinds = rt.jobs.kinds();
        print(g().json, { items: kinds }, () => kinds.map((k) => `${k.kind.padEnd(20)} ${k.description}`).join('\n'));
      }).catch((e) => reportError(e, Boolean(g().json))),
    );

  jobs
    .command('submit <kind>')
    .description('submit a job; a duplicate of an active job returns that job')
    .option('--param <k=v...>', 'a parameter (repeatable); JSON values are parsed', [])
    .option('--params-json <json>', 'all parameters as one JSON object')
    .option('--note <text>', 'a note stored with the job')
    .option('--wait', 'wait until the job ends; exit 1 if it failed or was cancelled')
    .action((kind: string, o: { param: string[]; paramsJson?: string; note?: string; wait?: boolean }) =>
      withRuntime(g().home, async (rt) => {
        let params: Record<string, unknown> = parseParams(o.param);
        if (o.paramsJson) {
          try {
            params = { ...JSON.parse(o.paramsJson), ...params };
          } catch (err) {
            throw new CliUsageError(`--params-json is not valid JSON: ${(err as Error).message}`);
          }
        }
        const r = await rt.jobs.submit({ kind, params, ...(o.note ? { note: o.note } : {}) }, ctx());
        let job = r.job;
        if (o.wait) {
          while (!isTerminal(job.status)) {
            await new Promise((res) => setTimeout(res, 500));
            job = await rt.jobs.get(job.job_id);
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
      withRuntime(g().home, async (rt) => {
        const query = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
        const page = await rt.jobs.list(query);
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
      withRuntime(g().home, async (rt) => {
        const job = await rt.jobs.get(id);
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
      withRuntime(g().home, async (rt) => {
        const query: Record<string, string> = o.maxBytes === undefined ? {} : { max_bytes: o.maxBytes };
        if (!o.follow) {
          const tail = await rt.jobs.logTail(id, query);
          if (g().json) {
            print(true, tail, () => '');
            return;
          }
          if (tail.attempt === null) process.stderr.write(`(job ${id} has not started an attempt yet)\n`);
          else if (tail.truncated) process.stderr.write(`(older lines left out; --max-bytes shows more)\n`);
          process.stdout.write(formatLogText(tail.text));
          return;
        }
        await followLog(rt, id, query, Boolean(g().json));
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
      withRuntime(g().home, async (rt) => {
        const r = await rt.jobs.cancelBatch(
          {
            ...(o.kind.length > 0 ? { kinds: o.kind } : {}),
            ...(o.status.length > 0 ? { statuses: o.status } : {}),
            ...(o.var !== undefined ? { var: o.var } : {}),
            reason: o.reason,
          },
          ctx(),
        );
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
      withRuntime(g().home, async (rt) => {
        const job = await rt.jobs.cancel(id, o.reason ? { reason: o.reason } : {}, ctx());
        print(
          g().json,
          { job },
          () =>
            `${job.job_id} ${job.status}${job.cancel_requested_at ? ` (cancel requested ${job.cancel_requested_at})` : ''}`,
        );
      }).catch((e) => reportError(e, Boolean(g().json))),
    );
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
async function followLog(rt: Runtime, id: string, query: Record<string, string>, json: boolean): Promise<void> {
  const abort = new AbortController();
  const onSigint = () => {
    process.exitCode = 130;
    abort.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    let attempt: number | null = null;
    for await (const chunk of rt.jobs.followLog(id, query, { signal: abort.signal })) {
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
      const job = await rt.jobs.get(id);
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
