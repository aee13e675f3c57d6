import { describe, expect, it } from 'vitest';
import {
  buildMainSchedule,
  type ContinuousMapping,
  classifyScheduleChange,
  MainScheduleResolver,
  normaliseUnderlying,
  resolveMainContract,
  type ScheduleRow,
  scheduleCanonicalText,
  scheduleHash,
  schedulePrefixHashes,
} from '#shared/domain/data/schedule.ts';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import {
  MainScheduleNotFoundError,
  ScheduleBackwardRollError,
  ScheduleForeignUnderlyingError,
  ScheduleInputError,
} from '#shared/errors/data.ts';

const calendar = shippedCalendar();

const VECTOR_ROWS: ScheduleRow[] = [
  { trading_day: '2025-01-02', main_contract: 'SHFE.cu2501', segment_id: 0 },
  { trading_day: '2025-01-03', main_contract: 'SHFE.cu2501', segment_id: 0 },
  { trading_day: '2025-01-04', main_contract: 'SHFE.cu2502', segment_id: 1 },
];

function mapping(observations: [string, string][], asOf = '2025-12-31'): ContinuousMapping {
  return {
    exchange: 'SHFE',
    variety: 'cu',
    observations: observations.map(([trading_day, underlying]) => ({ trading_day, underlying })),
    as_of: asOf,
  };
}

function build(observations: [string, string][], start: string, today: string, asOf?: string) {
  return buildMainSchedule({ calendar, mapping: mapping(observations, asOf), start, today });
}

describe('schedule_hash', () => {
  it('reproduces the spec vector f25225a1507bb808', () => {
    // Act
    const h = scheduleHash(VECTOR_ROWS);

    // Assess
    expect(h).toBe('f25225a1507bb808');
  });

  it('reproduces the 1-row and 2-row prefix vectors in one pass', () => {
    // Act
    const prefixes = schedulePrefixHashes(VECTOR_ROWS);

    // Assess
    expect(prefixes).toEqual(['76ef5715bc2bd60d', 'd1316d4913c783dd', 'f25225a1507bb808']);
    expect(scheduleHash(VECTOR_ROWS.slice(0, 1))).toBe('76ef5715bc2bd60d');
    expect(scheduleHash(VECTOR_ROWS.slice(0, 2))).toBe('d1316d4913c783dd');
  });

  it('hashes the header and LF-terminated lines with no quoting or index', () => {
    // Act
    const text = scheduleCanonicalText(VECTOR_ROWS.slice(0, 1));

    // Assess
    expect(text).toBe('date,main_contract,segment_id\n2025-01-02,SHFE.cu2501,0\n');
  });

  it('refuses a contract that does not match EXCHANGE.code', () => {
    // Prepare
    const rows = [{ trading_day: '2025-01-02', main_contract: 'cu2501', segment_id: 0 }];

    // Act
    const act = () => scheduleHash(rows);

    // Assess
    expect(act).toThrow(ScheduleInputError);
  });
});

describe('normaliseUnderlying', () => {
  it.each([
    ['cu2502', 'SHFE.cu2502'],
    ['SHFE.CU2502', 'SHFE.cu2502'],
    ['shfe.cu2502', 'SHFE.cu2502'],
    ['KQ.cu2502', 'SHFE.cu2502'],
    ['DCE.i2505', 'DCE.i2505'],
  ])('normalises %s to %s', (raw, expected) => {
    // Act
    const s = normaliseUnderlying(raw, 'SHFE');

    // Assess
    expect(s).toBe(expected);
  });
});

