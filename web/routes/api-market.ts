/**
 * `GET /api/market/{var}` [viewer]: the live market panel of one variety, from the in-memory market feed
 * (`AppDeps.market`): `{var, main_contract, quote, points, feed}`. Instants are decimal epoch-ns strings; a price or
 * volume the provider did not have is null. No market feed -> 503 `dependency_unavailable`; a variety other than
 * cu, au, ag -> 404 `not_found`.
 */
import { type Context, Hono } from 'hono';
import { type Variety, VarietySchema } from '#shared/domain/control/varieties.ts';
import type { FeedStatus, MarketFeedSource, MarketQuote, MarketSnapshot } from '#shared/domain/market/feed.ts';
import { ControlError, NotFoundError } from '#shared/errors/control.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { requireRole } from '../middleware/require-role.ts';

/** The console runs without a market-data source (`ghtrader up --no-sim`, or none configured). */
export class MarketFeedOffError extends ControlError {
  constructor() {
    super(
      'dependency_unavailable',
      503,
      'the market feed is off: this console runs without a market-data source (ghtrader up --no-sim); start it without --no-sim to see live quotes',
      { details: { dependency: 'market_feed' } },
    );
  }
}

/** `[datetime_ns, last, bid1, ask1, volume]` with the instant as a decimal string. */
export type MarketPointJson = [string, number | null, number | null, number | null, number | null];

export interface MarketQuoteJson {
  symbol: string;
  datetime: string;
  datetime_ns: string | null;
  last_price: number | null;
  bid_price: (number | null)[];
  bid_volume: (number | null)[];
  ask_price: (number | null)[];
  ask_volume: (number | null)[];
  volume: number | null;
  open_interest: number | null;
  highest: number | null;
  lowest: number | null;
  pre_settlement: number | null;
  price_decs: number;
  /** `quote` (the provider's quote) or `tick` (built from the latest tick while no quote arrives). */
  source: 'quote' | 'tick';
}

export interface MarketJson {
  var: Variety;
  main_contract: string | null;
  quote: MarketQuoteJson | null;
  points: MarketPointJson[];
  feed: FeedStatus;
}

/** NaN and ±Infinity have no JSON form: they leave as null ("the provider had no value"). */
function n(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function quoteJson(q: MarketQuote): MarketQuoteJson {
  return {
    symbol: q.symbol,
    datetime: q.datetime,
    datetime_ns: q.datetime_ns === null ? null : q.datetime_ns.toString(),
    last_price: n(q.last_price),
    bid_price: q.bid_price.map(n),
    bid_volume: q.bid_volume.map(n),
    ask_price: q.ask_price.map(n),
    ask_volume: q.ask_volume.map(n),
    volume: n(q.volume),
    open_interest: n(q.open_interest),
    highest: n(q.highest),
    lowest: n(q.lowest),
    pre_settlement: n(q.pre_settlement),
    price_decs: q.price_decs,
    source: q.source,
  };
}

/** The API (and page-data) form of a snapshot. */
export function marketJson(s: MarketSnapshot): MarketJson {
  return {
    var: s.variety,
    main_contract: s.main_contract,
    quote: s.quote === null ? null : quoteJson(s.quote),
    points: s.points.map(([ts, last, bid, ask, vol]) => [ts.toString(), n(last), n(bid), n(ask), n(vol)]),
    feed: s.feed,
  };
}

/** The `var` path parameter as a variety, or 404. */
export function varietyParam(c: Context<WebEnv>): Variety {
  const v = c.req.param('var') ?? '';
  const r = VarietySchema.safeParse(v);
  if (!r.success) throw new NotFoundError('variety', v.slice(0, 16));
  return r.data;
}

/** The market feed, or 503 when this app has none. */
export function requireMarket(deps: AppDeps): MarketFeedSource {
  if (!deps.market) throw new MarketFeedOffError();
  return deps.market;
}

export function marketRoutes(deps: AppDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get('/:var', requireRole(deps, 'viewer'), (c) => {
    const variety = varietyParam(c);
    return c.json(marketJson(requireMarket(deps).snapshot(variety)));
  });
  return app;
}
