/**
 * Demo history for `ghtrader up` (issue 4 scope 7): on the first start of a home, about 20 trading days of main_l5
 * history per variety are built from the simulator through the real jobs (`data.schedule`, then `data.main_l5`),
 * in the background, so the console's Data page has something to show. The schedule start is the operator's
 * `GHTRADER_L5_START_DATE[_<VAR>]` when set; otherwise a demo start 20 trading days back, chosen once and kept in
 * `$GHTRADER_HOME/state/demo-l5-start.json` (a start that moved every day would renumber segments and force
 * rebuilds, §4.1).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { isTerminal } from '#shared/domain/control/jobs.ts';
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { cstDayOf } from '#shared/domain/market/cst.ts';
import type { Logger } from '#shared/log.ts';
import { BuildItems } from '#shared/services/data/build-items.ts';
import type { RequestContext } from '#shared/services/job-service.ts';
import type { Runtime } from '#shared/services/runtime.ts';

export const DEMO_TRADING_DAYS = 20;
export const DEMO_VARIETIES = ['cu', 'au', 'ag'] as const;
/** Day batches at once for the demo: half the local runner's default 4 slots, so operators' jobs never queue behind it. */
export const DEMO_BUILD_CONCURRENCY = 2;

const StartFile = z.object({ start: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) });

/** Env additions for the demo (start date, gap tolerance), none where the operator configured a value. */
export async function demoStartEnv(
  home: string,
  env: Record<string, string | undefined>,
  calendar: TradingCalendar,
  nowMs: number,
): Promise<Record<string, string>> {
  if (Object.keys(env).some((k) => k.startsWith('GHTRADER_L5_START_DATE') && (env[k] ?? '').trim() !== '')) return {};

  const file = path.join(home, 'state', 'demo-l5-start.json');
  let start: string;
  try {
    start = StartFile.parse(JSON.parse(await readFile(file, 'utf8'))).start;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(`${file} is unreadable: ${(err as Error).message}`);
    const today = cstDayOf(BigInt(nowMs) * 1_000_000n);
    let d = calendar.isTradingDay(today) ? today : calendar.prevTradingDay(today);
    for (let i = 1; i < DEMO_TRADING_DAYS; i++) d = calendar.prevTradingDay(d);
    start = d;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify({ start })}\n`);
  }
  // The simulator injects provider outages on purpose (≤ 1 per main contract-day, 10–120 s); the default gap policy
  // (none over 30 s) would reject every demo build, so the demo tolerates up to one per day unless configured.
  const gapKey = 'GHTRADER_L5_VALIDATE_GAP_BLOCK_GT30';
  const gap: Record<string, string> = Object.keys(env).some((k) => k.startsWith(gapKey) && (env[k] ?? '').trim() !== '')
    ? {}
    : { [gapKey]: String(DEMO_TRADING_DAYS) };
  return { GHTRADER_L5_START_DATE: start, ...gap };
}

const ctx: RequestContext = {
  actor: { actor: 'system:up-demo', role: 'admin' },
  requestId: 'ghtrader-up-demo-data',
  actorType: 'system',
};

/**
 * Build the demo history once per home (marker `state/demo-data-seeded`); resolves when every variety's build has
 * ended. Failures are logged with the job or build that failed and leave the marker unset, so the next start retries.
 */
export async function seedDemoData(rt: Runtime, log: Logger, signal: AbortSignal): Promise<{ seeded: boolean }> {
  const marker = path.join(rt.config.home, 'state', 'demo-data-seeded');
  if (
    await readFile(marker).then(
      () => true,
      () => false,
    )
  )
    return { seeded: false };
  const builds = new BuildItems(rt.clients.doc, rt.config.tables.jobs);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const waitJob = async (jobId: string) => {
    for (;;) {
      if (signal.aborted) throw new Error('stopped');
      const j = await rt.jobs.get(jobId);
      if (isTerminal(j.status)) return j;
      await sleep(500);
    }
  };
  let allOk = true;
  for (const v of DEMO_VARIETIES) {
    const s = await waitJob((await rt.jobs.submit({ kind: 'data.schedule', params: { var: v } }, ctx)).job.job_id);
    if (s.status !== 'succeeded') {
      log.error({ var: v, job_id: s.job_id, error: s.error }, 'up.demo_schedule_failed');
      allOk = false;
      continue;
    }
    const plan = await waitJob(
      (await rt.jobs.submit({ kind: 'data.main_l5', params: { var: v, max_concurrency: DEMO_BUILD_CONCURRENCY } }, ctx))
        .job.job_id,
    );
    if (plan.status !== 'succeeded') {
      log.error({ var: v, job_id: plan.job_id, error: plan.error }, 'up.demo_main_l5_failed');
      allOk = false;
      continue;
    }
    const buildId = (plan.result as { build_id: string }).build_id;
    for (;;) {
      if (signal.aborted) throw new Error('stopped');
      const item = await builds.require(buildId);
      if (item.status === 'promoted' || item.status === 'rejected' || item.status === 'failed') {
        log.info({ var: v, build_id: buildId, status: item.status }, 'up.demo_build_done');
        if (item.status !== 'promoted') allOk = false;
        break;
      }
      await sleep(1000);
    }
  }
  if (allOk) await writeFile(marker, `${new Date().toISOString()}\n`);
  return { seeded: allOk };
}
