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
  const jobs = program.command('jobs').description('submit, list, show and cancel jobs');
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
