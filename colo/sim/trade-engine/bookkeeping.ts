/**
 * Position and account arithmetic (market-protocol §2.6 "Bookkeeping", identities of §1.7). Pure functions over the
 * ledger shapes; callers mark what changed.
 *
 * - SHFE keeps today and his (yesterday) volumes apart; CLOSETODAY takes from today, CLOSE from his.
 * - Close profit is taken against the position price (reset to the settlement price every night):
 *   SELL close of a long: (price − position_price_long) × volume × volume_multiple; BUY close of a short mirrored.
 * - Position margin = lots × per-lot margin; the account margin per product is its bigger side (max of long, short).
 * - balance = static + close_profit − commission − premium + position_profit;
 *   available = balance − margin − frozen_margin − frozen_commission − frozen_premium; risk_ratio = margin / balance.
 */
import type { Account, Ledger, Order, Position } from './ledger.ts';
import { type ContractTerms, roundMoney } from './terms.ts';

export type Side = 'long' | 'short';

/** The position side an order touches: OPEN BUY and CLOSE SELL both concern the long side. */
export function sideOf(direction: string, offset: string): Side {
  const buy = direction === 'BUY';
  return offset === 'OPEN' ? (buy ? 'long' : 'short') : buy ? 'short' : 'long';
}

/** Recompute every derived field of a position from its volumes, costs and `last_price`. */
export function recomputePosition(p: Position, t: ContractTerms): void {
  for (const side of ['long', 'short'] as const) {
    const today = p[`volume_${side}_today`];
    const his = p[`volume_${side}_his`];
    const vol = today + his;
    p[`volume_${side}`] = vol;
    p[`volume_${side}_frozen`] = p[`volume_${side}_frozen_today`] + p[`volume_${side}_frozen_his`];
    p[`pos_${side}_today`] = today;
    p[`pos_${side}_his`] = his;
    if (vol === 0) {
      p[`open_cost_${side}`] = 0;
      p[`position_cost_${side}`] = 0;
      p[`open_price_${side}`] = 0;
      p[`position_price_${side}`] = 0;
    } else {
      p[`open_price_${side}`] = p[`open_cost_${side}`] / (vol * t.volumeMultiple);
      p[`position_price_${side}`] = p[`position_cost_${side}`] / (vol * t.volumeMultiple);
    }
    const sign = side === 'long' ? 1 : -1;
    const hasPrice = Number.isFinite(p.last_price) && vol > 0;
    p[`float_profit_${side}`] = hasPrice
      ? roundMoney(sign * (p.last_price * vol * t.volumeMultiple - p[`open_cost_${side}`]))
      : 0;
    p[`position_profit_${side}`] = hasPrice
      ? roundMoney(sign * (p.last_price * vol * t.volumeMultiple - p[`position_cost_${side}`]))
      : 0;
    p[`margin_${side}`] = roundMoney(vol * t.marginPerLot);
  }
  p.float_profit = roundMoney(p.float_profit_long + p.float_profit_short);
  p.position_profit = roundMoney(p.position_profit_long + p.position_profit_short);
  p.margin = roundMoney(p.margin_long + p.margin_short);
}

