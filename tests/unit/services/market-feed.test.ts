import { describe, expect, it } from 'vitest';
import type { MarketNotice, Quote, QuoteEvent, Subscription, TickRow } from '#shared/domain/market/ports.ts';
import { silentLogger } from '#shared/log.ts';
import { type FeedConnection, MarketFeed, PointRing } from '#shared/services/market-feed.ts';
import { ManualClock } from './support/in-memory-ports.ts';

/**
 * The feed's decisions (rolls, integrity, status, bounds) over an in-memory market-data port whose streams the test
 * feeds by hand. The same feed over the real simulator and DIFF client is in tests/integration/market-feed.
 */

class ManualStream<T> implements Subscription<T> {
  closed = false;
  private readonly items: T[] = [];
  private readonly waiters: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  private readonly listeners = new Set<(n: MarketNotice) => void>();
  private failure: unknown;

  push(item: T): void {
    const w = this.waiters.shift();
    if (w) w.resolve({ value: item, done: false });
    else this.items.push(item);
  }

  fail(err: unknown): void {
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  notice(n: MarketNotice): void {
    for (const l of this.listeners) l(n);
  }

  onNotice(l: (n: MarketNotice) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
        if (this.failure !== undefined) return Promise.reject(this.failure);
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
      },
      return: async () => {
        this.closed = true;
        return { value: undefined, done: true };
      },
    };
  }
}

class ManualSource {
  readonly quoteStreams: { symbols: string[]; stream: ManualStream<QuoteEvent> }[] = [];
  readonly tickStreams: { symbol: string; viewWidth: number | undefined; stream: ManualStream<TickRow> }[] = [];
  opens = 0;
  closes = 0;

  connection(): FeedConnection {
    this.opens++;
    return {
      source: {
        subscribeQuotes: (symbols) => {
          const stream = new ManualStream<QuoteEvent>();
          this.quoteStreams.push({ symbols, stream });
          return stream;
        },
        subscribeTicks: (symbol, viewWidth) => {
          const stream = new ManualStream<TickRow>();
          this.tickStreams.push({ symbol, viewWidth, stream });
          return stream;
        },
      },
      close: async () => {
        this.closes++;
      },
    };
  }

  quotes(symbol: string): ManualStream<QuoteEvent> {
    const s = this.quoteStreams.filter((q) => q.symbols.includes(symbol)).at(-1);
    if (!s) throw new Error(`no quote subscription of ${symbol}`);
    return s.stream;
  }

  ticks(symbol: string): ManualStream<TickRow> {
    const s = this.tickStreams.filter((t) => t.symbol === symbol).at(-1);
    if (!s) throw new Error(`no tick subscription of ${symbol}`);
    return s.stream;
  }
}

function quote(symbol: string, over: Partial<Quote> = {}): QuoteEvent {
  const nan = Number.NaN;
  const q: Quote = {
    symbol,
    instrument_id: symbol.split('.').at(-1) ?? symbol,
    datetime: '2025-03-04 10:00:00.500000',
    datetime_ns: 1_741_053_600_500_000_000n,
    ask_price: [74_020, 74_030, 74_040, 74_050, 74_060],
    ask_volume: [3, 4, 5, 6, 7],
    bid_price: [74_010, 74_000, 73_990, 73_980, 73_970],
    bid_volume: [8, 9, 10, 11, 12],
    last_price: 74_010,
    highest: 74_200,
    lowest: 73_800,
    open: nan,
    close: nan,
    average: nan,
    volume: 12_345,
    amount: nan,
    open_interest: 200_000,
    settlement: nan,
    upper_limit: nan,
    lower_limit: nan,
    pre_open_interest: nan,
    pre_settlement: 73_900,
    pre_close: nan,
    ins_class: 'FUTURE',
    instrument_name: '',
    exchange_id: 'SHFE',
    product_id: 'cu',
    price_tick: 10,
    price_decs: 0,
    volume_multiple: 5,
    max_limit_order_volume: 500,
    min_limit_order_volume: 1,
    underlying_symbol: '',
    expired: false,
    expire_datetime: null,
    expire_rest_days: nan,
    delivery_year: 2025,
    delivery_month: 4,
    trading_time: null,
    margin: nan,
    commission: nan,
    ...over,
  };
  return { symbol, batch_seq: 1, quote: q };
}

function tick(symbol: string, id: number, last: number): TickRow {
  const book: Record<string, number> = {};
  for (let k = 1; k <= 5; k++) {
    book[`bid_price${k}`] = last - 10 * k;
    book[`ask_price${k}`] = last + 10 * k;
    book[`bid_volume${k}`] = k;
    book[`ask_volume${k}`] = 10 + k;
  }
  return {
    symbol,
    id,
    trading_day: '20250304',
    datetime: 1_741_053_600_000_000_000n + BigInt(id) * 500_000_000n,
    last_price: last,
    average: Number.NaN,
    highest: last,
    lowest: last,
    volume: 1_000 + id,
    amount: Number.NaN,
    open_interest: 200_000,
    ...book,
  } as unknown as TickRow;
}

