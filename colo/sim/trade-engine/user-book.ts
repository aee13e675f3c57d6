/**
 * One simulated user's trading state and its operations (insert, cancel, match, mark, settle), with the bookkeeping
 * of what changed since the last drain so connected clients get merge patches of exactly the touched nodes.
 */
import { applyFillToPosition, freezeClose, recomputeAccount, recomputePosition, releaseClose } from './bookkeeping.ts';
import { checkIntake, INTAKE_MESSAGES, type InstrumentStatus, type IntakeResult } from './intake.ts';
import { emptyPosition, type Ledger, type Order, SEEN_ORDER_IDS_MAX, wireDay } from './ledger.ts';
import { type Book, type LevelUse, type MatchPolicy, matchOrder } from './matching.ts';
import { type SettlementInputs, type SettlementOutcome, settleLedger } from './settlement.ts';
import type { ContractTerms } from './terms.ts';

export interface NotifyOut {
  type: 'MESSAGE' | 'SETTLEMENT';
  level: 'INFO' | 'WARNING' | 'ERROR';
  code: number;
  content: string;
}

export interface InsertContext {
  instrument: InstrumentStatus;
  upperLimit: number;
  lowerLimit: number;
  inTradingTime: boolean;
  maintenance: boolean;
  /** Sim now (already carrying the odd-ns offset when that fault is on). */
  now: bigint;
  /** The contract's current book, or null when there is none yet (then matching waits for the next tick). */
  book: Book | null;
  lastPrice: number;
  policy: MatchPolicy;
  use: LevelUse;
}

export const CANCELLED_MSG = '已撤单';
export const IOC_CANCELLED_MSG = '已撤单报单已提交';
export const ALL_FILLED_MSG = '全部成交';
export const PART_FILLED_MSG = '部分成交';
export const CANCEL_FAILED_CODE = 421;

type Patch = Record<string, unknown>;

export class UserBook {
  readonly ledger: Ledger;
  private readonly termsOf: (symbol: string) => ContractTerms | null;
  private readonly seen: Set<string>;
  private dirtyAccount = false;
  private dirtyDay = false;
  private readonly dirtyPositions = new Set<string>();
  private readonly dirtyOrders = new Set<string>();
  private readonly dirtyTrades = new Set<string>();
  private readonly deletedPositions = new Set<string>();
  private readonly deletedOrders = new Set<string>();
  private readonly deletedTrades = new Set<string>();
  private notifies: NotifyOut[] = [];
  /** Set by every mutation; the engine persists the ledger and clears it. */
  changed = false;

  constructor(ledger: Ledger, termsOf: (symbol: string) => ContractTerms | null) {
    this.ledger = ledger;
    this.termsOf = termsOf;
    this.seen = new Set(ledger.seen_order_ids);
  }

  get userName(): string {
    return this.ledger.user_name;
  }

  private productOf = (symbol: string): string => this.termsOf(symbol)?.product ?? symbol;

  private remember(orderId: string): void {
    this.seen.add(orderId);
    this.ledger.seen_order_ids.push(orderId);
    if (this.ledger.seen_order_ids.length > SEEN_ORDER_IDS_MAX) {
      const dropped = this.ledger.seen_order_ids.shift();
      if (dropped !== undefined && this.ledger.orders[dropped] === undefined) this.seen.delete(dropped);
    }
  }

  private notify(level: NotifyOut['level'], code: number, content: string, type: NotifyOut['type'] = 'MESSAGE'): void {
    this.notifies.push({ type, level, code, content });
  }

  /** Queue a notify for this user's sockets (login, settlement statement). */
  pushNotify(n: NotifyOut): void {
    this.notifies.push(n);
  }

  private touchAccount(): void {
    recomputeAccount(this.ledger, this.productOf);
    this.dirtyAccount = true;
    this.changed = true;
  }