/** Recompute the account from its inputs, its positions and its ALIVE orders (identities of §1.7). */
export function recomputeAccount(ledger: Ledger, productOf: (symbol: string) => string): void {
  const a: Account = ledger.account;
  let positionProfit = 0;
  let floatProfit = 0;
  const sides = new Map<string, { long: number; short: number }>();
  for (const [symbol, p] of Object.entries(ledger.positions)) {
    positionProfit += p.position_profit;
    floatProfit += p.float_profit;
    const product = productOf(symbol);
    const s = sides.get(product) ?? { long: 0, short: 0 };
    s.long += p.margin_long;
    s.short += p.margin_short;
    sides.set(product, s);
  }
  let margin = 0;
  for (const s of sides.values()) margin += Math.max(s.long, s.short);
  let frozenMargin = 0;
  for (const o of Object.values(ledger.orders)) if (o.status === 'ALIVE') frozenMargin += o.frozen_margin;
  a.position_profit = roundMoney(positionProfit);
  a.float_profit = roundMoney(floatProfit);
  a.margin = roundMoney(margin);
  a.frozen_margin = roundMoney(frozenMargin);
  a.static_balance = roundMoney(a.pre_balance + a.deposit - a.withdraw);
  a.balance = roundMoney(a.static_balance + a.close_profit - a.commission - a.premium + a.position_profit);
  a.available = roundMoney(a.balance - a.margin - a.frozen_margin - a.frozen_commission - a.frozen_premium);
  a.risk_ratio = a.balance > 0 ? a.margin / a.balance : 0;
}

/** Freeze the close volume of an accepted CLOSE/CLOSETODAY order on its position. */
export function freezeClose(p: Position, order: Pick<Order, 'direction' | 'offset'>, volume: number): void {
  const side = sideOf(order.direction, order.offset);
  if (order.offset === 'CLOSETODAY') p[`volume_${side}_frozen_today`] += volume;
  else if (order.offset === 'CLOSE') p[`volume_${side}_frozen_his`] += volume;
}

/** Release `volume` lots frozen by a close order (cancel, fill, expiry). */
export function releaseClose(p: Position, order: Pick<Order, 'direction' | 'offset'>, volume: number): void {
  const side = sideOf(order.direction, order.offset);
  if (order.offset === 'CLOSETODAY') {
    p[`volume_${side}_frozen_today`] = Math.max(0, p[`volume_${side}_frozen_today`] - volume);
  } else if (order.offset === 'CLOSE') {
    p[`volume_${side}_frozen_his`] = Math.max(0, p[`volume_${side}_frozen_his`] - volume);
  }
}

/**
 * Apply a fill of `volume` lots at `price` to the position and the account's close profit and commission.
 * For a close, the frozen volume of the order is released as it is consumed. Returns the close profit realised.
 */
export function applyFillToPosition(
  ledger: Ledger,
  p: Position,
  order: Pick<Order, 'direction' | 'offset'>,
  price: number,
  volume: number,
  t: ContractTerms,
): number {
  const side = sideOf(order.direction, order.offset);
  const notional = price * volume * t.volumeMultiple;
  let closeProfit = 0;
  if (order.offset === 'OPEN') {
    p[`volume_${side}_today`] += volume;
    p[`open_cost_${side}`] += notional;
    p[`position_cost_${side}`] += notional;
  } else {
    const vol = p[`volume_${side}_today`] + p[`volume_${side}_his`];
    const openPrice = vol > 0 ? p[`open_cost_${side}`] / (vol * t.volumeMultiple) : 0;
    const positionPrice = vol > 0 ? p[`position_cost_${side}`] / (vol * t.volumeMultiple) : 0;
    const sign = side === 'long' ? 1 : -1;
    closeProfit = roundMoney(sign * (price - positionPrice) * volume * t.volumeMultiple);
    if (order.offset === 'CLOSETODAY') p[`volume_${side}_today`] -= volume;
    else p[`volume_${side}_his`] -= volume;
    releaseClose(p, order, volume);
    const remaining = vol - volume;
    // Costs shrink at the average price, so the average of what is left stays where it was.
    p[`open_cost_${side}`] = remaining > 0 ? openPrice * remaining * t.volumeMultiple : 0;
    p[`position_cost_${side}`] = remaining > 0 ? positionPrice * remaining * t.volumeMultiple : 0;
    ledger.account.close_profit = roundMoney(ledger.account.close_profit + closeProfit);
  }
  ledger.account.commission = roundMoney(ledger.account.commission + volume * t.commissionPerLot);
  if (!Number.isFinite(p.last_price) || p.last_price === 0) p.last_price = price;
  recomputePosition(p, t);
  return closeProfit;
}
