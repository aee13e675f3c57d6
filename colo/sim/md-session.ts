/**
 * The md socket (`/t/md/front/mobile`, market-protocol §2.4): greeting, quote subscriptions, `ins_query`, charts.
 *
 * Quotes: `subscribe_quote` replaces the list; root `ins_list` is echoed exactly as sent, then one full quote (static
 * + live) per new existing symbol, then change patches on every tick. Every SHFE quote patch carries levels 6–10 as
 * `null`, like the live server. `KQ.m@` quotes mirror the day's main at level 1 only.
 */
import type { WebSocket } from 'ws';
import { stringifyDiffJson } from '#shared/infra/diff/json.ts';
import type { Logger } from '#shared/log.ts';
import { CHUNK_ROWS, ChartBook } from './chart-engine.ts';
import { type ConnectionEnv, type ConnectionStats, DiffConnection } from './connection.ts';
import type { ContractCatalog } from './contract-catalog.ts';
import type { LiveQuote } from './market-port.ts';
import type { Patch } from './pending-patches.ts';
import type { Series } from './tick-series.ts';

/** `ask_price6..10`, `ask_volume6..10`, `bid_price6..10`, `bid_volume6..10` as null (levels SHFE never has). */
export const NULL_LEVELS: Readonly<Record<string, null>> = Object.freeze(
  Object.fromEntries(
    ['ask_price', 'ask_volume', 'bid_price', 'bid_volume'].flatMap((f) =>
      [6, 7, 8, 9, 10].map((l) => [`${f}${l}`, null]),
    ),
  ),
);

/** Level 2–5 fields, absent from `KQ.m@` quotes. */
const DEEP_LEVELS = ['ask_price', 'ask_volume', 'bid_price', 'bid_volume'].flatMap((f) =>
  [2, 3, 4, 5].map((l) => `${f}${l}`),
);

export interface MdContext {
  /** The instant the market has been processed to. */
  now(): bigint;
  tradingDay(): string;
  catalog: ContractCatalog;
  /** Live quote of a contract at `now` with faults applied; null when it does not trade today. */
  liveQuote(symbol: string): { quote: LiveQuote; nanToken: boolean } | null;
  /** The underlying of `KQ.m@SHFE.<var>` today. */
  mainOf(alias: string): string | null;
  seriesFor(symbol: string, duration: bigint): Series | null | 'unsupported_duration';
  /** Subscriptions or charts changed: the driver's interest set must be recomputed. */
  interestChanged(): void;
  /** A peek found nothing pending (the replay clock steps on this). */
  idlePeek(session: MdSession): void;
  /** Patches every md socket gets at the root (replay: `_tqsdk_backtest`). */
  rootPatch(): Patch | null;
  nextNotifyId(): string;
  legacyGreeting: boolean;
  log: Logger;
}

