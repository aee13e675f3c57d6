/**
 * The TqSim-like trade engine (market-protocol §2.6) across users: logins, order intake, matching on every tick of
 * a contract with open orders or positions, daily settlement, and fan-out of changes to every socket logged in as
 * the user. Ledgers load on first login (settling forward any trading days missed while the sim was down) and are
 * persisted after every change.
 */
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { tradingDayOf } from '#shared/domain/market/sessions.ts';
import { parseContractSymbol } from '#shared/domain/market/symbols.ts';
import type { Logger } from '#shared/log.ts';
import type { SimConfig } from '../config.ts';
import type { ContractCatalog } from '../contract-catalog.ts';
import type { LedgerStore } from '../ledger-store.ts';
import type { MarketPort } from '../market-port.ts';
import type { Patch } from '../pending-patches.ts';
import { type Ledger, newLedger } from './ledger.ts';
import { type Book, emptyLevelUse, type LevelUse, type MatchPolicy } from './matching.ts';
import { type NotifyOut, UserBook } from './user-book.ts';

/** A socket logged in as a user. */
export interface TradeSink {
  push(patch: Patch): void;
}

/** The book and limits of a contract at sim now (faults applied), or null when it does not trade now. */
export interface MarketView {
  book: Book;
  lastPrice: number;
  upperLimit: number;
  lowerLimit: number;
}

export interface TradeEngineDeps {
  config: SimConfig;
  openAccounts: boolean;
  policy: MatchPolicy;
  store: LedgerStore;
  catalog: ContractCatalog;
  market: MarketPort;
  cal: TradingCalendar;
  /** Processed sim instant. */
  now(): bigint;
  /** Trading day (ISO) of the processed instant. */
  tradingDay(): string;
  /** `insert_date_time` / `trade_date_time` for the k-th stamped event (odd_ns adds its offset). */
  stamp(k: number): bigint;
  onDemandMaintenance(): boolean;
  view(symbol: string): MarketView | null;
  nextNotifyId(): string;
  /** The set of contracts with open orders or positions changed. */
  interestChanged(): void;
  log: Logger;
}

export type LoginOutcome = { ok: true } | { ok: false; code: 402 | 403; message: string };

export class TradeEngine {
  private readonly users = new Map<string, UserBook>();
  private readonly loading = new Map<string, Promise<UserBook>>();
  private readonly sinks = new Map<string, Set<TradeSink>>();
  private readonly levelUse = new Map<string, LevelUse>();
  private stamps = 0;

  constructor(private readonly deps: TradeEngineDeps) {}

  /** Check credentials (401 ok, 402 bad password, 403 unknown user or malformed request). */
  authenticate(userName: unknown, password: unknown): LoginOutcome {
    if (typeof userName !== 'string' || userName === '' || typeof password !== 'string') {
      return { ok: false, code: 403, message: '登录失败, 缺少用户名或密码' };
    }
    const acct = this.deps.config.accounts.find((a) => a.user_name === userName);
    if (acct) return acct.password === password ? { ok: true } : { ok: false, code: 402, message: '用户名或密码错误' };
    if (this.deps.openAccounts) {
      return password === userName ? { ok: true } : { ok: false, code: 402, message: '用户名或密码错误' };
    }
    return { ok: false, code: 403, message: `登录失败, 未知用户 ${userName}` };
  }

  private initialBalance(userName: string): number {
    return this.deps.config.accounts.find((a) => a.user_name === userName)?.initial_balance ?? 10_000_000;
  }

  /** The user's book, loading (and settling forward) its ledger on first use. */
  async book(userName: string): Promise<UserBook> {
    const have = this.users.get(userName);
    if (have) return have;
    let p = this.loading.get(userName);
    if (!p) {
      p = this.loadBook(userName).finally(() => this.loading.delete(userName));
      this.loading.set(userName, p);
    }
    return p;
  }

  private async loadBook(userName: string): Promise<UserBook> {
    const today = this.deps.tradingDay();
    let ledger: Ledger | null = await this.deps.store.load(userName);
    if (ledger && ledger.trading_day > today) {
      // The clock runs behind this ledger (another --start); keep the file for inspection and start afresh.
      const moved = await this.deps.store.archive(userName, 'future');
      this.deps.log.warn(
        { user: userName, ledger_day: ledger.trading_day, today, moved_to: moved },
        'sim ledger is ahead of the sim clock; starting a fresh account',
      );
      ledger = null;
    }
    const book = new UserBook(ledger ?? newLedger(userName, today, this.initialBalance(userName)), (s) =>
      this.deps.catalog.termsOf(s),
    );
    this.users.set(userName, book);
    this.settleForward(book, today);
    book.changed = true;
    this.persist(book);
    book.drain();
    this.deps.interestChanged();
    return book;
  }

  /** Settle every trading day of the ledger before `upTo` (missed while the sim was down, or at 18:00). */
  private settleForward(book: UserBook, upTo: string): void {
    while (book.ledger.trading_day < upTo) {
      const day = book.ledger.trading_day;
      const next = this.deps.cal.nextTradingDay(day);
      book.settle({
        tradingDay: day,
        nextTradingDay: next,
        settlementPrice: (s) => this.settlementPrice(s, day),
        expiresToday: (s) => this.deps.market.lastTradingDay(s) === day,
        termsOf: (s) => this.deps.catalog.termsOf(s),
      });
    }
  }

