/**
 * `GET /api/market/{var}` [viewer]: the live market panel of one variety, from the in-memory market feed
 * (`AppDeps.market`): `{var, main_contract, quote, points, feed}`. Instants are decimal epoch-ns strings; a price or
 * volume the provider did not have is null. No market feed -> 503 `dependency_unavailable`; a variety other than
 * cu, au, ag -> 404 `not_found`.
 */
import { type Context, Hono } from 'hono';
import { type Variety, VarietySchema } from '#shared/domain/control/varieties.ts';
import type { MarketFeedSource } from '#shared/domain/market/feed.ts';
import { marketJson } from '#shared/domain/market/feed-json.ts';
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

export {
  type MarketJson,
  type MarketPointJson,
  type MarketQuoteJson,
  marketJson,
} from '#shared/domain/market/feed-json.ts';

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
