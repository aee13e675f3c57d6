/**
 * §3.2 on the simulator: when the provider's `trading_time` of the main contract differs from the session version in
 * effect, `data.schedule` appends a version from the observed day to `calendar/sessions.json` and reports
 * `sessions_changed`; the same sessions again change nothing; once that day has closed, validation uses and reports
 * the appended version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContractInfo, MarketDataSource } from '#shared/domain/market/ports.ts';
import type { TradingTime } from '#shared/domain/market/sessions.ts';
import { readSessionsFile } from '#shared/services/data/sessions.ts';
import { createDataTestStack, type DataTestStack, runJob } from './support.ts';

const LATE_NIGHT: TradingTime = {
  day: [
    ['09:00:00', '10:15:00'],
    ['10:30:00', '11:30:00'],
    ['13:30:00', '15:00:00'],
  ],
  night: [['21:00:00', '26:00:00']],
};

describe('session versions observed by the schedule job', () => {
  let d: DataTestStack;
  let changed = false;
  beforeAll(async () => {
    // The provider starts reporting a later cu night close once `changed` is set (on top of the real simulator).
    const wrap = (m: MarketDataSource): MarketDataSource =>
      Object.assign(Object.create(m) as MarketDataSource, {
        async listContracts(variety: Parameters<MarketDataSource['listContracts']>[0], opts?: object) {
          const list: ContractInfo[] = await m.listContracts(variety, opts);
          return changed && variety === 'cu' ? list.map((c) => ({ ...c, trading_time: LATE_NIGHT })) : list;
        },
      });
    d = await createDataTestStack({
      env: { GHTRADER_L5_START_DATE: '2025-02-17', GHTRADER_HEALTH_WAL_WAIT_S: '1' },
      wrapMarket: wrap,
    });
  }, 60_000);
  afterAll(async () => {
    await d?.close();
  });

  it('appends a version when the provider differs, once, and validation reports it', async () => {
    // Act: the provider agrees with the shipped sessions
    const agree = await runJob(d, 'data.schedule', { var: 'cu' });
    // Assess
    expect(agree.status, JSON.stringify(agree.error)).toBe('succeeded');
    expect(agree.result).toMatchObject({ sessions_changed: false, sessions: { checked: true, change: 'none' } });
    expect(await readSessionsFile(d.ctx.artifacts)).toEqual({ version: 1, varieties: {} });

    // Act: the provider now reports a later night close
    changed = true;
    const differ = await runJob(d, 'data.schedule', { var: 'cu' });
    // Assess: a version from the last scheduled day, the schedule itself unchanged
    expect(differ.status, JSON.stringify(differ.error)).toBe('succeeded');
    const result = differ.result as { sessions: { observed_day: string; contract: string }; relation: string };
    expect(result).toMatchObject({
      relation: 'noop',
      sessions_changed: true,
      sessions: { checked: true, change: 'appended', in_effect_from: '2013-12-23' },
    });
    const file = await readSessionsFile(d.ctx.artifacts);
    expect(file.varieties.cu).toEqual([{ effective_from: result.sessions.observed_day, trading_time: LATE_NIGHT }]);
    expect(result.sessions.contract).toMatch(/^SHFE\.cu\d{4}$/);

    // Act: the same sessions again
    const again = await runJob(d, 'data.schedule', { var: 'cu' });
    // Assess
    expect(again.result).toMatchObject({
      sessions_changed: false,
      sessions: { change: 'none', in_effect_from: result.sessions.observed_day },
    });
    expect(await readSessionsFile(d.ctx.artifacts)).toEqual(file);

    // Act: two days later (the observed day has closed), validation of the scheduled days (nothing built) reports
    // the session history it used
    await d.restartSim({ start: '2025-03-06 10:00:00' });
    const v = await runJob(d, 'data.validate', { var: 'cu' });
    const reportUri = (v.result as { report_uri?: string } | null)?.report_uri;
    const latest = await d.ctx.artifacts.get('reports/main_l5_validate/KQ.m@SHFE.cu_latest.json');
    // Assess
    expect(latest, `validate ended ${v.status}: ${JSON.stringify(v.error)} ${reportUri}`).not.toBeNull();
    const report = JSON.parse(Buffer.from(latest as Uint8Array).toString('utf8')) as {
      sessions: { source: string; versions: { effective_from: string }[] };
    };
    expect(report.sessions.source).toBe('shipped+provider');
    expect(report.sessions.versions.map((x) => x.effective_from)).toEqual(['2013-12-23', result.sessions.observed_day]);
  }, 120_000);
});
