import { describe, expect, it } from 'vitest';
import { ChartBook, clampWidth, visibleRange, windowOf, windowSpecOf } from '#colo/sim/chart-engine.ts';
import type { Patch } from '#colo/sim/pending-patches.ts';
import type { Row, Series } from '#colo/sim/tick-series.ts';
import { applyMergePatch } from '#shared/infra/diff/store.ts';

const S = 1_000_000_000n;

/** A stand-in tick series: row `id` has datetime `id` seconds; rows exist up to `now` (in seconds). */
function series(symbol = 'SHFE.cu2502', total = 100_000): Series {
  const last = (now: bigint) => Math.min(total - 1, Number(now / S));
  return {
    path: ['ticks', symbol],
    mutableLast: false,
    freshRows: true,
    lastId: last,
    firstIdAtOrAfter: (t, now) => Math.min(Number((t + S - 1n) / S), last(now) + 1),
    rows: (from, to, now) => {
      const out: [number, Row][] = [];
      for (let id = Math.max(0, from); id <= Math.min(to, last(now)); id++)
        out.push([id, { datetime: BigInt(id) * S }]);
      return out;
    },
    meta: () => ({}),
  };
}

function harness(s: Series = series()) {
  const patches: Patch[] = [];
  const checked: boolean[] = [];
  const warnings: string[] = [];
  const book = new ChartBook({
    seriesFor: (sym, d) => (d === 0n && sym === s.path[1] ? s : d === 0n ? null : 'unsupported_duration'),
    push: (p, opts) => {
      patches.push(structuredClone(p));
      checked.push(opts?.checkedFinite === true);
    },
    warn: (w) => warnings.push(w),
    sessionId: 'sess',
  });
  const tree: Record<string, unknown> = {};
  const drain = () => {
    for (const p of patches.splice(0)) applyMergePatch(tree, p);
    return tree;
  };
  return { book, patches, checked, warnings, drain, tree };
}

const dataIds = (tree: Record<string, unknown>) =>
  Object.keys(((tree.ticks as Record<string, Record<string, unknown>>)['SHFE.cu2502']?.data ?? {}) as object)
    .map(Number)
    .sort((a, b) => a - b);

describe('chart window arithmetic', () => {
  it('serves view_width above 10,000 as 10,000 and junk as 0', () => {
    // Act
    const out = [clampWidth(50_000), clampWidth(2000), clampWidth('x'), clampWidth(-3)];

    // Assess
    expect(out).toEqual([10_000, 2000, 0, 0]);
  });

  it('places a focus window at max(0, F − k) with F the first id at or after T', () => {
    // Prepare
    const spec = windowSpecOf({ view_width: 10, focus_datetime: 50n * S, focus_position: 3 });

    // Act
    const w = windowOf(spec, 1000, (t) => Number(t / S));
    const early = windowOf({ kind: 'focus', focus: 1n * S, position: 3, width: 10 }, 1000, (t) => Number(t / S));

    // Assess
    expect(spec).toEqual({ kind: 'focus', focus: 50n * S, position: 3, width: 10 });
    expect(w).toEqual({ left: 47, capRight: 56 });
    expect(early.left).toBe(0);
  });

  it('takes the newest N rows for a plain view_width and ids L..L+N−1 for left_kline_id', () => {
    // Act
    const latest = windowOf(windowSpecOf({ view_width: 5 }), 99, () => 0);
    const left = windowOf(windowSpecOf({ view_width: 5, left_kline_id: 200 }), 99, () => 0);

    // Assess
    expect(latest).toEqual({ left: 95, capRight: 99 });
    expect(visibleRange(latest, 99)).toEqual([95, 99]);
    expect(left).toEqual({ left: 200, capRight: 204 });
    expect(visibleRange(left, 99)).toBeNull();
  });

  it('clips the right edge of a focus window to the newest id', () => {
    // Act
    const w = windowOf(windowSpecOf({ view_width: 2000, focus_datetime: 90n * S }), 99, (t) => Number(t / S));

    // Assess
    expect(visibleRange(w, 99)).toEqual([90, 99]);
  });
});

