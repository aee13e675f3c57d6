/**
 * The set_chart engine of one md connection (market-protocol §2.5): window arithmetic, chunked delivery and
 * eviction. Rows go into the connection's pending patches; big windows leave a backlog that `fill` drains at most
 * `CHUNK_ROWS` rows per `rtn_data` (`ready:false, more_data:true` until the last chunk).
 *
 * Invariants: per chart, the rows delivered to the client form one contiguous id range `[left, deliveredTo]`; a row
 * leaves the client (`null`) only when no chart of the connection on the same series still covers it.
 */
import type { Patch, PushOptions } from './pending-patches.ts';
import type { Row, Series } from './tick-series.ts';

export const MAX_VIEW_WIDTH = 10_000;
export const CHUNK_ROWS = 2_000;

export type WindowSpec =
  | { kind: 'latest'; width: number }
  | { kind: 'left'; left: number; width: number }
  | { kind: 'focus'; focus: bigint; position: number; width: number };

/** `view_width` as served: an integer in 0..10,000 (above 10,000 is served as 10,000). */
export function clampWidth(w: unknown): number {
  if (typeof w !== 'number' || !Number.isFinite(w)) return 0;
  return Math.max(0, Math.min(MAX_VIEW_WIDTH, Math.floor(w)));
}

/** Parse the window fields of a set_chart request. */
export function windowSpecOf(req: Record<string, unknown>): WindowSpec {
  const width = clampWidth(req.view_width);
  if (typeof req.left_kline_id === 'number' && Number.isInteger(req.left_kline_id)) {
    return { kind: 'left', left: req.left_kline_id, width };
  }
  const f = req.focus_datetime;
  if (typeof f === 'bigint' || (typeof f === 'number' && Number.isInteger(f))) {
    const position =
      typeof req.focus_position === 'number' && Number.isInteger(req.focus_position) ? req.focus_position : 0;
    return { kind: 'focus', focus: BigInt(f), position, width };
  }
  return { kind: 'latest', width };
}

/**
 * The window `[left, capRight]` of a spec given the series' newest id: rows fill it up to `min(capRight, lastId)`.
 * `left > capRight` or `left > lastId` means nothing is visible (yet).
 */
export function windowOf(
  spec: WindowSpec,
  lastId: number,
  firstIdAtOrAfter: (t: bigint) => number,
): { left: number; capRight: number } {
  if (spec.width <= 0) return { left: 0, capRight: -1 };
  switch (spec.kind) {
    case 'latest':
      return { left: Math.max(0, lastId - spec.width + 1), capRight: lastId };
    case 'left':
      return { left: Math.max(0, spec.left), capRight: Math.max(0, spec.left) + spec.width - 1 };
    case 'focus': {
      const f = firstIdAtOrAfter(spec.focus);
      const left = Math.max(0, f - spec.position);
      return { left, capRight: left + spec.width - 1 };
    }
  }
}

/** The visible id range of a window, or null when empty. */
export function visibleRange(w: { left: number; capRight: number }, lastId: number): [number, number] | null {
  const right = Math.min(w.capRight, lastId);
  return right >= w.left && right >= 0 ? [w.left, right] : null;
}

interface Chart {
  id: string;
  request: Record<string, unknown>;
  series: Series | null;
  spec: WindowSpec;
  left: number;
  capRight: number;
  lastSeen: number;
  /** Highest id delivered (contiguous from `left`); `left − 1` when none. */
  deliveredTo: number;
  /** Next id to deliver and the last id of the backlog (inclusive); empty when `next > to`. */
  backlogNext: number;
  backlogTo: number;
}

export interface ChartBookDeps {
  /** Series for (first symbol, duration ns), or null (unknown symbol: empty chart; unsupported duration: warn). */
  seriesFor: (symbol: string, duration: bigint) => Series | null | 'unsupported_duration';
  /** Queue a patch (see `PendingPatches.push` for the options). */
  push: (patch: Patch, opts?: PushOptions) => void;
  warn: (content: string) => void;
  sessionId: string;
}

/**
 * Below 10^19 a multiple of 10^4 has at most 15 significant digits and any two differ by more than two ulps, so the
 * nearest double's shortest round-trip digits (what `JSON.stringify` writes) are exactly that integer.
 */
const EXACT_NS_LIMIT = 10_000_000_000_000_000_000n;

