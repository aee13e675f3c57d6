import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CliUsageError } from '#colo/cli-support.ts';
import { type CalendarCommandDeps, registerData, runCalendarCommand } from '#colo/commands/data.ts';
import { CalendarOutOfRangeError, InvalidDateError, UnknownVarietyError } from '#shared/errors/market.ts';

/** A holiday-list server on loopback: `/list.json` answers `body`, `/broken` 500, `/slow` never answers in time. */
let server: Server;
let base: string;
let body: unknown = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/list.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    } else if (req.url === '/broken') {
      res.writeHead(500);
      res.end('down');
    } else if (req.url === '/slow') {
      setTimeout(() => res.end('[]'), 2_000);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let home: string;

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'ghtrader-calendar-'));
  body = [];
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(home, { recursive: true, force: true });
});

function deps(over: Partial<CalendarCommandDeps> = {}): CalendarCommandDeps {
  return {
    home,
    holidayUrl: `${base}/list.json`,
    fetch: globalThis.fetch,
    now: () => new Date('2026-12-20T10:00:00Z'),
    timeoutMs: 500,
    ...over,
  };
}

async function writeOverrides(value: unknown): Promise<void> {
  await mkdir(path.join(home, 'artifacts', 'calendar'), { recursive: true });
  await writeFile(path.join(home, 'artifacts', 'calendar', 'overrides.json'), JSON.stringify(value));
}

describe('ghtrader data calendar (runCalendarCommand)', () => {
  it('lists trading days of the shipped calendar without any files in the home', async () => {
    // Act
    const r = await runCalendarCommand({ start: '2025-01-24', end: '2025-02-07' }, deps());

    // Assess
    expect(r.trading_days).toEqual(['2025-01-24', '2025-01-27', '2025-02-05', '2025-02-06', '2025-02-07']);
    expect(r.overrides.present).toBe(false);
    expect(r.refresh).toBeNull();
    expect(r.covers).toEqual({ from: '2010-01-01', to: '2026-12-31' });
  });

  it('prints each day’s windows in exchange time and UTC with --sessions --var', async () => {
    // Act
    const r = await runCalendarCommand({ start: '2025-01-13', end: '2025-01-13', sessions: true, var: 'ag' }, deps());

    // Assess
    const night = r.sessions?.[0]?.windows[0];
    expect(night).toMatchObject({
      session: 'night',
      start_cst: '2025-01-10 21:00:00',
      end_cst: '2025-01-11 02:30:00',
      start_utc: '2025-01-10T13:00:00Z',
      end_utc: '2025-01-10T18:30:00Z',
    });
    expect(night?.end_ns.endsWith('999999999')).toBe(true);
  });

  it('reports the applied exchange event and a dropped night', async () => {
    // Act
    const r = await runCalendarCommand({ start: '2019-12-26', end: '2019-12-26', sessions: true, var: 'cu' }, deps());
    const gap = await runCalendarCommand({ start: '2025-02-05', end: '2025-02-05', sessions: true, var: 'cu' }, deps());

    // Assess
    expect(r.sessions?.[0]?.applied_events).toEqual(['shfe_2019_12_25_delay_open']);
    expect(gap.sessions?.[0]?.night_dropped).toBe('holiday_gap');
  });

  it('applies the operator overrides file from the home', async () => {
    // Prepare
    await writeOverrides({ add_holidays: ['2025-01-09'] });

    // Act
    const r = await runCalendarCommand({ start: '2025-01-08', end: '2025-01-10' }, deps());

    // Assess
    expect(r.overrides.present).toBe(true);
    expect(r.trading_days).toEqual(['2025-01-08', '2025-01-10']);
  });

  it('answers --check with the day, its neighbours and the windows of every variety', async () => {
    // Act
    const r = await runCalendarCommand({ check: '2025-02-04' }, deps());

    // Assess
    expect(r.day).toMatchObject({ date: '2025-02-04', is_trading_day: false, prev: '2025-01-27', next: '2025-02-05' });
    expect(r.day?.windows).toEqual([]);
  });

  it('refreshes from the URL, stores the list and extends coverage on later runs', async () => {
    // Prepare
    body = { holidays: ['2027-01-01', '20270211', 'n/a', '2027-01-02'] };

    // Act
    const refreshed = await runCalendarCommand({ refresh: true }, deps());
    const later = await runCalendarCommand({ check: '2027-01-04' }, deps());

    // Assess
    expect(refreshed.refreshed).toBe(true);
    expect(refreshed.warnings).toEqual([expect.stringMatching(/^refresh_items_dropped: 1 /)]);
    const stored = JSON.parse(await readFile(path.join(home, 'artifacts', 'calendar', 'refreshed.json'), 'utf8'));
    expect(stored).toMatchObject({
      holidays: ['2027-01-01', '2027-02-11'],
      covers: { to: '2027-12-31' },
      weekends_ignored: 1,
    });
    expect(later.covers.to).toBe('2027-12-31');
    expect(later.day).toMatchObject({ is_trading_day: true, prev: '2026-12-31' });
    expect(later.refreshed).toBe(false);
  });

  it('reports disagreements inside the shipped coverage and never applies them', async () => {
    // Prepare
    body = ['2025-01-02', '2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31', '2025-02-03', '2025-02-04'];

    // Act
    const r = await runCalendarCommand({ refresh: true, start: '2025-01-02', end: '2025-01-02' }, deps());

    // Assess
    expect(r.disagreements).toContainEqual({ date: '2025-01-02', shipped: 'open', refreshed: 'holiday' });
    expect(r.trading_days).toEqual(['2025-01-02']);
  });

  it.each([
    ['/broken', 'HTTP 500'],
    ['/slow', 'timeout'],
    ['/list.json', 'without any list'],
  ])('keeps the shipped calendar with a warning when %s cannot be used', async (urlPath, reason) => {
    // Prepare
    body = { note: 'no lists here' };

    // Act
    const r = await runCalendarCommand({ refresh: true, url: `${base}${urlPath}` }, deps());

    // Assess
    expect(r.ok).toBe(true);
    expect(r.refreshed).toBe(false);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^refresh_(unreachable|unusable): /);
    expect(r.warnings[0]?.toLowerCase()).toContain(reason.toLowerCase());
  });

  it.each([
    [{ start: '2025-02-30' }, InvalidDateError],
    [{ start: '2025-01-10', end: '2025-01-01' }, CliUsageError],
    [{ start: '2025-01-10', sessions: true }, CliUsageError],
    [{ start: '2025-01-10', sessions: true, var: 'rb' }, UnknownVarietyError],
    [{ start: '2027-01-04', end: '2027-01-05' }, CalendarOutOfRangeError],
  ])('refuses the bad input %j', async (o, errorClass) => {
    // Act
    const act = runCalendarCommand(o, deps());

    // Assess
    await expect(act).rejects.toThrow(errorClass);
  });

  it('refuses an overrides file that does not match the schema', async () => {
    // Prepare
    await writeOverrides({ add_holidays: ['next friday'] });

    // Act
    const act = runCalendarCommand({ start: '2025-01-08', end: '2025-01-10' }, deps());

    // Assess
    await expect(act).rejects.toThrow(/overrides\.json: invalid calendar overrides/);
  });
});

