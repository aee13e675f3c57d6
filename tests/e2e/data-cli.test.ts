/**
 * The data-chain command line against a running `ghtrader up` (issue 4): `data schedule`, `data main-l5 --wait`
 * (then again: a no-op), `data validate`, `data migrate` (dry run), bad input; the job steps again through the HTTP API
 * (`--api`, following the build's finalize job); and the §1.5 fail-fast: a home whose
 * tick table lacks the provenance columns stops `ghtrader up` without DDL, and `ghtrader data migrate --apply` (no
 * stack needed) repairs it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { cstDayOf } from '#shared/domain/market/cst.ts';
import { DUCKDB_DIALECT } from '#shared/infra/tickstore/duckdb.ts';
import { apiCli, lastJson, type RunningStack, runCli, startUp } from './support/ghtrader-process.ts';

const cli = runCli;

/** A schedule start a few trading days back, so the build stays small. */
function recentStart(days: number): string {
  const cal = shippedCalendar();
  const today = cstDayOf(BigInt(Date.now()) * 1_000_000n);
  let d = cal.isTradingDay(today) ? today : cal.prevTradingDay(today);
  for (let i = 1; i < days; i++) d = cal.prevTradingDay(d);
  return d;
}

const ENV = { GHTRADER_L5_START_DATE: recentStart(5), GHTRADER_L5_VALIDATE_GAP_BLOCK_GT30: '10' };

describe('ghtrader data … against a running stack', () => {
  let home: string;
  let stack: RunningStack;
  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'ghtrader-e2e-data-'));
    stack = await startUp(home, ['--no-demo'], 30_000, ENV);
  }, 40_000);
  afterAll(async () => {
    await stack?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('builds the schedule and main_l5, re-runs as a no-op, validates and shows an empty migration plan', async () => {
    // Act
    const schedule = await cli(['data', 'schedule', '--var', 'cu', '--home', home, '--json'], ENV);
    const build = await cli(['data', 'main-l5', '--var', 'cu', '--wait', '--home', home, '--json'], ENV);
    const again = await cli(['data', 'main-l5', '--var', 'cu', '--wait', '--home', home, '--json'], ENV);
    const validate = await cli(
      ['data', 'validate', '--var', 'cu', '--no-provider-check', '--home', home, '--json'],
      ENV,
    );
    const migrate = await cli(['data', 'migrate', '--home', home, '--json'], ENV);
    const bad = await cli(['data', 'main-l5', '--var', 'xx', '--home', home, '--json'], ENV);

    // Assert
    expect(schedule.code, schedule.stdout + schedule.stderr).toBe(0);
    expect(lastJson(schedule)).toMatchObject({ ok: true, relation: 'initial' });
    expect(build.code, build.stdout + build.stderr).toBe(0);
    const b = lastJson(build);
    expect(b).toMatchObject({ ok: true, status: 'promoted', mode: 'update' });
    expect(b.days_total as number).toBeGreaterThanOrEqual(3);
    expect(b.rows_total as number).toBeGreaterThan(20_000 * (b.days_total as number));
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(lastJson(again)).toMatchObject({ ok: true, status: 'promoted', days_total: 0, rows_total: 0 });
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(lastJson(validate)).toMatchObject({ ok: true });
    expect(migrate.code, migrate.stdout + migrate.stderr).toBe(0);
    expect(lastJson(migrate)).toMatchObject({ ok: true, mode: 'dry_run', migrations: [] });
    expect(bad.code).toBe(2);
  }, 300_000);

  it('runs the job steps through the HTTP API with an operator token, as the direct mode prints them', async () => {
    // Prepare: an operator token for the stack's admin; the API mode has no store credentials
    const made = await cli(
      ['tokens', 'create', '--name', 'e2e-data', '--role', 'operator', '--owner', 'admin', '--home', home, '--json'],
      ENV,
    );
    const token = lastJson<{ token: string }>(made).token;
    const viaApi = (args: string[]) =>
      apiCli({ url: stack.banner.url, token, home, env: ENV, timeoutMs: 240_000 }, [...args, '--json']);

    // Act
    const schedule = await viaApi(['data', 'schedule', '--var', 'cu']);
    const build = await viaApi(['data', 'main-l5', '--var', 'cu', '--wait', '--timeout-s', '120']);
    const validate = await viaApi(['data', 'validate', '--var', 'cu', '--no-provider-check']);
    const migrate = await viaApi(['data', 'migrate']);
    const calendar = await viaApi(['data', 'calendar']);
    const calendarDay = await viaApi(['data', 'calendar', '--check', '2026-01-05']);

    // Assert: nothing new to build; the build summary comes from its finalize job
    expect(made.code, made.stdout + made.stderr).toBe(0);
    expect(schedule.code, schedule.stdout + schedule.stderr).toBe(0);
    expect(lastJson(schedule)).toMatchObject({ ok: true, relation: 'noop' });
    expect(build.code, build.stdout + build.stderr).toBe(0);
    expect(lastJson(build)).toMatchObject({ ok: true, status: 'promoted', days_total: 0, rows_total: 0 });
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(lastJson(validate)).toMatchObject({ ok: true });
    expect(migrate.code).toBe(2);
    expect(lastJson(migrate)).toMatchObject({
      error: { code: 'bad_input', message: expect.stringContaining('data migrate is not available with --api') },
    });
    // The calendar through its data.calendar job; the day views need the calendar itself and stay local.
    expect(calendar.code, calendar.stdout + calendar.stderr).toBe(0);
    expect(lastJson(calendar)).toMatchObject({ ok: true, refreshed: false, covers: { from: '2010-01-01' } });
    expect(calendarDay.code).toBe(2);
    expect(calendarDay.stdout + calendarDay.stderr).toContain('--check is not available with --api');
    for (const r of [schedule, build, validate, migrate, calendar]) expect(r.stdout + r.stderr).not.toContain(token);
  }, 300_000);
});