/** Let the feed's stream loops take what was pushed. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function makeFeed(source: ManualSource, clock = new ManualClock(Date.parse('2025-03-04T02:00:00.000Z'))) {
  const feed = new MarketFeed({
    open: async () => source.connection(),
    clock,
    log: silentLogger(),
    varieties: ['cu', 'au'],
    windowSize: 10,
    tickViewWidth: 4,
    retryBaseMs: 5,
    retryMaxMs: 20,
  });
  return { feed, clock };
}

/** A feed started on a fresh manual source, its first subscriptions settled. */
async function startedFeed(clock?: ManualClock) {
  const source = new ManualSource();
  const made = makeFeed(source, clock);
  made.feed.start();
  await settle();
  return { source, ...made };
}

/** `startedFeed` whose cu alias already names SHFE.cu2504 and has its main's quote. */
async function feedOnCuMain() {
  const started = await startedFeed();
  const aliases = started.source.quotes('KQ.m@SHFE.cu');
  aliases.push(quote('KQ.m@SHFE.cu', { underlying_symbol: 'SHFE.cu2504' }));
  await settle();
  started.source.quotes('SHFE.cu2504').push(quote('SHFE.cu2504'));
  await settle();
  return { ...started, aliases };
}

describe('PointRing', () => {
  it('keeps the newest points oldest-first and never more than its capacity', () => {
    // Prepare
    const ring = new PointRing(3);

    // Act
    for (let i = 1; i <= 5; i++) ring.push([BigInt(i), i, i, i, i]);

    // Assess
    expect(ring.size).toBe(3);
    expect(ring.toArray().map((p) => p[0])).toEqual([3n, 4n, 5n]);
  });
});