/**
 * A chart row for the wire: the row itself when the series hands out rows it no longer owns (`fresh`), else a copy.
 * A `datetime` that a JSON number writes as exactly the same integer literal (every tick/bar time on the 500 ms grid)
 * is carried as a number, so the chunk frame serialises natively without a bigint replacer; the text on the wire is
 * identical (a bare integer). Any other value is kept as it is.
 */
function wireRow(row: Row, fresh: boolean): Row {
  const out: Row = fresh ? row : { ...row };
  const dt = row.datetime;
  if (typeof dt === 'bigint' && dt >= 0n && dt < EXACT_NS_LIMIT && dt % 10_000n === 0n) out.datetime = Number(dt);
  return out;
}

/** True when no top-level number of `row` is NaN or ±Infinity (chart rows are flat). */
function rowIsFinite(row: Row): boolean {
  for (const key in row) {
    const v = row[key];
    if (typeof v === 'number' && v - v !== 0) return false;
    if (typeof v === 'object' && v !== null) return false; // not flat: let the pending patches walk it
  }
  return true;
}

function nest(path: readonly string[], leaf: Patch): Patch {
  let out: Patch = leaf;
  for (let i = path.length - 1; i >= 0; i--) out = { [path[i] as string]: out };
  return out;
}

export class ChartBook {
  private readonly charts = new Map<string, Chart>();

  constructor(private readonly deps: ChartBookDeps) {}

  get size(): number {
    return this.charts.size;
  }

  /** Symbols with a live chart (their ticks matter to this connection). */
  symbols(): Set<string> {
    const out = new Set<string>();
    for (const c of this.charts.values()) if (c.series) out.add(c.series.path[1] as string);
    return out;
  }

  /** True while some chart still has rows to deliver. */
  get hasBacklog(): boolean {
    for (const c of this.charts.values()) if (c.backlogNext <= c.backlogTo) return true;
    return false;
  }

  private covered(series: Series, id: number, except: Chart): boolean {
    const key = series.path.join('/');
    for (const c of this.charts.values()) {
      if (c === except || !c.series || c.series.path.join('/') !== key) continue;
      if (id >= c.left && id <= c.deliveredTo) return true;
    }
    return false;
  }

  /** Evict delivered rows of `c` outside `[keepFrom, keepTo]` that no other chart covers. */
  private evict(c: Chart, keepFrom: number, keepTo: number): void {
    if (!c.series || c.deliveredTo < c.left) return;
    const data: Patch = {};
    let any = false;
    for (let id = c.left; id <= c.deliveredTo; id++) {
      if (id >= keepFrom && id <= keepTo) continue;
      if (this.covered(c.series, id, c)) continue;
      data[String(id)] = null;
      any = true;
    }
    // A fresh object of nulls only: handed over, and nothing in it to check for NaN.
    if (any) this.deps.push(nest(c.series.path, { data }), { owned: true, checkedFinite: true });
  }

  /** Apply a `set_chart` request (create, replace, or delete with `ins_list: ""`). */
  set(req: Record<string, unknown>, now: bigint): void {
    const id = req.chart_id;
    if (typeof id !== 'string' || id === '') {
      this.deps.warn('set_chart without a chart_id is ignored');
      return;
    }
    const old = this.charts.get(id);
    const insList = typeof req.ins_list === 'string' ? req.ins_list : '';
    if (insList === '') {
      if (old) {
        this.charts.delete(id);
        this.evict(old, 0, -1);
      }
      this.deps.push({ charts: { [id]: null } });
      return;
    }
    const symbols = insList.split(',').filter((s) => s !== '');
    if (symbols.length > 1)
      this.deps.warn(`set_chart ${id}: multi-symbol ins_list is not supported; using ${symbols[0]}`);
    const duration = typeof req.duration === 'bigint' ? req.duration : BigInt(Math.trunc(Number(req.duration ?? 0)));
    const found = this.deps.seriesFor(symbols[0] as string, duration);
    if (found === 'unsupported_duration') this.deps.warn(`set_chart ${id}: duration ${duration} is not supported`);
    const series = found === 'unsupported_duration' ? null : found;
    const spec = windowSpecOf(req);
    const lastId = series ? series.lastId(now) : -1;
    const w = series ? windowOf(spec, lastId, (t) => series.firstIdAtOrAfter(t, now)) : { left: 0, capRight: -1 };
    const vis = series ? visibleRange(w, lastId) : null;
    const chart: Chart = {
      id,
      request: req,
      series,
      spec,
      left: w.left,
      capRight: w.capRight,
      lastSeen: lastId,
      deliveredTo: w.left - 1,
      backlogNext: vis ? vis[0] : 0,
      backlogTo: vis ? vis[1] : -1,
    };
    if (old) {
      this.charts.delete(id);
      this.evict(
        old,
        chart.series && old.series?.path.join('/') === chart.series.path.join('/') ? w.left : 0,
        vis ? vis[1] : -1,
      );
    }
    this.charts.set(id, chart);

    const state: Patch = { ...req, account_id: '', session_id: this.deps.sessionId };
    if (old) for (const k of Object.keys(old.request)) if (!(k in state)) state[k] = null;
    this.deps.push({ charts: { [id]: { state } } });
    if (series) this.deps.push(nest(series.path, { last_id: lastId, ...series.meta(now) }));
    if (!vis) this.deps.push({ charts: { [id]: { left_id: -1, right_id: -1, ready: true, more_data: false } } });
  }

