import { describe, expect, it } from 'vitest';
import type { TickRow } from '#shared/domain/market/ports.ts';
import { DiffConfigError, MissingFeatureError } from '#shared/errors/diff.ts';
import { decodeJwtClaims, requireFeature } from '#shared/infra/diff/auth.ts';
import { MAX_VIEW_WIDTH, setChartFrame, stateCovers } from '#shared/infra/diff/chart.ts';
import { loadDiffConfig } from '#shared/infra/diff/config.ts';
import { endpointKind } from '#shared/infra/diff/discovery.ts';
import { maskFrame } from '#shared/infra/diff/framelog.ts';
import { stringifyDiffJson } from '#shared/infra/diff/json.ts';
import { contractQuery } from '#shared/infra/diff/market.ts';
import { tickDefect } from '#shared/infra/diff/ports.ts';
import { AsyncQueue, QueueOverflowError } from '#shared/infra/diff/queue.ts';
import { Backoff, inMaintenanceWindow } from '#shared/infra/diff/reconnect.ts';
import { structuralDiff } from '#shared/infra/diff/replay.ts';

function jwt(payload: unknown): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64(payload)}.sig`;
}

function tick(over: Partial<TickRow>): TickRow {
  const row: Record<string, unknown> = { symbol: 'SHFE.cu2502', id: 1, trading_day: '20250110', datetime: 1n };
  for (const f of ['last_price', 'average', 'highest', 'lowest', 'volume', 'amount', 'open_interest']) row[f] = 75230;
  for (let k = 1; k <= 5; k++) {
    row[`ask_price${k}`] = 75240 + 10 * k;
    row[`bid_price${k}`] = 75230 - 10 * k;
    row[`ask_volume${k}`] = 3;
    row[`bid_volume${k}`] = 4;
  }
  row.average = 75211.53;
  return { ...(row as unknown as TickRow), ...over };
}

describe('set_chart frames and the state echo', () => {
  it('sends a download focus request with ns as a bare integer and clamps view_width to 10,000', () => {
    // Act
    const frame = setChartFrame('GHT_dl_1', {
      symbol: 'SHFE.cu2502',
      duration: 0n,
      viewWidth: 50_000,
      focusDatetime: 1736416800000000000n,
      focusPosition: 0,
    });

    // Assess
    expect(stringifyDiffJson(frame)).toBe(
      '{"aid":"set_chart","chart_id":"GHT_dl_1","ins_list":"SHFE.cu2502","duration":0,"view_width":10000,' +
        '"focus_datetime":1736416800000000000,"focus_position":0}',
    );
    expect(frame.view_width).toBe(MAX_VIEW_WIDTH);
  });

  it('drops the focus fields when paging by left_kline_id', () => {
    // Act
    const frame = setChartFrame('c', {
      symbol: 'S',
      duration: 0n,
      viewWidth: 2000,
      leftKlineId: 2000,
      focusDatetime: 5n,
    });

    // Assess
    expect(frame).toEqual({
      aid: 'set_chart',
      chart_id: 'c',
      ins_list: 'S',
      duration: 0n,
      view_width: 2000,
      left_kline_id: 2000,
    });
  });

  it('accepts a state that holds every sent key, bigint-aware, plus server extras', () => {
    // Prepare
    const frame = setChartFrame('c', { symbol: 'S', duration: 0n, viewWidth: 10, focusDatetime: 9n, focusPosition: 0 });

    // Act
    const ok = stateCovers({ ...frame, duration: 0, account_id: '', session_id: 'x' }, frame);
    const stale = stateCovers({ ...frame, focus_datetime: 8n }, frame);
    const missing = stateCovers({ aid: 'set_chart', chart_id: 'c' }, frame);

    // Assess
    expect([ok, stale, missing]).toEqual([true, false, false]);
  });
});

describe('ins_query shapes', () => {
  it('queries by instrument_id list with the basic, future and derivative fragments', () => {
    // Act
    const q = contractQuery({ instrument_id: ['SHFE.cu2502'] });

    // Assess
    expect(q.variables).toEqual({ instrument_id: ['SHFE.cu2502'] });
    expect(q.query).toContain('multi_symbol_info(instrument_id:$instrument_id)');
    expect(q.query).toContain('... on basic');
    expect(q.query).toContain('... on future');
    expect(q.query).toContain('underlying { edges { node');
  });

  it('queries by class, exchange and product with an optional point-in-time timestamp', () => {
    // Act
    const q = contractQuery({
      class: ['FUTURE'],
      exchange_id: ['SHFE'],
      product_id: ['cu'],
      expired: false,
      timestamp: 1736416800000000000n,
    });

    // Assess
    expect(q.variables).toEqual({
      class: ['FUTURE'],
      exchange_id: ['SHFE'],
      product_id: ['cu'],
      expired: false,
      timestamp: 1736416800000000000n,
    });
    expect(q.query).toContain('$timestamp:Int64');
  });
});

describe('tick emission rule', () => {
  it('passes a clean tick', () => {
    expect(tickDefect(tick({}), 10)).toBeNull();
  });

  it.each([
    ['NaN last_price', { last_price: Number.NaN }, 'nan_last_price'],
    ['an off-grid bid', { bid_price2: 75215 }, 'off_grid:bid_price2'],
    ['NaN ask with volume', { ask_price1: Number.NaN }, 'nan_book:ask_price1'],
  ])('reports %s', (_what, over, reason) => {
    expect(tickDefect(tick(over), 10)).toBe(reason);
  });

  it('accepts a NaN side whose volume is 0 (limit lock)', () => {
    // Prepare
    const over: Record<string, number> = {};
    for (let k = 1; k <= 5; k++) {
      over[`ask_price${k}`] = Number.NaN;
      over[`ask_volume${k}`] = 0;
    }

    // Act
    const defect = tickDefect(tick(over as Partial<TickRow>), 10);

    // Assess
    expect(defect).toBeNull();
  });
});

describe('reconnect backoff', () => {
  it('retries at once when the timer has expired, then waits a random delay in [base·2ⁿ, 2·base·2ⁿ]', () => {
    // Prepare
    let now = 1_000_000;
    const backoff = new Backoff(
      50,
      () => 0.5,
      () => now,
    );

    // Act
    const first = backoff.nextDelay();
    const second = backoff.nextDelay();
    now += second;
    const third = backoff.nextDelay();

    // Assess
    expect(first).toBe(0);
    expect(second).toBe(75);
    expect(third).toBe(150);
  });

  it('caps the factor at 64', () => {
    // Prepare
    let now = 0;
    const backoff = new Backoff(
      10,
      () => 0,
      () => now,
    );
    let last = 0;

    // Act
    for (let i = 0; i < 12; i++) {
      last = backoff.nextDelay();
      now += last;
    }

    // Assess
    expect(last).toBe(640);
  });

  it('knows the 19:00–19:30 CST maintenance window', () => {
    // Act / Assess
    expect(inMaintenanceWindow(Date.parse('2025-01-09T11:10:00Z'))).toBe(true);
    expect(inMaintenanceWindow(Date.parse('2025-01-09T11:30:00Z'))).toBe(false);
    expect(inMaintenanceWindow(Date.parse('2025-01-09T10:59:59Z'))).toBe(false);
  });
});

describe('auth and config', () => {
  it('decodes JWT claims without verifying the signature', () => {
    // Act
    const c = decodeJwtClaims(jwt({ sub: 'ghsim-user', grants: { features: ['futr', 'tq_dl'], accounts: ['*'] } }));

    // Assess
    expect(c.sub).toBe('ghsim-user');
    expect(c.grants.features).toEqual(['futr', 'tq_dl']);
  });

  it('fails fast with MissingFeatureError naming the feature', () => {
    // Prepare
    const c = decodeJwtClaims(jwt({ sub: 'u', grants: { features: ['futr'], accounts: [] } }));

    // Act
    const run = () => requireFeature(c, 'tq_dl');

    // Assess
    expect(run).toThrow(MissingFeatureError);
  });

  it('loads defaults, treats blank values as unset and never echoes a secret in errors', () => {
    // Act
    const cfg = loadDiffConfig({ GHTRADER_DIFF_MD_URL: '', GHTRADER_DIFF_BACKOFF_BASE_MS: '50' });
    let message = '';
    try {
      loadDiffConfig({ GHTRADER_DIFF_MD_URL: 'sm://secret-host', GHTRADER_DIFF_PASSWORD: 'hunter2' });
    } catch (err) {
      expect(err).toBeInstanceOf(DiffConfigError);
      message = (err as Error).message;
    }

    // Assess
    expect(cfg.mdUrl).toBeUndefined();
    expect(cfg.authUrl).toBe('https://auth.shinnytech.com');
    expect(cfg.backoffBaseMs).toBe(50);
    expect(cfg.resyncTimeoutMs).toBe(30_000);
    expect(message).toContain('GHTRADER_DIFF_MD_URL');
    expect(message).not.toContain('hunter2');
  });

  it('calls a loopback trade URL "sim" and anything else "shinny"', () => {
    expect(endpointKind('ws://127.0.0.1:7777/trade')).toBe('sim');
    expect(endpointKind('wss://opentd.shinnytech.com/trade/user0')).toBe('shinny');
  });
});

describe('frame log masking and replay comparison', () => {
  it('masks a req_login password and leaves other frames byte-exact', () => {
    // Act
    const login = maskFrame('{"aid":"req_login","bid":"ghsim","user_name":"u","password":"p\\"w"}');
    const tickText = '{"aid":"rtn_data","data":[{"a":NaN,"datetime":1568255607000000001}]}';

    // Assess
    expect(login).toBe('{"aid":"req_login","bid":"ghsim","user_name":"u","password":"***"}');
    expect(maskFrame(tickText)).toBe(tickText);
  });

  it('maps generated ids by first appearance and reports a structural diff', () => {
    // Prepare
    const ids = new Map<string, string>();

    // Act
    const first = structuralDiff(
      { aid: 'set_chart', chart_id: 'GHT_dl_a', view_width: 2000 },
      { aid: 'set_chart', chart_id: 'GHT_dl_b', view_width: 2000 },
      ids,
    );
    const second = structuralDiff(
      { chart_id: 'GHT_dl_a', view_width: 2000 },
      { chart_id: 'GHT_dl_c', view_width: 1000 },
      ids,
    );

    // Assess
    expect(first).toEqual([]);
    expect(second).toEqual([
      '/chart_id: expected id GHT_dl_b (recorded GHT_dl_a), found GHT_dl_c',
      '/view_width: expected 2000, found 1000',
    ]);
  });
});

describe('AsyncQueue', () => {
  it('fails the stream instead of dropping items when the consumer falls behind its bound', async () => {
    // Prepare
    const q = new AsyncQueue<number>('test', 2);

    // Act
    q.push(1);
    q.push(2);
    q.push(3);
    const it = q[Symbol.asyncIterator]();
    const a = await it.next();
    const b = await it.next();

    // Assess
    expect([a.value, b.value]).toEqual([1, 2]);
    await expect(it.next()).rejects.toBeInstanceOf(QueueOverflowError);
  });
});