  /** Run intake, accept or reject, and match at once against the current book. */
  insertOrder(req: Record<string, unknown>, ctx: InsertContext): IntakeResult {
    const result = checkIntake(
      {
        userName: this.userName,
        ledger: this.ledger,
        orderIdSeen: (id) => this.seen.has(id),
        instrument: ctx.instrument,
        upperLimit: ctx.upperLimit,
        lowerLimit: ctx.lowerLimit,
        inTradingTime: ctx.inTradingTime,
        maintenance: ctx.maintenance,
      },
      req,
    );
    if (!result.ok) {
      this.notify('ERROR', result.code, result.message);
      if (result.writeNode) {
        this.remember(result.orderId);
        const symbol = typeof req.instrument_id === 'string' ? req.instrument_id : '';
        this.ledger.orders[result.orderId] = {
          seqno: ++this.ledger.seqno,
          user_id: typeof req.user_id === 'string' ? req.user_id : this.userName,
          order_id: result.orderId,
          exchange_id: typeof req.exchange_id === 'string' ? req.exchange_id : '',
          instrument_id: symbol,
          direction: typeof req.direction === 'string' ? req.direction : '',
          offset: typeof req.offset === 'string' ? req.offset : '',
          volume_orign: typeof req.volume === 'number' && Number.isFinite(req.volume) ? req.volume : 0,
          // Nothing of a rejected order ever traded: the whole volume stays "left", as for a cancel.
          volume_left: typeof req.volume === 'number' && Number.isFinite(req.volume) ? req.volume : 0,
          price_type: typeof req.price_type === 'string' ? req.price_type : '',
          limit_price: typeof req.limit_price === 'number' && Number.isFinite(req.limit_price) ? req.limit_price : 0,
          time_condition: typeof req.time_condition === 'string' ? req.time_condition : '',
          volume_condition: typeof req.volume_condition === 'string' ? req.volume_condition : '',
          insert_date_time: ctx.now,
          exchange_order_id: '',
          status: 'FINISHED',
          last_msg: result.message,
          frozen_margin: 0,
        };
        this.ledger.order_days[result.orderId] = this.ledger.trading_day;
        this.dirtyOrders.add(result.orderId);
        this.changed = true;
      }
      return result;
    }

    const r = result.request;
    const t = r.terms;
    this.remember(r.order_id);
    this.ledger.exchange_order_seq += 1;
    const order: Order = {
      seqno: ++this.ledger.seqno,
      user_id: r.user_id,
      order_id: r.order_id,
      exchange_id: t.exchange_id,
      instrument_id: t.instrument_id,
      direction: r.direction,
      offset: r.offset,
      volume_orign: r.volume,
      volume_left: r.volume,
      price_type: 'LIMIT',
      limit_price: r.limit_price,
      time_condition: r.time_condition,
      volume_condition: r.volume_condition,
      insert_date_time: ctx.now,
      exchange_order_id: String(this.ledger.exchange_order_seq).padStart(12, '0'),
      status: 'ALIVE',
      last_msg: INTAKE_MESSAGES[417],
      frozen_margin: r.offset === 'OPEN' ? r.volume * t.marginPerLot : 0,
    };
    this.ledger.orders[order.order_id] = order;
    this.ledger.order_days[order.order_id] = this.ledger.trading_day;
    if (r.offset !== 'OPEN') {
      const p = this.position(t);
      freezeClose(p, order, r.volume);
      recomputePosition(p, t);
      this.dirtyPositions.add(t.symbol);
    }
    this.dirtyOrders.add(order.order_id);
    this.notify(
      'INFO',
      417,
      `${INTAKE_MESSAGES[417]}: ${t.symbol} ${r.direction} ${r.offset} ${r.volume}@${r.limit_price}`,
    );
    this.touchAccount();

    if (ctx.book) this.matchOne(order, t, ctx.book, ctx.policy, ctx.use, ctx.now);
    if (order.status === 'ALIVE' && order.time_condition === 'IOC') this.finish(order, IOC_CANCELLED_MSG);
    return result;
  }

  private position(t: ContractTerms) {
    let p = this.ledger.positions[t.symbol];
    if (!p) {
      p = emptyPosition(this.userName, t.exchange_id, t.instrument_id);
      this.ledger.positions[t.symbol] = p;
      this.deletedPositions.delete(t.symbol);
    }
    return p;
  }