class ExitCalled extends Error {
  constructor(readonly code: number | undefined) {
    super(`process.exit(${code})`);
  }
}

/** Run `ghtrader --home <home> <args>` against a fresh program; returns stdout and the exit code (0 if none). */
async function cli(args: string[]): Promise<{ out: string; code: number }> {
  const program = new Command().option('--home <dir>').option('--json').exitOverride();
  registerData(program);
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  vi.spyOn(process, 'exit').mockImplementation((code?: string | number | null) => {
    throw new ExitCalled(Number(code ?? 0));
  });
  try {
    await program.parseAsync(['node', 'ghtrader', '--home', home, ...args]);
    return { out, code: 0 };
  } catch (err) {
    if (err instanceof ExitCalled) return { out, code: err.code ?? 0 };
    throw err;
  } finally {
    vi.restoreAllMocks();
  }
}

describe('registerData', () => {
  it('prints the JSON report and exits 0', async () => {
    // Act
    const r = await cli(['--json', 'data', 'calendar', '--start', '2026-01-09', '--end', '2026-01-12']);

    // Assess
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, trading_days: ['2026-01-09', '2026-01-12'] });
  });

  it('exits 2 with the stable error code for a date beyond coverage', async () => {
    // Act
    const r = await cli(['--json', 'data', 'calendar', '--start', '2027-01-04']);

    // Assess
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ error: { code: 'calendar_out_of_range' } });
  });

  it('exits 2 for --sessions without --var', async () => {
    // Act
    const r = await cli(['data', 'calendar', '--start', '2025-01-13', '--sessions']);

    // Assess
    expect(r.code).toBe(2);
  });

  it('prints readable windows without --json', async () => {
    // Act
    const r = await cli(['data', 'calendar', '--start', '2025-01-13', '--sessions', '--var', 'cu']);

    // Assess
    expect(r.code).toBe(0);
    expect(r.out).toContain('night 2025-01-10 21:00:00 – 2025-01-11 01:00:00 CST');
  });
});