describe('a tick table without the provenance columns', () => {
  let home: string;
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('stops ghtrader up with the migrate command and no DDL; migrate --apply repairs it', async () => {
    // Prepare: a legacy-shaped tick table (no underlying_contract, segment_id, schedule_hash)
    home = await mkdtemp(path.join(tmpdir(), 'ghtrader-e2e-legacy-'));
    const provenance = ['underlying_contract', 'segment_id', 'schedule_hash'];
    const legacy = {
      ...TABLES.ticksMainL5,
      columns: TABLES.ticksMainL5.columns.filter((c) => !provenance.includes(c.name)),
    };
    const file = path.join(home, 'ticks.duckdb');
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    for (const sql of DUCKDB_DIALECT.createTable(legacy)) await conn.run(sql);
    conn.closeSync();
    db.closeSync();

    // Act
    const refused = await startUp(home, ['--no-demo', '--no-sim'], 30_000, ENV).then(
      async (s) => {
        await s.stop();
        return null;
      },
      (err: Error) => err.message,
    );
    const check = await DuckDBInstance.create(file);
    const c2 = await check.connect();
    const cols = (
      await c2.runAndReadAll(
        `SELECT column_name FROM information_schema.columns WHERE table_name = '${TABLES.ticksMainL5.name}'`,
      )
    )
      .getRows()
      .map((r) => String(r[0]));
    c2.closeSync();
    check.closeSync();
    const migrate = await cli(['data', 'migrate', '--apply', '--home', home, '--json'], ENV);
    const up = await startUp(home, ['--no-demo', '--no-sim'], 30_000, ENV);
    await up.stop();

    // Assert
    expect(refused).toContain(
      `schema contract violation: table ${TABLES.ticksMainL5.name} missing required columns [underlying_contract, segment_id, schedule_hash]; run: ghtrader data migrate --apply`,
    );
    expect(cols.filter((c) => provenance.includes(c))).toEqual([]);
    expect(migrate.code, migrate.stdout + migrate.stderr).toBe(0);
    expect(lastJson(migrate)).toMatchObject({ ok: true, mode: 'apply' });
    expect(up.banner.url).toMatch(/^http:/);
  }, 120_000);
});
