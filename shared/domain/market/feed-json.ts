/**
 * The JSON form of the market panel (`GET /api/market/{var}`, page data, and the `ticks:<var>` warm-path messages):
 * instants as decimal epoch-ns strings, a price or volume the provider did not have as null. Pure.
 */
import type { Variety } from '../control/varieties.ts';
import type { FeedStatus, MarketQuote, MarketSnapshot } from './feed.ts';

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

export function pointJson([ts, last, bid, ask, vol]: MarketSnapshot['points'][number]): MarketPointJson {
  return [ts.toString(), n(last), n(bid), n(ask), n(vol)];
}

export function quoteJson(q: MarketQuote): MarketQuoteJson {
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
    points: s.points.map(pointJson),
    feed: s.feed,
  };
}

/**
 * A `ticks:<var>` warm-path message (control-chain §7: the main-contract summary, ≤ 2 Hz): the whole quote and feed
 * status, and the points since the previous message (`reset`: the whole window, replacing what the reader holds —
 * the first message, and after a roll). A reader that sees a `seq` gap refetches `GET /api/market/{var}`.
 */
export interface TicksMessage {
  v: 1;
  var: Variety;
  main_contract: string | null;
  quote: MarketQuoteJson | null;
  feed: FeedStatus;
  points: MarketPointJson[];
  reset: boolean;
}

/** What the previous message of a variety carried, to tell what is new. */
export interface TicksCursor {
  main: string | null;
  lastTs: bigint | null;
  quoteAt: string | null;
  feedKey: string;
}

/** The next message for `snap` after `prev` (null before the first), or null when nothing changed. */
export function ticksMessage(
  prev: TicksCursor | null,
  snap: MarketSnapshot,
): { message: TicksMessage; cursor: TicksCursor } | null {
  const last = snap.points.at(-1);
  const cursor: TicksCursor = {
    main: snap.main_contract,
    lastTs: last ? last[0] : null,
    quoteAt: snap.quote?.datetime_ns?.toString() ?? snap.quote?.datetime ?? null,
    feedKey: `${snap.feed.state}|${snap.feed.stale}|${snap.feed.text}|${snap.feed.error}`,
  };
  const reset = prev === null || prev.main !== snap.main_contract;
  if (!reset && prev.lastTs === cursor.lastTs && prev.quoteAt === cursor.quoteAt && prev.feedKey === cursor.feedKey) {
    return null;
  }
  const after = reset ? null : prev.lastTs;
  const points = (after === null ? snap.points : snap.points.filter((p) => p[0] > after)).map(pointJson);
  return {
    message: {
      v: 1,
      var: snap.variety,
      main_contract: snap.main_contract,
      quote: snap.quote === null ? null : quoteJson(snap.quote),
      feed: snap.feed,
      points,
      reset,
    },
    cursor,
  };
}