describe('ChartBook', () => {
  it('echoes every request key plus account_id and session_id in state', () => {
    // Prepare
    const h = harness();
    const req = { aid: 'set_chart', chart_id: 'c', ins_list: 'SHFE.cu2502', duration: 0, view_width: 99_999 };

    // Act
    h.book.set(req, 10n * S);
    const tree = h.drain();

    // Assess
    expect((tree.charts as Record<string, Record<string, unknown>>).c?.state).toEqual({
      ...req,
      account_id: '',
      session_id: 'sess',
    });
  });

  it('delivers a large window in chunks of at most 2,000 rows, ready only with the last one', () => {
    // Prepare
    const h = harness();
    h.book.set({ chart_id: 'c', ins_list: 'SHFE.cu2502', duration: 0, view_width: 5000 }, 50_000n * S);
    h.drain();

    // Act
    const moved: number[] = [];
    const ready: unknown[] = [];
    for (let k = 0; k < 3; k++) {
      moved.push(h.book.fill(2000, 50_000n * S));
      const tree = h.drain();
      ready.push((tree.charts as Record<string, Record<string, unknown>>).c?.ready);
    }

    // Assess
    expect(moved).toEqual([2000, 2000, 1000]);
    expect(ready).toEqual([false, false, true]);
    expect(dataIds(h.tree)).toHaveLength(5000);
    expect(h.tree.mdhis_more_data).toBe(false);
  });

  it('marks a chunk of finite rows as checked, and leaves one holding a NaN row to be walked', () => {
    // Prepare
    const base = series();
    const withNan: Series = {
      ...base,
      rows: (from, to, now) =>
        base.rows(from, to, now).map(([id, row]) => [id, id === 49_950 ? { ...row, v: Number.NaN } : row]),
    };
    const fine = harness();
    const bad = harness(withNan);
    for (const h of [fine, bad]) {
      h.book.set({ chart_id: 'c', ins_list: 'SHFE.cu2502', duration: 0, view_width: 100 }, 50_000n * S);
      h.drain();
      h.checked.splice(0);
    }

    // Act
    fine.book.fill(2000, 50_000n * S);
    bad.book.fill(2000, 50_000n * S);

    // Assess: the data chunk is the first patch of each fill
    expect(fine.checked[0]).toBe(true);
    expect(bad.checked[0]).toBe(false);
  });

  it('answers an empty window with left_id −1, right_id −1, ready true, more_data false', () => {
    // Prepare
    const h = harness();

    // Act
    h.book.set({ chart_id: 'c', ins_list: 'SHFE.cu2502', duration: 0, view_width: 10, left_kline_id: 500 }, 10n * S);
    const tree = h.drain();

    // Assess
    expect((tree.charts as Record<string, unknown>).c).toMatchObject({
      left_id: -1,
      right_id: -1,
      ready: true,
      more_data: false,
    });
  });

  it('rolls a live window: new ids added, the oldest evicted with null', () => {
    // Prepare
    const h = harness();
    h.book.set({ chart_id: 'c', ins_list: 'SHFE.cu2502', duration: 0, view_width: 3 }, 10n * S);
    h.book.fill(2000, 10n * S);
    h.drain();

    // Act
    h.book.advance(12n * S);
    const evictions = h.patches.flatMap((p) => {
      const data = ((p.ticks as Record<string, Record<string, unknown>> | undefined)?.['SHFE.cu2502']?.data ??
        {}) as Record<string, unknown>;
      return Object.entries(data)
        .filter(([, v]) => v === null)
        .map(([k]) => Number(k));
    });
    const tree = h.drain();

    // Assess
    expect(evictions.sort()).toEqual([8, 9]);
    expect(dataIds(tree)).toEqual([10, 11, 12]);
    expect((tree.charts as Record<string, unknown>).c).toMatchObject({ left_id: 10, right_id: 12 });
  });

  it('keeps rows another chart of the connection still covers when a chart is deleted', () => {
    // Prepare
    const h = harness();
    h.book.set({ chart_id: 'a', ins_list: 'SHFE.cu2502', duration: 0, view_width: 5 }, 10n * S);
    h.book.set({ chart_id: 'b', ins_list: 'SHFE.cu2502', duration: 0, view_width: 2 }, 10n * S);
    h.book.fill(2000, 10n * S);
    h.drain();

    // Act
    h.book.set({ chart_id: 'a', ins_list: '' }, 10n * S);
    const tree = h.drain();

    // Assess
    expect(dataIds(tree)).toEqual([9, 10]);
    expect((tree.charts as Record<string, unknown>).a).toBeUndefined();
    expect(h.book.size).toBe(1);
  });

  it('replaces the window of the same chart_id (a download page) and evicts the old page', () => {
    // Prepare
    const h = harness();
    h.book.set(
      { chart_id: 'd', ins_list: 'SHFE.cu2502', duration: 0, view_width: 3, focus_datetime: 5n * S, focus_position: 0 },
      100n * S,
    );
    h.book.fill(2000, 100n * S);
    h.drain();

    // Act
    h.book.set({ chart_id: 'd', ins_list: 'SHFE.cu2502', duration: 0, view_width: 3, left_kline_id: 8 }, 100n * S);
    h.book.fill(2000, 100n * S);
    const tree = h.drain();

    // Assess
    expect(dataIds(tree)).toEqual([8, 9, 10]);
    const state = (tree.charts as Record<string, Record<string, Record<string, unknown>>>).d?.state;
    expect(state?.left_kline_id).toBe(8);
    expect(state).not.toHaveProperty('focus_datetime');
  });

  it('warns and serves an empty chart for an unsupported duration, and uses the first of several symbols', () => {
    // Prepare
    const h = harness();

    // Act
    h.book.set({ chart_id: 'x', ins_list: 'SHFE.cu2502', duration: 7, view_width: 5 }, 10n * S);
    h.book.set({ chart_id: 'y', ins_list: 'SHFE.cu2502,SHFE.cu2503', duration: 0, view_width: 5 }, 10n * S);
    const tree = h.drain();

    // Assess
    expect(h.warnings).toHaveLength(2);
    expect((tree.charts as Record<string, unknown>).x).toMatchObject({ left_id: -1, right_id: -1, ready: true });
    expect(h.book.symbols()).toEqual(new Set(['SHFE.cu2502']));
  });
});