describe('buildMainSchedule', () => {
  it('expands observations into a step function over trading days with segments (acceptance 6)', () => {
    // Prepare: 2025-01-04/05 are a weekend, so the third trading day is Monday 2025-01-06.
    const obs: [string, string][] = [
      ['2025-01-02', 'cu2501'],
      ['2025-01-06', 'SHFE.CU2502'],
    ];

    // Act
    const { schedule } = build(obs, '2025-01-02', '2025-01-06');

    // Assess
    expect(schedule.rows).toEqual([
      { trading_day: '2025-01-02', main_contract: 'SHFE.cu2501', segment_id: 0 },
      { trading_day: '2025-01-03', main_contract: 'SHFE.cu2501', segment_id: 0 },
      { trading_day: '2025-01-06', main_contract: 'SHFE.cu2502', segment_id: 1 },
    ]);
    expect(schedule.alias).toBe('KQ.m@SHFE.cu');
    expect(schedule.schedule_hash).toBe(scheduleHash(schedule.rows));
  });

  it('carries an observation from before the window forward and omits days before any observation', () => {
    // Prepare
    const carried: [string, string][] = [['2024-12-20', 'cu2502']];
    const late: [string, string][] = [['2025-01-06', 'cu2502']];

    // Act
    const a = build(carried, '2025-01-02', '2025-01-03').schedule;
    const b = build(late, '2025-01-02', '2025-01-07').schedule;

    // Assess
    expect(a.rows.map((r) => [r.trading_day, r.main_contract])).toEqual([
      ['2025-01-02', 'SHFE.cu2502'],
      ['2025-01-03', 'SHFE.cu2502'],
    ]);
    expect(b.rows.map((r) => r.trading_day)).toEqual(['2025-01-06', '2025-01-07']);
  });

  it('takes a switch observed on a weekend date effect on the next trading day', () => {
    // Prepare
    const obs: [string, string][] = [
      ['2025-01-02', 'cu2501'],
      ['2025-01-04', 'cu2502'],
    ];

    // Act
    const { schedule } = build(obs, '2025-01-02', '2025-01-06');

    // Assess
    expect(schedule.rows.map((r) => r.main_contract)).toEqual(['SHFE.cu2501', 'SHFE.cu2501', 'SHFE.cu2502']);
    expect(schedule.rows.map((r) => r.segment_id)).toEqual([0, 0, 1]);
  });

  it('ends the window at the latest trading day on or before both today and as_of', () => {
    // Prepare
    const obs: [string, string][] = [['2025-01-02', 'cu2502']];

    // Act
    const byAsOf = build(obs, '2025-01-02', '2025-01-10', '2025-01-05').schedule;
    const byToday = build(obs, '2025-01-02', '2025-01-04').schedule;

    // Assess
    expect(byAsOf.end).toBe('2025-01-03');
    expect(byAsOf.rows.at(-1)?.trading_day).toBe('2025-01-03');
    expect(byToday.end).toBe('2025-01-03');
  });

  it('keeps the first observation of a day and reports a later different one as intraday_alias_change', () => {
    // Prepare
    const obs: [string, string][] = [
      ['2025-01-02', 'cu2501'],
      ['2025-01-03', 'cu2501'],
      ['2025-01-03', 'cu2502'],
    ];

    // Act
    const { schedule, warnings } = build(obs, '2025-01-02', '2025-01-03');

    // Assess
    expect(schedule.rows.map((r) => r.main_contract)).toEqual(['SHFE.cu2501', 'SHFE.cu2501']);
    expect(warnings).toEqual([
      { code: 'intraday_alias_change', trading_day: '2025-01-03', kept: 'SHFE.cu2501', ignored: 'SHFE.cu2502' },
    ]);
  });

  it('fails with schedule_backward_roll on a return to an earlier delivery month', () => {
    // Prepare
    const obs: [string, string][] = [
      ['2025-01-02', 'cu2502'],
      ['2025-01-03', 'cu2501'],
    ];

    // Act
    const act = () => build(obs, '2025-01-02', '2025-01-03');

    // Assess
    expect(act).toThrow(ScheduleBackwardRollError);
    expect(act).toThrow(/schedule_backward_roll: SHFE.cu2502 \(2025-01-02\) -> SHFE.cu2501 \(2025-01-03\)/);
  });

  it('fails when an observation names another variety', () => {
    // Prepare
    const obs: [string, string][] = [
      ['2025-01-02', 'cu2502'],
      ['2025-01-03', 'SHFE.au2506'],
    ];

    // Act
    const act = () => build(obs, '2025-01-02', '2025-01-03');

    // Assess
    expect(act).toThrow(ScheduleForeignUnderlyingError);
  });

  it('fails without observations, without days, or with the end before the start', () => {
    // Act
    const none = () => build([], '2025-01-02', '2025-01-03');
    const noDays = () => build([['2025-02-01', 'cu2503']], '2025-01-02', '2025-01-03');
    const inverted = () => build([['2025-01-02', 'cu2502']], '2025-01-06', '2025-01-03');

    // Assess
    expect(none).toThrow(ScheduleInputError);
    expect(noDays).toThrow(ScheduleInputError);
    expect(inverted).toThrow(/window end 2025-01-03 is before start 2025-01-06/);
  });
});

