/**
 * Daily settlement of one ledger at 18:00 CST (market-protocol §2.6). Pure over the ledger; returns what changed so
 * the caller can tell connected clients.
 *
 * Order of steps: cancel ALIVE GFD orders ("交易日结束，自动撤销当日有效的委托单（GFD）"); close positions in contracts
 * whose last trading day this is at the settlement price; mark every position to the settlement price (its position
 * profit becomes part of the balance); today → his; delete empty positions; `pre_balance = balance`; reset
 * close_profit, commission and frozen amounts; advance the trading day. Orders and trades of days before the settled
 * one are dropped (the settled day's stay visible until the next settlement, so clients see the GFD cancels).
 */
import { recomputeAccount, recomputePosition, releaseClose } from './bookkeeping.ts';
import { type Ledger, STATEMENTS_MAX } from './ledger.ts';
import { type ContractTerms, roundMoney } from './terms.ts';

export const GFD_EXPIRED_MSG = '交易日结束，自动撤销当日有效的委托单（GFD）';

export interface SettlementInputs {
  /** ISO trading day being settled (must be the ledger's). */
  tradingDay: string;
  nextTradingDay: string;
  /** Settlement price of a contract for `tradingDay`; NaN when unknown (the position's last price is used). */
  settlementPrice: (symbol: string) => number;
  /** True when `tradingDay` is the contract's last trading day. */
  expiresToday: (symbol: string) => boolean;
  termsOf: (symbol: string) => ContractTerms | null;
}

export interface SettlementOutcome {
  cancelledOrders: string[];
  expiredCloses: { symbol: string; long: number; short: number; price: number; profit: number }[];
  changedPositions: string[];
  deletedPositions: string[];
  deletedOrders: string[];
  deletedTrades: string[];
  statement: string;
}

export function settleLedger(ledger: Ledger, inputs: SettlementInputs): SettlementOutcome {
  const out: SettlementOutcome = {
    cancelledOrders: [],
    expiredCloses: [],
    changedPositions: [],
    deletedPositions: [],
    deletedOrders: [],
    deletedTrades: [],
    statement: '',
  };
  const productOf = (s: string) => inputs.termsOf(s)?.product ?? s;

  for (const [id, o] of Object.entries(ledger.orders)) {
    if (o.status !== 'ALIVE') continue;
    const p = ledger.positions[`${o.exchange_id}.${o.instrument_id}`];
    if (p && o.offset !== 'OPEN') releaseClose(p, o, o.volume_left);
    o.status = 'FINISHED';
    o.last_msg = GFD_EXPIRED_MSG;
    o.frozen_margin = 0;
    out.cancelledOrders.push(id);
  }

  for (const [symbol, p] of Object.entries(ledger.positions)) {
    const t = inputs.termsOf(symbol);
    if (!t) continue;
    const settle = inputs.settlementPrice(symbol);
    const price = Number.isFinite(settle) ? settle : p.last_price;
    p.last_price = price;
    p.volume_long_frozen_today = 0;
    p.volume_long_frozen_his = 0;
    p.volume_short_frozen_today = 0;
    p.volume_short_frozen_his = 0;
    if (
      inputs.expiresToday(symbol) &&
      (p.volume_long_today + p.volume_long_his > 0 || p.volume_short_today + p.volume_short_his > 0)
    ) {
      recomputePosition(p, t);
      const long = p.volume_long;
      const short = p.volume_short;
      const profit = roundMoney(
        price * long * t.volumeMultiple -
          p.position_cost_long -
          (price * short * t.volumeMultiple - p.position_cost_short),
      );
      ledger.account.close_profit = roundMoney(ledger.account.close_profit + profit);
      p.volume_long_today = 0;
      p.volume_long_his = 0;
      p.volume_short_today = 0;
      p.volume_short_his = 0;
      p.open_cost_long = 0;
      p.open_cost_short = 0;
      p.position_cost_long = 0;
      p.position_cost_short = 0;
      out.expiredCloses.push({ symbol, long, short, price, profit });
    }
    recomputePosition(p, t);
    out.changedPositions.push(symbol);
  }

  // The marked position profit is realised into the balance that becomes tomorrow's pre_balance.
  recomputeAccount(ledger, productOf);
  const a = ledger.account;
  const statement = statementText(ledger, inputs.tradingDay);
  a.pre_balance = a.balance;
  a.deposit = 0;
  a.withdraw = 0;
  a.close_profit = 0;
  a.commission = 0;
  a.premium = 0;
  a.frozen_margin = 0;
  a.frozen_commission = 0;
  a.frozen_premium = 0;

  for (const [symbol, p] of Object.entries(ledger.positions)) {
    const t = inputs.termsOf(symbol);
    if (!t) continue;
    p.volume_long_his += p.volume_long_today;
    p.volume_long_today = 0;
    p.volume_short_his += p.volume_short_today;
    p.volume_short_today = 0;
    p.volume_long_yd = p.volume_long_his;
    p.volume_short_yd = p.volume_short_his;
    p.position_cost_long = p.last_price * p.volume_long_his * t.volumeMultiple;
    p.position_cost_short = p.last_price * p.volume_short_his * t.volumeMultiple;
    recomputePosition(p, t);
    if (p.volume_long === 0 && p.volume_short === 0) {
      delete ledger.positions[symbol];
      out.deletedPositions.push(symbol);
    }
  }
  out.changedPositions = out.changedPositions.filter((s) => ledger.positions[s] !== undefined);

  for (const [id, day] of Object.entries(ledger.order_days)) {
    if (day >= inputs.tradingDay) continue;
    delete ledger.orders[id];
    delete ledger.order_days[id];
    delete ledger.fill_counts[id];
    out.deletedOrders.push(id);
  }
  for (const [id, day] of Object.entries(ledger.trade_days)) {
    if (day >= inputs.tradingDay) continue;
    delete ledger.trades[id];
    delete ledger.trade_days[id];
    out.deletedTrades.push(id);
  }

  ledger.trading_day = inputs.nextTradingDay;
  ledger.exchange_order_seq = 0;
  recomputeAccount(ledger, productOf);
  ledger.statements.push({ trading_day: inputs.tradingDay, text: statement });
  if (ledger.statements.length > STATEMENTS_MAX) ledger.statements.splice(0, ledger.statements.length - STATEMENTS_MAX);
  out.statement = statement;
  return out;
}

/** A plain-text settlement statement (the sim's stand-in for a broker's 结算单). */
export function statementText(ledger: Ledger, tradingDay: string): string {
  const a = ledger.account;
  const lines = [
    `ghsim 结算单 / settlement statement`,
    `账户 user: ${ledger.user_name}    交易日 trading day: ${tradingDay}`,
    `上日结存 pre_balance: ${a.pre_balance.toFixed(2)}`,
    `平仓盈亏 close_profit: ${a.close_profit.toFixed(2)}`,
    `持仓盯市盈亏 position_profit: ${a.position_profit.toFixed(2)}`,
    `手续费 commission: ${a.commission.toFixed(2)}`,
    `当日结存 balance: ${a.balance.toFixed(2)}`,
    `保证金占用 margin: ${a.margin.toFixed(2)}`,
    `可用资金 available: ${a.available.toFixed(2)}`,
    `持仓 positions:`,
  ];
  for (const [symbol, p] of Object.entries(ledger.positions)) {
    const long = p.volume_long_today + p.volume_long_his;
    const short = p.volume_short_today + p.volume_short_his;
    if (long === 0 && short === 0) continue;
    lines.push(`  ${symbol} long ${long} short ${short} settle ${p.last_price}`);
  }
  return lines.join('\n');
}
