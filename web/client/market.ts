/**
 * Market panel (Market page, dashboard): follow `ticks:<var>` live and redraw the figures, the book, the uPlot chart of
 * last/bid1/ask1 and its text summary. uPlot draws on a canvas and
 * sizes its elements through the CSSOM (`el.style.x = ...`), which the CSP's `style-src 'self'` does not restrict;
 * its stylesheet is bundled into app.css by build.mjs. A 401 goes to the login page; a failed poll is shown in the
 * feed line and retried on the next tick.
 */
import uPlot from 'uplot';
import type { TicksMessage } from '#shared/domain/market/feed-json.ts';
import type { MarketJson, MarketPointJson } from '../routes/api-market.ts';
import { ApiError, api, type PageData, toLogin } from './api.ts';
import type { Envelope, LiveTopic } from './live.ts';
import { chartSummary, cstClock, cstClockOfMs, fmtLots, fmtPrice, nsToMs } from './market-format.ts';

const CHART_HEIGHT = 280;

const STATE_TEXT: Record<string, { icon: string; text: string }> = {
  ok: { icon: '✓', text: 'OK' },
  warn: { icon: '⚠', text: 'Warning' },
  error: { icon: '✖', text: 'Error' },
  empty: { icon: '○', text: 'Empty' },
  unknown: { icon: '?', text: 'Unknown' },
};

interface MarketPageData extends PageData {
  market?: MarketJson | null;
  tick_table_rows?: number;
}

function setText(id: string, text: string): void {
  const el = document.getElementById(id);
  if (el && el.textContent !== text) el.textContent = text;
}

/** uPlot's columns: x in epoch seconds (its time unit), then last, bid1, ask1. */
function columns(points: readonly MarketPointJson[]): uPlot.AlignedData {
  const xs: number[] = [];
  const last: (number | null)[] = [];
  const bid: (number | null)[] = [];
  const ask: (number | null)[] = [];
  for (const p of points) {
    xs.push(nsToMs(p[0]) / 1000);
    last.push(p[1]);
    bid.push(p[2]);
    ask.push(p[3]);
  }
  return [xs, last, bid, ask];
}

function makeChart(el: HTMLElement, m: MarketJson): uPlot {
  const decs = m.quote?.price_decs ?? 0;
  const price = (_u: uPlot, v: number | null) => fmtPrice(v, decs);
  // Exchange time, 24 h, whatever the viewer's time zone (x values are epoch seconds).
  const time = (v: number) => cstClockOfMs(Math.round(v * 1000));
  return new uPlot(
    {
      width: Math.max(320, el.clientWidth),
      height: CHART_HEIGHT,
      scales: { x: { time: true } },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: 'Time (CST)', value: (_u, v) => (v === null ? '—' : time(v)) },
        { label: 'Last', stroke: '#1b1f24', width: 2, value: price },
        // Bid and ask differ by dash pattern as well as colour (never by colour alone).
        { label: 'Bid 1', stroke: '#0550ae', width: 1, dash: [6, 3], value: price },
        { label: 'Ask 1', stroke: '#8b0000', width: 1, dash: [2, 3], value: price },
      ],
      axes: [
        { values: (_u, vals) => vals.map((v) => time(v).slice(0, 8)) },
        { size: 80, values: (_u, vals) => vals.map((v) => fmtPrice(v, decs)) },
      ],
    },
    columns(m.points),
    el,
  );
}

function renderFeed(m: MarketJson): void {
  const f = m.feed;
  const state = STATE_TEXT[f.state] ?? { icon: '?', text: f.state };
  const holder = document.getElementById('market-feed-state');
  if (holder) {
    const label = holder.querySelector('.state');
    if (label) {
      label.className = `state state-${f.state}`;
      label.textContent = '';
      const icon = document.createElement('span');
      icon.setAttribute('aria-hidden', 'true');
      icon.textContent = state.icon;
      label.append(icon, ` ${state.text}`);
    }
  }
  setText('market-feed-text', f.text);
  const stale = document.getElementById('market-feed-stale');
  if (stale) stale.hidden = !f.stale;
}

