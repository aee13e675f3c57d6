/**
 * `/v/{var}/market`: the variety's main contract live — last price, the 5-level book, and a chart of recent
 * last/bid1/ask1 ticks with its text summary and a table view. The first paint carries the data; the client script
 * polls `GET /api/market/{var}` every second and redraws. Without a market feed the page says it is off.
 */
import { chartSummary, cstClock, fmtLots, fmtPrice } from '../client/market-format.ts';
import type { MarketJson } from '../routes/api-market.ts';
import { type ChromeContext, Layout } from './layout.tsx';
import { StateLabel } from './state-label.tsx';

/** Rows of the server-rendered table view (the client keeps the same count). */
export const TICK_TABLE_ROWS = 10;

function FeedLine(props: { m: MarketJson }) {
  const f = props.m.feed;
  return (
    <p id="market-feed" class="feed-line" data-state={f.state}>
      <span id="market-feed-state">
        <StateLabel state={f.state} />
      </span>{' '}
      <span id="market-feed-text">{f.text}</span>
      <span id="market-feed-stale" class="badge badge-warn" hidden={!f.stale}>
        <span aria-hidden="true">⚠</span> stale
      </span>
    </p>
  );
}

function BookTable(props: { m: MarketJson }) {
  const q = props.m.quote;
  const decs = q?.price_decs ?? 0;
  return (
    <table class="book" id="market-book">
      <caption id="market-book-caption">
        Best five bid and ask levels of {props.m.main_contract ?? 'the main contract'}
      </caption>
      <thead>
        <tr>
          <th scope="col">Level</th>
          <th scope="col" class="num">
            Bid volume
          </th>
          <th scope="col" class="num">
            Bid price
          </th>
          <th scope="col" class="num">
            Ask price
          </th>
          <th scope="col" class="num">
            Ask volume
          </th>
        </tr>
      </thead>
      <tbody>
        {[0, 1, 2, 3, 4].map((i) => (
          <tr>
            <th scope="row">{i + 1}</th>
            <td class="num" data-book={`bid_volume:${i}`}>
              {fmtLots(q?.bid_volume[i])}
            </td>
            <td class="num" data-book={`bid_price:${i}`}>
              {fmtPrice(q?.bid_price[i], decs)}
            </td>
            <td class="num" data-book={`ask_price:${i}`}>
              {fmtPrice(q?.ask_price[i], decs)}
            </td>
            <td class="num" data-book={`ask_volume:${i}`}>
              {fmtLots(q?.ask_volume[i])}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TickTable(props: { m: MarketJson }) {
  const decs = props.m.quote?.price_decs ?? 0;
  const newest = props.m.points.slice(-TICK_TABLE_ROWS).reverse();
  return (
    <table id="market-ticks">
      <caption>Newest {TICK_TABLE_ROWS} ticks, newest first (CST)</caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col" class="num">
            Last
          </th>
          <th scope="col" class="num">
            Bid 1
          </th>
          <th scope="col" class="num">
            Ask 1
          </th>
          <th scope="col" class="num">
            Volume
          </th>
        </tr>
      </thead>
      <tbody id="market-ticks-body">
        {newest.map((p) => (
          <tr>
            <th scope="row">{cstClock(p[0])}</th>
            <td class="num">{fmtPrice(p[1], decs)}</td>
            <td class="num">{fmtPrice(p[2], decs)}</td>
            <td class="num">{fmtPrice(p[3], decs)}</td>
            <td class="num">{fmtLots(p[4])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The live chart of last/bid 1/ask 1 with its text summary and table view (Market page, dashboard). */
export function ChartSection(props: { m: MarketJson; heading: string }) {
  const { m } = props;
  return (
    <section class="panel market-chart-panel" aria-labelledby="market-chart-h">
      <h2 id="market-chart-h">{props.heading}</h2>
      <FeedLine m={m} />
      <figure class="market-figure">
        <div id="market-chart" class="market-chart" aria-hidden="true" />
        <figcaption id="market-chart-summary" aria-live="off">
          {chartSummary(m.points, m.quote?.price_decs ?? 0)}
        </figcaption>
      </figure>
      <details>
        <summary>Table view</summary>
        <TickTable m={m} />
      </details>
    </section>
  );
}

function LivePanel(props: { m: MarketJson }) {
  const { m } = props;
  const q = m.quote;
  const decs = q?.price_decs ?? 0;
  return (
    <>
      <section aria-labelledby="market-kpi-h" class="kpis">
        <h2 id="market-kpi-h" class="visually-hidden">
          Main contract
        </h2>
        <dl>
          <div>
            <dt>Main contract</dt>
            <dd id="market-main">{m.main_contract ?? '—'}</dd>
          </div>
          <div>
            <dt>Last price</dt>
            <dd id="market-last">{fmtPrice(q?.last_price, decs)}</dd>
          </div>
          <div>
            <dt>Quote time (CST)</dt>
            <dd id="market-time">{q?.datetime_ns ? cstClock(q.datetime_ns) : '—'}</dd>
          </div>
          <div>
            <dt>Volume</dt>
            <dd id="market-volume">{fmtLots(q?.volume)}</dd>
          </div>
          <div>
            <dt>Open interest</dt>
            <dd id="market-oi">{fmtLots(q?.open_interest)}</dd>
          </div>
        </dl>
      </section>
      <div class="market-grid">
        <section class="panel" aria-labelledby="market-book-h">
          <h2 id="market-book-h">Order book</h2>
          <BookTable m={m} />
        </section>
        <ChartSection m={m} heading="Recent ticks: last, bid 1, ask 1" />
      </div>
    </>
  );
}

/** What the Market page and the dashboard pass to the client for the live panel. */
export function marketPageData(market: MarketJson | null) {
  return { market, tick_table_rows: TICK_TABLE_ROWS };
}

export function MarketPage(props: { ctx: ChromeContext; market: MarketJson | null; offMessage: string }) {
  const { ctx, market } = props;
  return (
    <Layout
      title={`Market · ${ctx.variety.toUpperCase()}`}
      ctx={ctx}
      pageData={{ page: 'market', ...marketPageData(market) }}
    >
      <h1>Market · {ctx.variety.toUpperCase()}</h1>
      {market === null ? (
        <section class="panel placeholder" aria-labelledby="market-off-h" id="market-off">
          <h2 id="market-off-h">
            <span aria-hidden="true">⏻</span> Market feed off
          </h2>
          <p>{props.offMessage}</p>
        </section>
      ) : (
        <LivePanel m={market} />
      )}
    </Layout>
  );
}