describe('MarketFeed', () => {
  it('subscribes the main contract the alias names, and shows its quote and ticks', async () => {
    // Prepare
    const { source, feed } = await startedFeed();

    // Act
    source.quotes('KQ.m@SHFE.cu').push(quote('KQ.m@SHFE.cu', { underlying_symbol: 'SHFE.cu2504' }));
    await settle();
    source.quotes('SHFE.cu2504').push(quote('SHFE.cu2504'));
    for (let i = 0; i < 3; i++) source.ticks('SHFE.cu2504').push(tick('SHFE.cu2504', i, 74_000 + 10 * i));
    await settle();
    const s = feed.snapshot('cu');

    // Assess
    expect(source.quoteStreams[0]?.symbols).toEqual(['KQ.m@SHFE.cu', 'KQ.m@SHFE.au']);
    expect(source.tickStreams[0]).toMatchObject({ symbol: 'SHFE.cu2504', viewWidth: 4 });
    expect(s.main_contract).toBe('SHFE.cu2504');
    expect(s.quote).toMatchObject({
      source: 'quote',
      last_price: 74_010,
      bid_price: [74_010, 74_000, 73_990, 73_980, 73_970],
    });
    expect(s.points.map((p) => p[1])).toEqual([74_000, 74_010, 74_020]);
    expect(s.feed).toMatchObject({ state: 'ok', error: '', stale: false });
    expect(feed.snapshot('au').feed.state).toBe('empty');
    await feed.close();
  });

  it('keeps at most windowSize points per variety', async () => {
    // Prepare
    const { source, feed } = await startedFeed();
    source.quotes('KQ.m@SHFE.cu').push(quote('KQ.m@SHFE.cu', { underlying_symbol: 'SHFE.cu2504' }));
    await settle();

    // Act
    for (let i = 0; i < 25; i++) source.ticks('SHFE.cu2504').push(tick('SHFE.cu2504', i, 74_000));
    await settle();

    // Assess
    const ids = feed.snapshot('cu').points.map((p) => Number((p[0] - 1_741_053_600_000_000_000n) / 500_000_000n));
    expect(ids).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    await feed.close();
  });

  it('on a roll releases the old contract, clears the window and subscribes the new main', async () => {
    // Prepare
    const { source, feed } = await startedFeed();
    const aliases = source.quotes('KQ.m@SHFE.cu');
    aliases.push(quote('KQ.m@SHFE.cu', { underlying_symbol: 'SHFE.cu2504' }));
    await settle();
    source.quotes('SHFE.cu2504').push(quote('SHFE.cu2504'));
    source.ticks('SHFE.cu2504').push(tick('SHFE.cu2504', 1, 74_000));
    await settle();
    const oldQuotes = source.quotes('SHFE.cu2504');
    const oldTicks = source.ticks('SHFE.cu2504');

    // Act
    aliases.push(quote('KQ.m@SHFE.cu', { underlying_symbol: 'SHFE.cu2505' }));
    await settle();
    const s = feed.snapshot('cu');

    // Assess
    expect(oldQuotes.closed).toBe(true);
    expect(oldTicks.closed).toBe(true);
    expect(s).toMatchObject({ main_contract: 'SHFE.cu2505', quote: null, points: [] });
    expect(source.ticks('SHFE.cu2505').closed).toBe(false);
    expect(s.feed.state).toBe('empty');
    await feed.close();
  });

  it('refuses a main contract of another variety and says so in the status', async () => {
    // Prepare
    const { source, feed } = await startedFeed();

    // Act
    source.quotes('KQ.m@SHFE.cu').push(quote('KQ.m@SHFE.cu', { underlying_symbol: 'SHFE.au2506' }));
    await settle();
    const s = feed.snapshot('cu');

    // Assess
    expect(s.main_contract).toBeNull();
    expect(source.tickStreams).toEqual([]);
    expect(s.feed).toMatchObject({ state: 'error', error: 'main_contract_invalid', stale: true });
    expect(s.feed.text).toContain('SHFE.au2506');
    await feed.close();
  });

  it('shows the book of the latest tick, with a warning, when no quote of the main arrives', async () => {
    // Prepare
    const source = new ManualSource();
    const { feed, clock } = makeFeed(source);
    feed.start();
    await settle();
    source.quotes('KQ.m@SHFE.cu').push(quote('KQ.m@SHFE.cu', { underlying_symbol: 'SHFE.cu2504' }));
    await settle();

    // Act
    source.ticks('SHFE.cu2504').push(tick('SHFE.cu2504', 7, 74_500));
    await settle();
    const early = feed.snapshot('cu');
    clock.advanceS(6);
    const late = feed.snapshot('cu');

    // Assess
    expect(early.feed.state).toBe('empty');
    expect(late.quote).toMatchObject({
      source: 'tick',
      last_price: 74_500,
      bid_price: [74_490, 74_480, 74_470, 74_460, 74_450],
      ask_volume: [11, 12, 13, 14, 15],
      volume: 1_007,
    });
    expect(Number.isNaN(late.quote?.pre_settlement)).toBe(true);
    expect(late.feed).toMatchObject({ state: 'warn', error: 'quote_missing' });
    await feed.close();
  });

  it('marks the data stale while the md connection is lost and clears it on reconnect', async () => {
    // Prepare
    const { feed, aliases } = await feedOnCuMain();

    // Act
    aliases.notice({ kind: 'connection', code: 2019112910, socket: 'md', message: 'reconnecting' });
    const lost = feed.snapshot('cu').feed;
    aliases.notice({ kind: 'connection', code: 2019112902, socket: 'md', message: 'reconnected' });
    const back = feed.snapshot('cu').feed;

    // Assess
    expect(lost).toMatchObject({ state: 'warn', error: 'md_reconnecting', stale: true });
    expect(back).toMatchObject({ state: 'ok', stale: false });
    await feed.close();
  });

  it('marks the data stale on md_stall for the main, until its market data flows again', async () => {
    // Prepare
    const { source, feed, aliases } = await feedOnCuMain();

    // Act
    aliases.notice({ kind: 'md_stall', symbols: ['SHFE.cu2504'], silent_ms: 31_000 });
    const stalled = feed.snapshot('cu').feed;
    const au = feed.snapshot('au').feed;
    source.ticks('SHFE.cu2504').push(tick('SHFE.cu2504', 1, 74_000));
    await settle();
    const flowing = feed.snapshot('cu').feed;

    // Assess
    expect(stalled).toMatchObject({ state: 'warn', error: 'md_stall', stale: true });
    expect(stalled.text).toContain('31 s');
    expect(au.error).not.toBe('md_stall');
    expect(flowing).toMatchObject({ state: 'ok', stale: false });
    await feed.close();
  });

  it('surfaces a failed stream as an error, reopens the connection, and keeps going', async () => {
    // Prepare
    const { source, feed } = await startedFeed();
    source.quotes('KQ.m@SHFE.cu').push(quote('KQ.m@SHFE.cu', { underlying_symbol: 'SHFE.cu2504' }));
    await settle();

    // Act
    source.ticks('SHFE.cu2504').fail(new Error('consumer fell 100000 items behind'));
    await settle();
    const failed = feed.snapshot('cu').feed;
    for (let i = 0; i < 50 && source.opens < 2; i++) await new Promise((r) => setTimeout(r, 5));
    await settle();
    source.quotes('KQ.m@SHFE.cu').push(quote('KQ.m@SHFE.cu', { underlying_symbol: 'SHFE.cu2504' }));
    await settle();

    // Assess
    expect(failed).toMatchObject({ state: 'error', error: 'market_feed_failed', stale: true });
    expect(failed.text).toContain('consumer fell 100000 items behind');
    expect(source.opens).toBe(2);
    expect(source.closes).toBe(1);
    expect(feed.snapshot('cu').feed.state).toBe('empty');
    await feed.close();
  });
});
