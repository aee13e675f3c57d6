/**
 * The `insert_order` frame (market-protocol §1.10) and the local refusals that keep a bad order from ever being sent:
 * volume not a positive integer or above `max_limit_order_volume`; NaN or off-grid price; price outside
 * `[lower_limit, upper_limit]` when known; unknown direction/offset; market orders (SHFE rejects ANY/BEST/FIVELEVEL);
 * `KQ.*` aliases; an order id outside `^[A-Za-z0-9_-]{1,64}$`.
 */
import { CONTRACT_SPECS, priceToTicks } from '#shared/domain/market/contracts.ts';
import { isVariety } from '#shared/domain/market/varieties.ts';
import type { OrderRequest } from '#shared/domain/trading/ports.ts';
import { OrderRefusedError } from '#shared/errors/diff.ts';
import type { DiffFrame } from './transport.ts';

/** What the client knows about an instrument for local order checks (from md quotes when available). */
export interface InstrumentLimits {
  price_tick?: number;
  max_limit_order_volume?: number;
  upper_limit?: number;
  lower_limit?: number;
}

export const ORDER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The exact `insert_order` frame for a request, after the local refusals of §1.10. Pure; exported for tests. */
export function insertOrderFrame(userName: string, req: OrderRequest, limits: InstrumentLimits | undefined): DiffFrame {
  const refuse = (reason: string, message: string): never => {
    throw new OrderRefusedError(reason, `order ${req.order_id} refused locally: ${message}`, {
      order_id: req.order_id,
      symbol: req.symbol,
    });
  };
  if (typeof req.order_id !== 'string' || !ORDER_ID.test(req.order_id)) {
    refuse('bad_order_id', `order_id must match ${ORDER_ID.source}`);
  }
  if (typeof req.symbol !== 'string' || req.symbol.startsWith('KQ.'))
    refuse('not_tradable', `${req.symbol} is not a tradable contract`);
  const dot = req.symbol.indexOf('.');
  const exchangeId = req.symbol.slice(0, dot);
  const instrumentId = req.symbol.slice(dot + 1);
  if (dot <= 0 || instrumentId === '') refuse('bad_symbol', `expected EXCHANGE.instrument, found ${req.symbol}`);
  if (req.direction !== 'BUY' && req.direction !== 'SELL')
    refuse('bad_direction', `unknown direction ${String(req.direction)}`);
  if (req.offset !== 'OPEN' && req.offset !== 'CLOSE' && req.offset !== 'CLOSETODAY') {
    refuse('bad_offset', `unknown offset ${String(req.offset)}`);
  }
  const priceType = req.price_type ?? 'LIMIT';
  if (priceType !== 'LIMIT') {
    refuse(
      'market_order',
      `SHFE rejects ${priceType} orders; price aggressive orders at the opposite best or the limit`,
    );
  }
  if (!Number.isInteger(req.volume) || req.volume <= 0)
    refuse('bad_volume', `volume must be a positive integer, found ${req.volume}`);
  const maxVol = limits?.max_limit_order_volume;
  if (maxVol !== undefined && Number.isFinite(maxVol) && req.volume > maxVol) {
    refuse('volume_above_max', `volume ${req.volume} above max_limit_order_volume ${maxVol}`);
  }
  if (typeof req.limit_price !== 'number' || !Number.isFinite(req.limit_price)) {
    refuse('bad_price', `limit_price must be a finite number, found ${String(req.limit_price)}`);
  }
  const tick = limits?.price_tick ?? specTick(exchangeId, instrumentId);
  if (tick === undefined || !Number.isFinite(tick)) refuse('unknown_tick', `price_tick of ${req.symbol} is unknown`);
  if (priceToTicks(req.limit_price, tick as number) === null) {
    refuse('off_grid', `limit_price ${req.limit_price} is not a multiple of price_tick ${tick}`);
  }
  const up = limits?.upper_limit;
  const low = limits?.lower_limit;
  if (up !== undefined && Number.isFinite(up) && req.limit_price > up)
    refuse('above_upper_limit', `limit_price above upper_limit ${up}`);
  if (low !== undefined && Number.isFinite(low) && req.limit_price < low)
    refuse('below_lower_limit', `limit_price below lower_limit ${low}`);
  const kind = req.kind ?? 'LIMIT';
  if (kind !== 'LIMIT' && kind !== 'FAK' && kind !== 'FOK') refuse('bad_kind', `unknown order kind ${String(kind)}`);
  return {
    aid: 'insert_order',
    user_id: userName,
    order_id: req.order_id,
    exchange_id: exchangeId,
    instrument_id: instrumentId,
    direction: req.direction,
    offset: req.offset,
    volume: req.volume,
    price_type: 'LIMIT',
    limit_price: req.limit_price,
    time_condition: kind === 'LIMIT' ? 'GFD' : 'IOC',
    volume_condition: kind === 'FOK' ? 'ALL' : 'ANY',
  };
}

/** The contract spec tick of an SHFE instrument (`cu2502` → 10), when the variety is ours. */
function specTick(exchangeId: string, instrumentId: string): number | undefined {
  if (exchangeId !== 'SHFE') return undefined;
  const v = instrumentId.slice(0, 2);
  return isVariety(v) ? CONTRACT_SPECS[v].price_tick : undefined;
}
