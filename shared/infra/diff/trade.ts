/**
 * The td side of the DIFF client (market-protocol §1.10): login, orders, cancels, the notify stream, pending-order
 * tracking and settlement queries.
 *
 * - The mirror is never written optimistically: pending inserts are tracked beside it; an order whose node does not
 *   appear within the ack timeout (5 s) yields one `order_ack_timeout` (a possible ghost order to reconcile).
 * - `insertOrder`/`cancelOrder` while the td socket is down (or not yet re-logged in) throw `NotConnectedError` at
 *   once; they are never queued.
 * - Notify dedupe: each new `notify/<id>` is emitted once; the dedupe set keeps the last 10,000 keys (oldest
 *   forgotten first).
 */
import type {
  Account,
  BrokerEvent,
  BrokerSnapshot,
  BrokerUpdate,
  Notify,
  Order,
  OrderRequest,
  Position,
  Trade,
} from '#shared/domain/trading/ports.ts';
import {
  type DiffError,
  DiffTimeoutError,
  LoginError,
  NotConnectedError,
  OrderRefusedError,
} from '#shared/errors/diff.ts';
import { type Logger, silentLogger } from '#shared/log.ts';
import type { FrameLog } from './framelog.ts';
import { type InstrumentLimits, insertOrderFrame, ORDER_ID } from './order-frame.ts';
import { BoundedSet } from './queue.ts';
import { type Backoff, DiffConnection, type TokenSource } from './reconnect.ts';
import type { UpdateEvent } from './store.ts';
import type { DiffFrame } from './transport.ts';
import { accountView, emptyAccount, isNode, notifyView, orderView, positionView, tradeView } from './views.ts';
import { waitForStore } from './wait.ts';

export interface DiffTradeOptions {
  url: string;
  tokens: TokenSource;
  backoff: Backoff;
  brokerId: string;
  userName: string;
  password: string;
  clientAppId?: string;
  clientSystemInfo?: string;
  clientMacAddress?: string;
  /** Send `confirm_settlement` after `req_login` (real brokers; not the simulator). */
  confirmSettlement: boolean;
  resyncTimeoutMs: number;
  readyTimeoutMs: number;
  orderAckTimeoutMs: number;
  instrumentLimits?: (symbol: string) => InstrumentLimits | undefined;
  logger?: Logger;
  frameLog?: FrameLog | undefined;
  nowMs?: () => number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
}

const NOTIFY_DEDUPE_BOUND = 10_000;
const LOGIN_FAILURE_CODES = new Set([400, 338, 402, 403]);

export class DiffTrade {
  readonly conn: DiffConnection;
  private readonly log: Logger;
  private readonly listeners = new Set<(e: BrokerEvent) => void>();
  private readonly notifySeen = new BoundedSet(NOTIFY_DEDUPE_BOUND);
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly known = { orders: new Set<string>(), trades: new Set<string>(), positions: new Set<string>() };
  private brokersValue: string[] = [];
  private loggedIn = false;
  private fatal: DiffError | undefined;
  private readonly nowMs: () => number;

