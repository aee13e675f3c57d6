/**
 * Job `data.calendar` (control-chain §4; data-chain §3.1) on the real job stack: with `refresh` it downloads the
 * holiday list from `TQ_CHINESE_HOLIDAY_URL` (a loopback server here) and stores it as `calendar/refreshed.json` in
 * the artifact store, where every data job's calendar (`loadDataCalendar`) picks it up; an unreachable list is a
 * warning and the calendar in effect stays; the job holds `calendar:exchange=SHFE` and a source slot; a caller cannot
 * name the URL.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALENDAR_LOCK_KEY, dataCalendar } from '#shared/domain/control/job-kinds/data.ts';
import { ValidationFailedError } from '#shared/errors/control.ts';
import { loadDataCalendar } from '#shared/services/data/context.ts';
import { createDataTestStack, type DataTestStack, runJob } from './support.ts';

let server: Server;
let body: unknown = [];
let status = 200;
let d: DataTestStack;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/holidays.json`;
  d = await createDataTestStack({ env: { TQ_CHINESE_HOLIDAY_URL: url } });
});

afterAll(async () => {
  await d?.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('data.calendar', () => {
  it('reports the shipped calendar without refresh, storing nothing', async () => {
    // Act
    const job = await runJob(d, 'data.calendar', {});

    // Assess
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({ ok: true, refreshed: false, refresh: null, covers: { to: '2026-12-31' } });
    expect(await d.ctx.artifacts.get('calendar/refreshed.json')).toBeNull();
  });

  it('keeps the calendar in effect with a warning when the list is unreachable', async () => {
    // Prepare
    status = 503;

    // Act
    const job = await runJob(d, 'data.calendar', { refresh: true });

    // Assess
    status = 200;
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({
      refreshed: false,
      warnings: [expect.stringMatching(/^refresh_unreachable: .*HTTP 503/)],
    });
    expect(await d.ctx.artifacts.get('calendar/refreshed.json')).toBeNull();
  });

  it('stores a refreshed list that extends every data job’s calendar past the shipped coverage', async () => {
    // Prepare
    body = { holidays: ['2027-01-01', '2027-02-11'] };

    // Act
    const job = await runJob(d, 'data.calendar', { refresh: true });

    // Assess
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({
      ok: true,
      refreshed: true,
      covers: { from: '2010-01-01', to: '2027-12-31' },
      refresh: { covers: { to: '2027-12-31' }, holidays_total: 2 },
      disagreements: [],
    });
    const cal = await loadDataCalendar(d.ctx.artifacts);
    expect(cal.covers.to).toBe('2027-12-31');
    expect(cal.isTradingDay('2027-01-01')).toBe(false);
    expect(cal.isTradingDay('2027-01-04')).toBe(true);
  });

  it('is one source-bound writer under calendar:exchange=SHFE, and takes no URL from the caller', async () => {
    // Assess
    expect(dataCalendar.locks({ refresh: true })).toEqual([CALENDAR_LOCK_KEY]);
    expect(CALENDAR_LOCK_KEY).toBe('calendar:exchange=SHFE');
    expect(dataCalendar.sourceBound).toBe(true);
    await expect(
      d.stack.rt.jobs.submit(
        { kind: 'data.calendar', params: { refresh: true, url: 'http://169.254.169.254/' } },
        { actor: { actor: 'test', role: 'operator' }, requestId: 'r' },
      ),
    ).rejects.toBeInstanceOf(ValidationFailedError);
  });
});