describe('classifyScheduleChange', () => {
  const obs: [string, string][] = [
    ['2025-01-02', 'cu2501'],
    ['2025-01-06', 'cu2502'],
  ];
  const current = build(obs, '2025-01-02', '2025-01-06').schedule;

  it('is a no-op when the stored rows and hash equal the recomputation (acceptance 7)', () => {
    // Act
    const change = classifyScheduleChange({ rows: current.rows, schedule_hash: current.schedule_hash }, current);

    // Assess
    expect(change.relation).toBe('noop');
    expect(change.upsert).toEqual([]);
    expect(change.delete_days).toEqual([]);
    expect(change.rebuild_required).toBe(false);
  });

  it('is initial when nothing is stored', () => {
    // Act
    const change = classifyScheduleChange(null, current);

    // Assess
    expect(change.relation).toBe('initial');
    expect(change.upsert).toHaveLength(3);
  });

  it('is an extension without rebuild when one day is appended', () => {
    // Prepare
    const stored = build(obs, '2025-01-02', '2025-01-03').schedule;
    const next = build(obs, '2025-01-02', '2025-01-07').schedule;

    // Act
    const change = classifyScheduleChange({ rows: stored.rows, schedule_hash: stored.schedule_hash }, next);

    // Assess
    expect(change.relation).toBe('extension');
    expect(change.appended_days).toEqual(['2025-01-06', '2025-01-07']);
    expect(change.delete_days).toEqual([]);
    expect(change.upsert).toHaveLength(4);
    expect(change.rebuild_required).toBe(false);
    expect(stored.rows).toEqual(next.rows.slice(0, 2));
  });

  it('requires a rebuild when a past day changes contract', () => {
    // Prepare
    const stored = current;
    const next = build(
      [
        ['2025-01-02', 'cu2501'],
        ['2025-01-03', 'cu2502'],
      ],
      '2025-01-02',
      '2025-01-06',
    ).schedule;

    // Act
    const change = classifyScheduleChange({ rows: stored.rows, schedule_hash: stored.schedule_hash }, next);

    // Assess
    expect(change.relation).toBe('rewrite');
    expect(change.rebuild_required).toBe(true);
    expect(change.previous_hash).toBe(stored.schedule_hash);
  });

  it('requires a rebuild and deletes the days that left the window when the start moves later', () => {
    // Prepare
    const next = build(obs, '2025-01-03', '2025-01-06').schedule;

    // Act
    const change = classifyScheduleChange({ rows: current.rows, schedule_hash: current.schedule_hash }, next);

    // Assess
    expect(change.relation).toBe('rewrite');
    expect(change.delete_days).toEqual(['2025-01-02']);
    expect(change.rebuild_required).toBe(true);
  });
});

describe('resolving an alias', () => {
  const { schedule } = build(
    [
      ['2025-01-02', 'cu2501'],
      ['2025-01-06', 'cu2502'],
    ],
    '2025-01-02',
    '2025-01-06',
  );

  it('returns the exact row with carried_days 0 and the schedule hash', () => {
    // Act
    const r = resolveMainContract(schedule, '2025-01-03', calendar);

    // Assess
    expect(r).toEqual({
      main_contract: 'SHFE.cu2501',
      segment_id: 0,
      schedule_hash: schedule.schedule_hash,
      schedule_day: '2025-01-03',
      carried_days: 0,
    });
  });

  it('carries the last row forward past the schedule end and counts the trading days carried', () => {
    // Act
    const r = resolveMainContract(schedule, '2025-01-08', calendar);

    // Assess
    expect(r.main_contract).toBe('SHFE.cu2502');
    expect(r.carried_days).toBe(2);
  });

  it('resolves KQ.m@SHFE.cu to its underlying for a trading day', () => {
    // Prepare
    const resolver = new MainScheduleResolver([schedule], calendar);

    // Act
    const before = resolver.resolve('KQ.m@SHFE.cu', '2025-01-03');
    const after = resolver.resolve('KQ.m@SHFE.cu', '2025-01-06');

    // Assess
    expect(before).toBe('SHFE.cu2501');
    expect(after).toBe('SHFE.cu2502');
  });

  it('fails with main_schedule_not_found before the first row or for an alias without a schedule', () => {
    // Prepare
    const resolver = new MainScheduleResolver([schedule], calendar);

    // Act
    const early = () => resolver.resolve('KQ.m@SHFE.cu', '2024-12-31');
    const other = () => resolver.resolve('KQ.m@SHFE.au', '2025-01-03');

    // Assess
    expect(early).toThrow(MainScheduleNotFoundError);
    expect(early).toThrow(/main_schedule_not_found/);
    expect(other).toThrow(MainScheduleNotFoundError);
  });
});