  /** End an ALIVE order without more fills, releasing what it froze. */
  private finish(order: Order, message: string): void {
    const t = this.termsOf(`${order.exchange_id}.${order.instrument_id}`);
    if (order.offset !== 'OPEN' && t) {
      const p = this.position(t);
      releaseClose(p, order, order.volume_left);
      recomputePosition(p, t);
      this.dirtyPositions.add(t.symbol);
    }
    order.status = 'FINISHED';
    order.last_msg = message;
    order.frozen_margin = 0;
    this.dirtyOrders.add(order.order_id);
    this.touchAccount();
  }

  private matchOne(order: Order, t: ContractTerms, book: Book, policy: MatchPolicy, use: LevelUse, now: bigint): void {
    const fills = matchOrder(order, book, policy, use);
    for (const fill of fills) {
      const n = (this.ledger.fill_counts[order.order_id] ?? 0) + 1;
      this.ledger.fill_counts[order.order_id] = n;
      const p = this.position(t);
      applyFillToPosition(this.ledger, p, order, fill.price, fill.volume, t);
      this.dirtyPositions.add(t.symbol);
      order.volume_left -= fill.volume;
      if (order.offset === 'OPEN') order.frozen_margin = order.volume_left * t.marginPerLot;
      const tradeId = `${order.order_id}|${n}`;
      const seqno = ++this.ledger.seqno;
      this.ledger.trades[tradeId] = {
        seqno,
        user_id: order.user_id,
        order_id: order.order_id,
        trade_id: tradeId,
        exchange_trade_id: `${order.exchange_order_id}${String(n).padStart(4, '0')}`,
        exchange_id: t.exchange_id,
        instrument_id: t.instrument_id,
        direction: order.direction === 'BUY' ? 'BUY' : 'SELL',
        offset: order.offset === 'OPEN' ? 'OPEN' : order.offset === 'CLOSE' ? 'CLOSE' : 'CLOSETODAY',
        price: fill.price,
        volume: fill.volume,
        trade_date_time: now,
        commission: fill.volume * t.commissionPerLot,
      };
      this.ledger.trade_days[tradeId] = this.ledger.trading_day;
      this.deletedTrades.delete(tradeId);
      this.dirtyTrades.add(tradeId);
      this.notify('INFO', 406, `成交通知: ${t.symbol} ${order.direction} ${order.offset} ${fill.volume}@${fill.price}`);
      order.status = order.volume_left === 0 ? 'FINISHED' : 'ALIVE';
      order.last_msg = order.volume_left === 0 ? ALL_FILLED_MSG : PART_FILLED_MSG;
      this.dirtyOrders.add(order.order_id);
    }
    if (fills.length > 0) this.touchAccount();
  }

  /** A new tick of `symbol`: match this user's ALIVE orders (oldest first) and mark its position. */
  onBook(symbol: string, book: Book, lastPrice: number, policy: MatchPolicy, use: LevelUse, now: bigint): void {
    const t = this.termsOf(symbol);
    if (!t) return;
    const alive = Object.values(this.ledger.orders)
      .filter((o) => o.status === 'ALIVE' && `${o.exchange_id}.${o.instrument_id}` === symbol)
      .sort((a, b) => a.seqno - b.seqno);
    for (const o of alive) this.matchOne(o, t, book, policy, use, now);
    const p = this.ledger.positions[symbol];
    if (p && Number.isFinite(lastPrice) && p.last_price !== lastPrice) {
      p.last_price = lastPrice;
      recomputePosition(p, t);
      this.dirtyPositions.add(symbol);
      this.touchAccount();
    }
  }

  /** Symbols this user needs ticks for: ALIVE orders and open positions. */
  activeSymbols(): Set<string> {
    const out = new Set<string>();
    for (const o of Object.values(this.ledger.orders))
      if (o.status === 'ALIVE') out.add(`${o.exchange_id}.${o.instrument_id}`);
    for (const [s, p] of Object.entries(this.ledger.positions)) if (p.volume_long + p.volume_short > 0) out.add(s);
    return out;
  }