function renderBook(m: MarketJson): void {
  const q = m.quote;
  const decs = q?.price_decs ?? 0;
  for (const cell of document.querySelectorAll<HTMLElement>('[data-book]')) {
    const [field, index] = (cell.dataset.book ?? '').split(':');
    const i = Number(index);
    let text = '—';
    if (q) {
      if (field === 'bid_price') text = fmtPrice(q.bid_price[i], decs);
      else if (field === 'ask_price') text = fmtPrice(q.ask_price[i], decs);
      else if (field === 'bid_volume') text = fmtLots(q.bid_volume[i]);
      else if (field === 'ask_volume') text = fmtLots(q.ask_volume[i]);
    }
    if (cell.textContent !== text) cell.textContent = text;
  }
  setText('market-book-caption', `Best five bid and ask levels of ${m.main_contract ?? 'the main contract'}`);
}

function renderTicks(m: MarketJson, rows: number): void {
  const body = document.getElementById('market-ticks-body');
  if (!body) return;
  const decs = m.quote?.price_decs ?? 0;
  const trs = m.points
    .slice(-rows)
    .reverse()
    .map((p) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = cstClock(p[0]);
      tr.append(th);
      for (const text of [fmtPrice(p[1], decs), fmtPrice(p[2], decs), fmtPrice(p[3], decs), fmtLots(p[4])]) {
        const td = document.createElement('td');
        td.className = 'num';
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    });
  body.replaceChildren(...trs);
}

/** Points the page keeps (the server's default window). */
const MAX_POINTS = 600;

/**
 * The live market panel (Market page, dashboard): follows `ticks:<var>` over `/ws` (the quote and feed status whole,
 * the points since the previous message appended, replaced on `reset`); a `seq` gap, a reconnect and the polling
 * fallback (every 2 s while the socket or Redis is down) refetch `GET /api/market/{var}`.
 */
export function initMarketPanel(data: MarketPageData): LiveTopic[] {
  const initial = data.market;
  const variety = data.variety;
  // No feed: the page says so, and nothing would change until the stack restarts.
  if (!initial || !variety) return [];
  const rows = data.tick_table_rows ?? 10;
  const chartEl = document.getElementById('market-chart');
  let chart: uPlot | null = chartEl ? makeChart(chartEl, initial) : null;
  let main = initial.main_contract;
  let current: MarketJson = initial;

  const render = (m: MarketJson) => {
    current = m;
    renderFeed(m);
    const q = m.quote;
    const decs = q?.price_decs ?? 0;
    setText('market-main', m.main_contract ?? '—');
    setText('market-last', fmtPrice(q?.last_price, decs));
    setText('market-time', q?.datetime_ns ? cstClock(q.datetime_ns) : '—');
    setText('market-volume', fmtLots(q?.volume));
    setText('market-oi', fmtLots(q?.open_interest));
    renderBook(m);
    renderTicks(m, rows);
    setText('market-chart-summary', chartSummary(m.points, decs));
    if (chartEl && (m.main_contract !== main || !chart)) {
      // A roll changes the price level and decimals: rebuild rather than rescale.
      chart?.destroy();
      chart = makeChart(chartEl, m);
      main = m.main_contract;
    } else {
      chart?.setData(columns(m.points));
    }
  };

  window.addEventListener('resize', () => {
    if (chart && chartEl) chart.setSize({ width: Math.max(320, chartEl.clientWidth), height: CHART_HEIGHT });
  });

  return [
    {
      topic: `ticks:${variety}`,
      apply(env: Envelope) {
        if (env.type !== 'ticks') return;
        const t = env.payload as TicksMessage;
        const points = t.reset ? t.points : [...current.points, ...t.points].slice(-MAX_POINTS);
        render({ var: t.var, main_contract: t.main_contract, quote: t.quote, feed: t.feed, points });
      },
      async refetch() {
        try {
          render(await api<MarketJson>('GET', `/api/market/${variety}`));
        } catch (err) {
          if (err instanceof ApiError && err.status === 401) {
            toLogin();
            return;
          }
          setText('market-feed-text', `could not refresh: ${err instanceof Error ? err.message : String(err)}`);
          const stale = document.getElementById('market-feed-stale');
          if (stale) stale.hidden = false;
        }
      },
    },
  ];
}