  constructor(private readonly opts: DiffTradeOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: 'diff-td' });
    this.nowMs = opts.nowMs ?? Date.now;
    this.conn = new DiffConnection(
      {
        socket: 'td',
        url: opts.url,
        tokens: opts.tokens,
        backoff: opts.backoff,
        resyncTimeoutMs: opts.resyncTimeoutMs,
        logger: opts.logger,
        frameLog: opts.frameLog,
        nowMs: this.nowMs,
        ...(opts.pingIntervalMs !== undefined ? { pingIntervalMs: opts.pingIntervalMs } : {}),
        ...(opts.pongTimeoutMs !== undefined ? { pongTimeoutMs: opts.pongTimeoutMs } : {}),
      },
      {
        resend: (send) => this.sendLogin(send),
        isComplete: (tree) => {
          const u = isNode(tree.trade) ? tree.trade[this.opts.userName] : undefined;
          return isNode(u) && u.trade_more_data === false;
        },
        onEscape: (tree) => {
          const errors = isNode(tree.notify)
            ? Object.values(tree.notify).filter((n) => isNode(n) && n.level === 'ERROR')
            : [];
          this.log.error({ error_notifies: errors }, 'td re-login did not complete within the resync timeout');
          return false;
        },
      },
    );
    this.conn.onFrame((f) => this.onOtherFrame(f));
    this.conn.onConnection((e) => this.emit({ kind: 'connection', code: e.code, message: e.message }));
    this.conn.onSchemaDrift((d) =>
      this.emit({ kind: 'schema_drift', path: d.path, expected: d.expected, found: String(d.found) }),
    );
    this.conn.onFatal((e) => {
      this.fatal = e;
    });
    this.conn.store.onUpdate((e) => this.onUpdate(e));
  }

  /** Broker ids of the server's `rtn_brokers` greeting. */
  get brokers(): readonly string[] {
    return this.brokersValue;
  }

  get userName(): string {
    return this.opts.userName;
  }

  onEvent(l: (e: BrokerEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(e: BrokerEvent): void {
    for (const l of this.listeners) l(e);
  }

  private sendLogin(send: (f: DiffFrame) => void): void {
    const f: DiffFrame = {
      aid: 'req_login',
      bid: this.opts.brokerId,
      user_name: this.opts.userName,
      password: this.opts.password,
    };
    if (this.opts.clientAppId !== undefined) f.client_app_id = this.opts.clientAppId;
    if (this.opts.clientSystemInfo !== undefined) f.client_system_info = this.opts.clientSystemInfo;
    if (this.opts.clientMacAddress !== undefined) f.client_mac_address = this.opts.clientMacAddress;
    send(f);
    if (this.opts.confirmSettlement) send({ aid: 'confirm_settlement' });
  }

  private userPath(): string {
    return `trade/${this.opts.userName}`;
  }

  /**
   * Connect and log in. Resolves when `trade_more_data == false` with a non-empty `session/trading_day`; rejects
   * `LoginError` with the notify code on an ERROR notify first (400/338 duplicate, 402 bad password, 403 failed), or
   * `DiffTimeoutError` after the ready deadline (60 s).
   */
  async login(): Promise<{ trading_day: string; user_id: string }> {
    const store = this.conn.store;
    let failure: LoginError | undefined;
    const unsub = this.onEvent((e) => {
      if (e.kind === 'notify' && e.notify.level === 'ERROR' && failure === undefined) {
        failure = new LoginError(
          `login of ${this.opts.userName} at ${this.opts.brokerId} refused: code ${e.notify.code} ${e.notify.content}`,
          Number.isFinite(e.notify.code) ? e.notify.code : undefined,
        );
        if (!LOGIN_FAILURE_CODES.has(e.notify.code))
          this.log.warn({ code: e.notify.code }, 'unexpected ERROR notify during login');
      }
    });
    try {
      await this.conn.start(this.opts.readyTimeoutMs);
      const result = await waitForStore(
        store,
        () => {
          if (failure !== undefined) throw failure;
          const u = store.get(this.userPath());
          if (!isNode(u) || u.trade_more_data !== false) return undefined;
          const session = isNode(u.session) ? u.session : {};
          const day = typeof session.trading_day === 'string' ? session.trading_day : '';
          if (day === '') return undefined;
          const userId =
            typeof session.user_id === 'string' && session.user_id !== '' ? session.user_id : this.opts.userName;
          return { trading_day: day, user_id: userId };
        },
        {
          timeoutMs: this.opts.readyTimeoutMs,
          what: `login of ${this.opts.userName}`,
          abort: (reject) => {
            if (this.fatal) {
              reject(this.fatal);
              return () => {};
            }
            return this.conn.onFatal(reject);
          },
        },
      );
      this.loggedIn = true;
      return result;
    } catch (err) {
      await this.conn.close();
      throw err;
    } finally {
      unsub();
    }
  }

  private requireSession(what: string): void {
    if (!this.loggedIn || !this.conn.isLive) throw new NotConnectedError('td', what);
  }

  /**
   * Send one order (after the local refusals). Resolves when sent; the outcome arrives as events. Throws
   * `OrderRefusedError` (nothing sent) or `NotConnectedError` (nothing sent, nothing queued).
   */
  insertOrder(req: OrderRequest): { order_id: string } {
    const frame = insertOrderFrame(this.opts.userName, req, this.opts.instrumentLimits?.(req.symbol));
    this.requireSession('insert_order');
    this.conn.send(frame, true);
    this.trackPending(req.order_id);
    return { order_id: req.order_id };
  }

  /** `{"aid":"cancel_order","user_id","order_id"}`; no reply packet (the order turns FINISHED or a notify explains). */
  cancelOrder(orderId: string): void {
    if (!ORDER_ID.test(orderId))
      throw new OrderRefusedError('bad_order_id', `cancel refused locally: bad order_id ${orderId}`);
    this.requireSession('cancel_order');
    this.conn.send({ aid: 'cancel_order', user_id: this.opts.userName, order_id: orderId }, true);
  }

  /** `qry_settlement_info` → the reply packet's statement text (`tradingDay` `YYYYMMDD`). */
  qrySettlementInfo(tradingDay: string, timeoutMs = this.opts.readyTimeoutMs): Promise<string> {
    this.requireSession('qry_settlement_info');
    const day = Number(tradingDay.replaceAll('-', ''));
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsub();
        reject(new DiffTimeoutError(`qry_settlement_info ${tradingDay}`, timeoutMs));
      }, timeoutMs);
      const unsub = this.onEvent((e) => {
        if (e.kind === 'settlement_info' && Number(e.trading_day) === day) {
          clearTimeout(timer);
          unsub();
          resolve(e.settlement_info);
        }
      });
      this.conn.send({ aid: 'qry_settlement_info', trading_day: day }, true);
    });
  }

  private trackPending(orderId: string): void {
    const started = this.nowMs();
    const existing = this.pending.get(orderId);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.pending.delete(orderId);
      if (this.conn.store.get(`${this.userPath()}/orders/${orderId}`) !== undefined) return;
      const waited = this.nowMs() - started;
      this.log.warn({ order_id: orderId, waited_ms: waited }, 'order_ack_timeout: no order node from the server');
      this.emit({ kind: 'order_ack_timeout', order_id: orderId, waited_ms: waited });
    }, this.opts.orderAckTimeoutMs);
    timer.unref();
    this.pending.set(orderId, timer);
  }

  /** Orders sent whose node has not appeared yet. */
  pendingOrders(): string[] {
    return [...this.pending.keys()];
  }

  private onOtherFrame(f: DiffFrame): void {
    if (f.aid === 'rtn_brokers') {
      this.brokersValue = Array.isArray(f.brokers) ? f.brokers.filter((b): b is string => typeof b === 'string') : [];
      return;
    }
    if (f.aid === 'qry_settlement_info') {
      this.emit({
        kind: 'settlement_info',
        trading_day: String(f.trading_day ?? ''),
        user_name: typeof f.user_name === 'string' ? f.user_name : '',
        settlement_info: typeof f.settlement_info === 'string' ? f.settlement_info : '',
      });
      return;
    }
    this.log.info({ aid: f.aid }, 'ignoring an unknown td frame');
  }

  private onUpdate(e: UpdateEvent): void {
    const store = this.conn.store;
    if (e.changes.has('notify')) {
      const notify = store.get('notify');
      if (isNode(notify)) {
        for (const [id, node] of Object.entries(notify)) {
          if (!isNode(node)) continue;
          const n = notifyView(id, node);
          const key = `${id}|${n.code}|${n.content}`;
          if (this.notifySeen.has(key)) continue;
          this.notifySeen.add(key);
          this.emit({ kind: 'notify', notify: n });
        }
      }
    }
    const base = this.userPath();
    if (!e.changes.has(base)) return;
    const update: BrokerUpdate = {
      kind: 'update',
      batch_seq: e.batch_seq,
      resync: e.resync,
      account: e.changes.has(`${base}/accounts/CNY`) ? this.account() : null,
      orders: [],
      trades: [],
      positions: [],
      removed: { orders: [], trades: [], positions: [] },
    };
    const trades = this.collect('trades', e, (k, n) => tradeView(k, n), update.trades, update.removed.trades);
    this.collect('orders', e, (k, n) => orderView(k, n, trades), update.orders, update.removed.orders);
    this.collect('positions', e, (k, n) => positionView(k, n), update.positions, update.removed.positions);
    for (const o of update.orders) {
      const t = this.pending.get(o.order_id);
      if (t) {
        clearTimeout(t);
        this.pending.delete(o.order_id);
      }
    }
    const any =
      update.account !== null ||
      update.orders.length + update.trades.length + update.positions.length > 0 ||
      update.removed.orders.length + update.removed.trades.length + update.removed.positions.length > 0;
    if (any) this.emit(update);
  }

  /** Changed and removed entries of one collection; returns all current trades when asked for trades. */
  private collect<T>(
    name: 'orders' | 'trades' | 'positions',
    e: UpdateEvent,
    view: (key: string, node: Record<string, unknown>) => T,
    changed: T[],
    removed: string[],
  ): Trade[] {
    const prefix = `${this.userPath()}/${name}`;
    const node = this.conn.store.get(prefix);
    const current = isNode(node) ? node : {};
    const known = this.known[name];
    if (e.changes.has(prefix)) {
      for (const [k, v] of Object.entries(current)) {
        if (isNode(v) && e.changes.has(`${prefix}/${k}`)) changed.push(view(k, v));
      }
      for (const k of known) if (!Object.hasOwn(current, k)) removed.push(k);
      known.clear();
      for (const k of Object.keys(current)) known.add(k);
    }
    return name === 'trades' ? this.trades() : [];
  }

  account(): Account {
    const n = this.conn.store.get(`${this.userPath()}/accounts/CNY`);
    return isNode(n) ? accountView(n) : emptyAccount();
  }

  trades(): Trade[] {
    const n = this.conn.store.get(`${this.userPath()}/trades`);
    return isNode(n) ? Object.entries(n).flatMap(([k, v]) => (isNode(v) ? [tradeView(k, v)] : [])) : [];
  }

  orders(): Order[] {
    const trades = this.trades();
    const n = this.conn.store.get(`${this.userPath()}/orders`);
    return isNode(n) ? Object.entries(n).flatMap(([k, v]) => (isNode(v) ? [orderView(k, v, trades)] : [])) : [];
  }

  positions(): Position[] {
    const n = this.conn.store.get(`${this.userPath()}/positions`);
    return isNode(n) ? Object.entries(n).flatMap(([k, v]) => (isNode(v) ? [positionView(k, v)] : [])) : [];
  }

  /** Notifies currently in the mirror (for tests and diagnostics). */
  notifies(): Notify[] {
    const n = this.conn.store.get('notify');
    return isNode(n) ? Object.entries(n).flatMap(([k, v]) => (isNode(v) ? [notifyView(k, v)] : [])) : [];
  }

  snapshot(): BrokerSnapshot {
    const u = this.conn.store.get(this.userPath());
    const session = isNode(u) && isNode(u.session) ? u.session : {};
    return {
      batch_seq: this.conn.store.batchSeq,
      trading_day: typeof session.trading_day === 'string' ? session.trading_day : '',
      account: this.account(),
      positions: this.positions(),
      orders: this.orders(),
      trades: this.trades(),
    };
  }

  async close(): Promise<void> {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    await this.conn.close();
  }
}