  private settlementPrice(symbol: string, day: string): number {
    if (!this.deps.market.isListed(symbol, day)) return Number.NaN;
    return this.deps.market.dayFigures(symbol, day).settlement;
  }

  /** Attach a logged-in socket: notify 401, the snapshot, and the previous statement on the day's first login. */
  async attach(sink: TradeSink, userName: string): Promise<void> {
    const book = await this.book(userName);
    let set = this.sinks.get(userName);
    if (!set) {
      set = new Set();
      this.sinks.set(userName, set);
    }
    set.add(sink);
    this.flush(userName);
    const notifies: NotifyOut[] = [{ type: 'MESSAGE', level: 'INFO', code: 401, content: '登录成功' }];
    const l = book.ledger;
    if (l.statement_sent_day !== l.trading_day) {
      const last = l.statements.at(-1);
      if (last) notifies.push({ type: 'SETTLEMENT', level: 'INFO', code: 325, content: last.text });
      l.statement_sent_day = l.trading_day;
      book.changed = true;
      this.persist(book);
    }
    sink.push(this.notifyPatch(notifies));
    sink.push(book.snapshotPatch());
  }

  detach(sink: TradeSink, userName: string): void {
    this.sinks.get(userName)?.delete(sink);
  }

  private notifyPatch(notifies: NotifyOut[]): Patch {
    const node: Patch = {};
    for (const n of notifies) node[this.deps.nextNotifyId()] = { ...n };
    return { notify: node };
  }

  /** Send what changed for `userName` to every socket logged in as the user, and persist. */
  private flush(userName: string): void {
    const book = this.users.get(userName);
    if (!book) return;
    const { patch, notifies } = book.drain();
    const sinks = this.sinks.get(userName) ?? new Set();
    const np = notifies.length > 0 ? this.notifyPatch(notifies) : null;
    for (const s of sinks) {
      if (patch) s.push(patch);
      if (np) s.push(np);
    }
    this.persist(book);
  }

  private persist(book: UserBook): void {
    if (!book.changed) return;
    book.changed = false;
    this.deps.store.save(book.ledger).catch((err: unknown) => {
      this.deps.log.error({ err, user: book.userName }, 'sim ledger write failed; the account stays in memory');
    });
  }

  private use(symbol: string): LevelUse {
    let u = this.levelUse.get(symbol);
    if (!u) {
      u = emptyLevelUse();
      this.levelUse.set(symbol, u);
    }
    return u;
  }

  insertOrder(userName: string, req: Record<string, unknown>): void {
    const book = this.users.get(userName);
    if (!book) return;
    const now = this.deps.now();
    const day = this.deps.tradingDay();
    const instrument = this.deps.catalog.instrumentStatus(req.exchange_id, req.instrument_id, day);
    const symbol = instrument.kind === 'tradable' ? instrument.terms.symbol : null;
    const view = symbol ? this.deps.view(symbol) : null;
    const inTradingTime =
      symbol !== null && tradingDayOf(this.deps.cal, now, 'SHFE', parseContractSymbol(symbol).variety).in_session;
    book.insertOrder(req, {
      instrument,
      upperLimit: view?.upperLimit ?? Number.NaN,
      lowerLimit: view?.lowerLimit ?? Number.NaN,
      inTradingTime,
      maintenance: this.deps.onDemandMaintenance(),
      now: this.deps.stamp(++this.stamps),
      book: view?.book ?? null,
      lastPrice: view?.lastPrice ?? Number.NaN,
      policy: this.deps.policy,
      use: symbol ? this.use(symbol) : emptyLevelUse(),
    });
    this.flush(userName);
    this.deps.interestChanged();
  }

  cancelOrder(userName: string, orderId: unknown): void {
    const book = this.users.get(userName);
    if (!book) return;
    book.cancelOrder(orderId);
    this.flush(userName);
    this.deps.interestChanged();
  }

  /** Contracts with open orders or positions, across loaded users. */
  interest(): Set<string> {
    const out = new Set<string>();
    for (const b of this.users.values()) for (const s of b.activeSymbols()) out.add(s);
    return out;
  }

  /** A new tick of `symbol`: match open orders (oldest user first), mark positions. */
  onTick(symbol: string): void {
    const view = this.deps.view(symbol);
    if (!view) return;
    const use = emptyLevelUse();
    this.levelUse.set(symbol, use);
    let touched = false;
    for (const [user, b] of this.users) {
      if (!b.activeSymbols().has(symbol)) continue;
      b.onBook(symbol, view.book, view.lastPrice, this.deps.policy, use, this.deps.stamp(++this.stamps));
      this.flush(user);
      touched = true;
    }
    // A fill may close the last position or order on the contract; the driver's interest is recomputed lazily.
    if (touched) this.deps.interestChanged();
  }

  /** 18:00 CST of trading day `day`: settle every loaded ledger still on `day` (or behind it). */
  settle(day: string): void {
    const next = this.deps.cal.nextTradingDay(day);
    for (const [user, b] of this.users) {
      this.settleForward(b, next);
      this.flush(user);
    }
    this.deps.interestChanged();
  }

  /** The statement text of a settled trading day (ISO), or null. */
  statement(userName: string, day: string): string | null {
    const l = this.users.get(userName)?.ledger;
    return l?.statements.find((s) => s.trading_day === day)?.text ?? null;
  }

  async idle(): Promise<void> {
    await this.deps.store.idle();
  }
}