  /**
   * Move up to `budget` backlog rows into pending (the chunk of the next `rtn_data`), with each touched chart's
   * metadata. Returns the number of rows moved.
   */
  fill(budget = CHUNK_ROWS, now: bigint): number {
    let moved = 0;
    for (const c of this.charts.values()) {
      if (!c.series || c.backlogNext > c.backlogTo) continue;
      if (moved >= budget) break;
      const to = Math.min(c.backlogTo, c.backlogNext + (budget - moved) - 1);
      const rows = c.series.rows(c.backlogNext, to, now);
      const data: Patch = {};
      let finite = true;
      for (const [rid, row] of rows) {
        const out = wireRow(row, c.series.freshRows);
        if (finite && !rowIsFinite(out)) finite = false;
        data[String(rid)] = out;
      }
      moved += rows.length;
      c.deliveredTo = Math.max(c.deliveredTo, to);
      c.backlogNext = to + 1;
      const done = c.backlogNext > c.backlogTo;
      this.deps.push(nest(c.series.path, { data, last_id: c.lastSeen }), {
        owned: true,
        checkedFinite: finite,
        separate: true,
      });
      this.deps.push({
        charts: {
          [c.id]: { left_id: c.left, right_id: Math.min(c.capRight, c.lastSeen), ready: done, more_data: !done },
        },
      });
    }
    if (moved > 0) this.deps.push({ mdhis_more_data: this.hasBacklog });
    return moved;
  }

  /** The series of some charts may have new rows at `now`: roll, extend and update metadata. */
  advance(now: bigint, symbols: ReadonlySet<string> | null = null): void {
    for (const c of this.charts.values()) {
      const s = c.series;
      if (!s || (symbols !== null && !symbols.has(s.path[1] as string))) continue;
      const last = s.lastId(now);
      if (last === c.lastSeen && !s.mutableLast) continue;
      const prevSeen = c.lastSeen;
      c.lastSeen = last;
      if (c.spec.kind === 'latest' && c.spec.width > 0) {
        const left = Math.max(0, last - c.spec.width + 1);
        if (left > c.left) {
          this.evict(c, left, Number.MAX_SAFE_INTEGER);
          if (c.deliveredTo < left - 1) c.deliveredTo = left - 1;
          c.left = left;
          c.backlogNext = Math.max(c.backlogNext, left);
        }
        c.capRight = last;
      }
      const visTo = Math.min(c.capRight, last);
      const data: Patch = {};
      const backlogEmpty = c.backlogNext > c.backlogTo;
      if (visTo > Math.max(prevSeen, c.deliveredTo) || (s.mutableLast && c.deliveredTo >= c.left)) {
        if (backlogEmpty) {
          // Rows go straight into pending; a mutable last row (the bar being built) is re-sent.
          const from = s.mutableLast ? Math.max(c.left, Math.min(prevSeen, c.deliveredTo)) : c.deliveredTo + 1;
          for (const [rid, row] of s.rows(Math.max(from, c.left), visTo, now)) data[String(rid)] = row as Row;
          c.deliveredTo = Math.max(c.deliveredTo, visTo);
          c.backlogNext = c.deliveredTo + 1;
          c.backlogTo = c.deliveredTo;
        } else {
          c.backlogTo = Math.max(c.backlogTo, visTo);
        }
      }
      this.deps.push(
        nest(s.path, { ...(Object.keys(data).length > 0 ? { data } : {}), last_id: last, ...s.meta(now) }),
      );
      if (visTo >= c.left) {
        this.deps.push({ charts: { [c.id]: { left_id: c.left, right_id: visTo } } });
      }
    }
  }
}
