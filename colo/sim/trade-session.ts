/**
 * The trade socket (`/trade`, market-protocol §2.6): `rtn_brokers` greeting, `req_login`, orders, cancels,
 * `confirm_settlement` (a no-op) and `qry_settlement_info`. Requests are handled one at a time in arrival order
 * (login loads a ledger asynchronously; orders sent right after it wait for it).
 */
import type { WebSocket } from 'ws';
import type { Logger } from '#shared/log.ts';
import { type ConnectionEnv, type ConnectionStats, DiffConnection } from './connection.ts';
import type { TradeEngine, TradeSink } from './trade-engine/engine.ts';

export interface TradeContext {
  brokerId: string;
  engine: TradeEngine;
  nextNotifyId(): string;
  log: Logger;
}

export class TradeSession extends DiffConnection implements TradeSink {
  readonly kind = 'trade' as const;
  private user: string | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    ws: WebSocket,
    env: ConnectionEnv,
    private readonly ctx: TradeContext,
  ) {
    super(ws, env);
  }

  start(): void {
    this.sendFrame({ aid: 'rtn_brokers', brokers: [this.ctx.brokerId] }, true);
  }

  get userName(): string | null {
    return this.user;
  }

  protected onClose(): void {
    if (this.user) this.ctx.engine.detach(this, this.user);
  }

  private notify(level: 'INFO' | 'WARNING' | 'ERROR', code: number, content: string): void {
    this.push({ notify: { [this.ctx.nextNotifyId()]: { type: 'MESSAGE', level, code, content } } });
  }

  handle(msg: Record<string, unknown>): void {
    if (msg.aid === 'peek_message') {
      this.notePeek();
      this.scheduleFlush();
      return;
    }
    this.queue = this.queue
      .then(() => this.process(msg))
      .catch((err: unknown) => {
        this.ctx.log.error({ err, conn: this.id, aid: msg.aid }, 'trade request failed');
        this.notify('ERROR', 500, `ghsim internal error on ${String(msg.aid)}`);
      });
  }

  private async process(msg: Record<string, unknown>): Promise<void> {
    switch (msg.aid) {
      case 'req_login':
        return this.login(msg);
      case 'insert_order':
        if (this.requireLogin()) this.ctx.engine.insertOrder(this.user as string, msg);
        return;
      case 'cancel_order':
        if (this.requireLogin()) this.ctx.engine.cancelOrder(this.user as string, msg.order_id);
        return;
      case 'confirm_settlement':
        return;
      case 'qry_settlement_info':
        if (this.requireLogin()) this.settlementInfo(msg);
        return;
      default:
        this.ctx.log.debug({ conn: this.id, aid: msg.aid }, 'trade: unknown aid ignored');
    }
  }

  private requireLogin(): boolean {
    if (this.user) return true;
    this.notify('ERROR', 403, '未登录');
    return false;
  }

  private async login(msg: Record<string, unknown>): Promise<void> {
    if (msg.bid !== this.ctx.brokerId) {
      this.ctx.log.info({ conn: this.id, bid: msg.bid }, 'trade: unknown broker id; closing the socket');
      this.drop(false, 'unknown broker');
      return;
    }
    if (this.user) {
      this.notify('ERROR', 400, '重复登录');
      return;
    }
    const r = this.ctx.engine.authenticate(msg.user_name, msg.password);
    if (!r.ok) {
      this.notify('ERROR', r.code, r.message);
      return;
    }
    this.user = msg.user_name as string;
    await this.ctx.engine.attach(this, this.user);
  }

  private settlementInfo(msg: Record<string, unknown>): void {
    const raw = String(msg.trading_day ?? '');
    const iso = /^\d{8}$/.test(raw) ? `${raw.slice(0, 4)}-${raw.slice(4, 6)}-${raw.slice(6, 8)}` : raw;
    const text = this.ctx.engine.statement(this.user as string, iso);
    this.sendFrame(
      {
        aid: 'qry_settlement_info',
        trading_day: msg.trading_day ?? null,
        user_name: this.user,
        settlement_info: text ?? '',
      },
      true,
    );
  }

  stats(): ConnectionStats {
    return this.baseStats(this.user, 0, 0);
  }
}