/** Deep equality of static quote values (numbers, strings, bigints, booleans, arrays and objects of them). */
function sameValue(a: unknown, b: unknown): boolean {
  return stringifyDiffJson(a ?? null) === stringifyDiffJson(b ?? null);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class MdSession extends DiffConnection {
  readonly kind = 'md' as const;
  private insList: string[] = [];
  /** Live fields last sent per subscribed symbol (for change patches). */
  private readonly sent = new Map<string, Record<string, unknown>>();
  /** Static fields last sent per subscribed symbol. */
  private readonly sentStatic = new Map<string, Record<string, unknown>>();
  readonly charts: ChartBook;
  readonly sessionId: string;

  constructor(
    ws: WebSocket,
    env: ConnectionEnv,
    private readonly ctx: MdContext,
  ) {
    super(ws, env);
    this.sessionId = `ghsim-md-${this.id}`;
    this.charts = new ChartBook({
      seriesFor: (s, d) => ctx.seriesFor(s, d),
      push: (p, opts) => this.push(p, false, opts),
      warn: (content) => this.notify('WARNING', 0, content),
      sessionId: this.sessionId,
    });
  }

  /** Greeting (and the legacy `rsp_login` first when configured). */
  start(): void {
    if (this.ctx.legacyGreeting) {
      this.sendFrame({ aid: 'rsp_login', account_id: '', session_id: 'MDSESSION' }, true);
    }
    const greeting: Patch = { account_id: '', ins_list: '', mdhis_more_data: false };
    const root = this.ctx.rootPatch();
    this.sendFrame({ aid: 'rtn_data', data: root ? [greeting, root] : [greeting] }, true);
  }

  protected onClose(): void {
    this.ctx.interestChanged();
  }

  /** Push an unsolicited notify frame at once (never waits for a peek). */
  notify(level: 'INFO' | 'WARNING' | 'ERROR', code: number, content: string): void {
    const id = this.ctx.nextNotifyId();
    this.sendFrame({ aid: 'rtn_data', data: [{ notify: { [id]: { type: 'MESSAGE', level, code, content } } }] }, true);
  }

  handle(msg: Record<string, unknown>): void {
    switch (msg.aid) {
      case 'peek_message':
        this.notePeek();
        if (this.pending.isEmpty && !this.charts.hasBacklog) this.ctx.idlePeek(this);
        this.scheduleFlush();
        return;
      case 'subscribe_quote':
        this.subscribe(msg);
        return;
      case 'set_chart':
        this.charts.set(msg, this.ctx.now());
        this.ctx.interestChanged();
        return;
      case 'ins_query':
        this.insQuery(msg);
        return;
      default:
        this.ctx.log.debug({ conn: this.id, aid: msg.aid }, 'md: unknown aid ignored');
    }
  }

  protected override beforeFlush(): void {
    this.charts.fill(CHUNK_ROWS, this.ctx.now());
  }

  /** Whether the peek is held with nothing to send (the replay clock may step for this socket). */
  get waiting(): boolean {
    return this.peekHeld && this.pending.isEmpty && !this.charts.hasBacklog;
  }

  /** Contracts this connection needs ticks of (subscriptions resolved through `KQ.m@`, and charts). */
  interest(): Set<string> {
    const out = this.charts.symbols();
    for (const s of this.insList) {
      if (s.startsWith('KQ.')) {
        const main = this.ctx.mainOf(s);
        if (main) out.add(main);
      } else if (this.ctx.catalog.exists(s, this.ctx.tradingDay())) {
        out.add(s);
      }
    }
    return out;
  }

  private subscribe(msg: Record<string, unknown>): void {
    const raw = typeof msg.ins_list === 'string' ? msg.ins_list : '';
    const next = raw.split(',').filter((s) => s !== '');
    const before = new Set(this.insList);
    this.insList = next;
    for (const s of [...this.sent.keys()]) {
      if (!next.includes(s)) {
        this.sent.delete(s);
        this.sentStatic.delete(s);
      }
    }
    this.push({ ins_list: raw });
    for (const s of next) if (!before.has(s)) this.sendFullQuote(s);
    this.ctx.interestChanged();
  }

  private sendFullQuote(symbol: string): void {
    const day = this.ctx.tradingDay();
    const stat = this.ctx.catalog.staticQuote(symbol, day);
    if (!stat) return;
    this.sentStatic.set(symbol, stat);
    const live = this.liveFor(symbol);
    const quote: Record<string, unknown> = { ...stat, ...(live?.fields ?? {}) };
    this.sent.set(symbol, { ...(live?.fields ?? {}) });
    this.push({ quotes: { [symbol]: { ...quote, ...NULL_LEVELS } } }, live?.nanToken ?? false);
  }

  private liveFor(symbol: string): { fields: Record<string, unknown>; nanToken: boolean } | null {
    if (symbol.startsWith('KQ.')) {
      const main = this.ctx.mainOf(symbol);
      const q = main ? this.ctx.liveQuote(main) : null;
      if (!q) return null;
      const fields: Record<string, unknown> = { ...q.quote, instrument_id: symbol };
      for (const k of DEEP_LEVELS) delete fields[k];
      return { fields, nanToken: q.nanToken };
    }
    const q = this.ctx.liveQuote(symbol);
    return q ? { fields: { ...q.quote }, nanToken: q.nanToken } : null;
  }

  /** A tick of `symbol` was processed: change patches for it and for `KQ.m@` aliases that mirror it. */
  onTick(symbol: string): void {
    for (const s of this.insList) {
      if (s !== symbol && !(s.startsWith('KQ.') && this.ctx.mainOf(s) === symbol)) continue;
      const prev = this.sent.get(s);
      if (!prev) continue;
      const live = this.liveFor(s);
      if (!live) continue;
      const diff: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(live.fields)) {
        if (prev[k] !== v || live.nanToken) diff[k] = v;
        prev[k] = v;
      }
      this.push({ quotes: { [s]: { ...diff, ...NULL_LEVELS } } }, live.nanToken);
    }
  }

  /** New trading day: static fields may change (expiry, the main behind `KQ.m@`). */
  onDayChange(): void {
    const day = this.ctx.tradingDay();
    for (const s of this.insList) {
      const prev = this.sentStatic.get(s);
      const stat = this.ctx.catalog.staticQuote(s, day);
      if (!stat) continue;
      if (!prev) {
        this.sendFullQuote(s);
        continue;
      }
      const diff: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(stat)) if (!sameValue(prev[k], v)) diff[k] = v;
      this.sentStatic.set(s, stat);
      if (Object.keys(diff).length > 0) this.push({ quotes: { [s]: diff } });
    }
    this.ctx.interestChanged();
  }

  private insQuery(msg: Record<string, unknown>): void {
    const id = msg.query_id;
    if (typeof id !== 'string' || id === '') {
      this.notify('WARNING', 0, 'ins_query without a query_id is ignored');
      return;
    }
    if (msg.query === '') {
      this.push({ symbols: { [id]: null } });
      return;
    }
    const answer = this.ctx.catalog.query(msg.variables, this.ctx.now());
    const node: Record<string, unknown> = {
      query: msg.query,
      variables: isObject(msg.variables) ? msg.variables : {},
    };
    if ('error' in answer) node.error = answer.error;
    else node.result = answer.result;
    this.push({ symbols: { [id]: null } });
    this.push({ symbols: { [id]: node } });
  }

  stats(): ConnectionStats {
    return this.baseStats(null, this.insList.length, this.charts.size);
  }
}
