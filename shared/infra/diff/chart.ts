/**
 * set_chart requests and handles (market-protocol §1.9). A chart is server-side state: the registry keeps the
 * current request of every chart so the reconnect manager can resend it, and a handle reads the chart's window
 * from the mirror (`charts/<id>`, `ticks/<sym>/data/<id>` or `klines/<sym>/<dur>/data/<id>`).
 *
 * Wire: `{aid:"set_chart", chart_id, ins_list, duration (ns), view_width (≤ 10,000), [left_kline_id] |
 * [focus_datetime, focus_position]}`. The same chart_id replaces the window; `ins_list:""` deletes the chart.
 */

import type { DiffStore } from './store.ts';
import type { DiffFrame } from './transport.ts';
import { type ChartView, chartView, isNode } from './views.ts';

/** Largest window a server serves; larger requests are clamped before sending. */
export const MAX_VIEW_WIDTH = 10_000;

export interface ChartRequest {
  symbol: string;
  /** Bar duration in ns: 0n ticks, 60_000_000_000n one minute, 86_400_000_000_000n daily. */
  duration: bigint;
  viewWidth: number;
  leftKlineId?: number;
  focusDatetime?: bigint;
  focusPosition?: number;
}

/** The exact set_chart frame for a request (view_width clamped to 10,000). */
export function setChartFrame(chartId: string, req: ChartRequest): DiffFrame {
  const frame: DiffFrame = {
    aid: 'set_chart',
    chart_id: chartId,
    ins_list: req.symbol,
    duration: req.duration,
    view_width: Math.max(1, Math.min(MAX_VIEW_WIDTH, Math.trunc(req.viewWidth))),
  };
  if (req.leftKlineId !== undefined) {
    frame.left_kline_id = req.leftKlineId;
  } else if (req.focusDatetime !== undefined) {
    frame.focus_datetime = req.focusDatetime;
    frame.focus_position = req.focusPosition ?? 0;
  }
  return frame;
}

/** Equality of a sent value and its echo: numbers and bigints compare by value. */
export function echoEqual(sent: unknown, echo: unknown): boolean {
  if (typeof sent === 'bigint' || typeof echo === 'bigint') {
    const toBig = (v: unknown): bigint | undefined =>
      typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined;
    const a = toBig(sent);
    const b = toBig(echo);
    return a !== undefined && a === b;
  }
  return Object.is(sent, echo);
}

/** §1.8: the chart's `state` holds every key of the sent frame with an equal value. */
export function stateCovers(state: unknown, frame: DiffFrame): boolean {
  if (!isNode(state)) return false;
  for (const [k, v] of Object.entries(frame)) if (!echoEqual(v, state[k])) return false;
  return true;
}

/** §1.8: window fully delivered (`ready`, or `more_data == false` from a server that never sends `ready`). */
export function chartReady(node: Record<string, unknown>): boolean {
  if (node.ready === true) return true;
  return node.ready === undefined && node.more_data === false;
}

/** Path of a chart's row series in the mirror. */
/** Row `id` of a series `data` node (see `Chart.rows`), or undefined. */
export function rowOf(data: Record<string, unknown> | undefined, id: number): Record<string, unknown> | undefined {
  if (data === undefined) return undefined;
  const key = String(id);
  if (!Object.hasOwn(data, key)) return undefined;
  const v = data[key];
  return isNode(v) ? v : undefined;
}

export function seriesPath(req: ChartRequest): string {
  return req.duration === 0n ? `ticks/${req.symbol}` : `klines/${req.symbol}/${req.duration}`;
}

export interface ChartSender {
  /** Send now if the socket is open; otherwise the registry's resend covers it. */
  sendIfOpen(frame: DiffFrame): void;
  registry: Map<string, ChartHandle>;
}

export class ChartHandle {
  private req: ChartRequest;
  private frameValue: DiffFrame;
  private released = false;
  /** Set by the reconnect escape: the chart's symbol had no data when the resync timed out. */
  noData = false;

  constructor(
    readonly chartId: string,
    req: ChartRequest,
    private readonly store: DiffStore,
    private readonly sender: ChartSender,
  ) {
    this.req = req;
    this.frameValue = setChartFrame(chartId, req);
    sender.registry.set(chartId, this);
    sender.sendIfOpen(this.frameValue);
  }

  get request(): ChartRequest {
    return this.req;
  }

  /** The last frame sent (what the state must echo). */
  get frame(): DiffFrame {
    return this.frameValue;
  }

  get isReleased(): boolean {
    return this.released;
  }

  /** Replace the window (same chart_id). */
  update(req: ChartRequest): void {
    this.req = req;
    this.frameValue = setChartFrame(this.chartId, req);
    this.sender.sendIfOpen(this.frameValue);
  }

  private node(): Record<string, unknown> | undefined {
    const n = this.store.get(`charts/${this.chartId}`);
    return isNode(n) ? n : undefined;
  }

  /** The chart node's view, or undefined before the server created it. */
  view(): ChartView | undefined {
    const n = this.node();
    return n === undefined ? undefined : chartView(this.chartId, n);
  }

  /** The last sent request has been applied (state ⊇ request). */
  applied(): boolean {
    return stateCovers(this.node()?.state, this.frameValue);
  }

  /** Applied and fully delivered. */
  ready(): boolean {
    const n = this.node();
    return n !== undefined && stateCovers(n.state, this.frameValue) && chartReady(n);
  }

  /** The series' newest id (`last_id`), −1 when none. */
  lastId(): number {
    const v = this.store.get(`${seriesPath(this.req)}/last_id`);
    return typeof v === 'number' ? v : -1;
  }

  /** The raw row node of `id`, or undefined (not delivered yet, or evicted). */
  row(id: number): Record<string, unknown> | undefined {
    return rowOf(this.rows(), id);
  }

  /**
   * The series' `data` node (rows by id; read them with `rowOf`), or undefined. Valid until the next batch is
   * applied: a reader of a whole page looks it up once instead of walking the path for every row.
   */
  rows(): Record<string, unknown> | undefined {
    const v = this.store.get(`${seriesPath(this.req)}/data`);
    return isNode(v) ? v : undefined;
  }

  /** Delete the chart on the server (`ins_list:""`). Idempotent; also drops it from the resend registry. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.sender.registry.delete(this.chartId);
    this.sender.sendIfOpen({
      aid: 'set_chart',
      chart_id: this.chartId,
      ins_list: '',
      duration: this.req.duration,
      view_width: this.frameValue.view_width,
    });
  }
}