  cancelOrder(orderId: unknown): void {
    const order = typeof orderId === 'string' ? this.ledger.orders[orderId] : undefined;
    if (order?.status !== 'ALIVE') {
      this.notify('ERROR', CANCEL_FAILED_CODE, `撤单失败, 委托单不存在或已完成: ${String(orderId)}`);
      return;
    }
    this.finish(order, CANCELLED_MSG);
  }

  settle(inputs: SettlementInputs): SettlementOutcome {
    const out = settleLedger(this.ledger, inputs);
    for (const id of out.cancelledOrders) this.dirtyOrders.add(id);
    for (const s of out.changedPositions) this.dirtyPositions.add(s);
    for (const s of out.deletedPositions) {
      this.dirtyPositions.delete(s);
      this.deletedPositions.add(s);
    }
    for (const id of out.deletedOrders) {
      this.dirtyOrders.delete(id);
      this.deletedOrders.add(id);
    }
    for (const id of out.deletedTrades) {
      this.dirtyTrades.delete(id);
      this.deletedTrades.add(id);
    }
    for (const c of out.expiredCloses) {
      this.notify(
        'WARNING',
        0,
        `合约到期平仓: ${c.symbol} 多 ${c.long} 空 ${c.short} @ ${c.price}, 平仓盈亏 ${c.profit.toFixed(2)}`,
      );
    }
    this.dirtyAccount = true;
    this.dirtyDay = true;
    this.changed = true;
    return out;
  }

  /** The whole `trade/<user>` subtree (after login), ending with `trade_more_data: false`. */
  snapshotPatch(): Patch {
    const l = this.ledger;
    const day = wireDay(l.trading_day);
    return {
      trade: {
        [this.userName]: {
          user_id: this.userName,
          trading_day: day,
          session: { user_id: this.userName, trading_day: day },
          accounts: { CNY: { ...l.account } },
          positions: Object.fromEntries(Object.entries(l.positions).map(([k, v]) => [k, { ...v }])),
          orders: Object.fromEntries(Object.entries(l.orders).map(([k, v]) => [k, { ...v }])),
          trades: Object.fromEntries(Object.entries(l.trades).map(([k, v]) => [k, { ...v }])),
          trade_more_data: false,
        },
      },
    };
  }

  /** What changed since the last drain, as one patch (null when nothing did), and the queued notifies. */
  drain(): { patch: Patch | null; notifies: NotifyOut[] } {
    const l = this.ledger;
    const node: Patch = {};
    if (this.dirtyDay) {
      const day = wireDay(l.trading_day);
      node.trading_day = day;
      node.session = { trading_day: day };
    }
    if (this.dirtyAccount) node.accounts = { CNY: { ...l.account } };
    const positions: Patch = {};
    for (const s of this.dirtyPositions) {
      const p = l.positions[s];
      if (p) positions[s] = { ...p };
    }
    for (const s of this.deletedPositions) positions[s] = null;
    if (Object.keys(positions).length > 0) node.positions = positions;
    const orders: Patch = {};
    for (const id of this.dirtyOrders) {
      const o = l.orders[id];
      if (o) orders[id] = { ...o };
    }
    for (const id of this.deletedOrders) orders[id] = null;
    if (Object.keys(orders).length > 0) node.orders = orders;
    const trades: Patch = {};
    for (const id of this.dirtyTrades) {
      const t = l.trades[id];
      if (t) trades[id] = { ...t };
    }
    for (const id of this.deletedTrades) trades[id] = null;
    if (Object.keys(trades).length > 0) node.trades = trades;

    this.dirtyAccount = false;
    this.dirtyDay = false;
    this.dirtyPositions.clear();
    this.dirtyOrders.clear();
    this.dirtyTrades.clear();
    this.deletedPositions.clear();
    this.deletedOrders.clear();
    this.deletedTrades.clear();
    const notifies = this.notifies;
    this.notifies = [];
    return { patch: Object.keys(node).length > 0 ? { trade: { [this.userName]: node } } : null, notifies };
  }
}
