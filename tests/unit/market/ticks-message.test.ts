import { describe, expect, it } from 'vitest';
import type { MarketPoint, MarketSnapshot } from '#shared/domain/market/feed.ts';
import { ticksMessage } from '#shared/domain/market/feed-json.ts';
import { silentLogger } from '#shared/log.ts';
import { TicksPublisher } from '#shared/services/ticks-publisher.ts';

const feed = { state: 'ok' as const, text: 'live', error: '', updated_at: '2026-11-21T01:00:00.000Z', stale: false };
const pt = (s: number, last: number): MarketPoint => [BigInt(s) * 1_000_000_000n, last, last - 10, last + 10, 5];

function snap(main: string | null, points: MarketPoint[], over: Partial<MarketSnapshot> = {}): MarketSnapshot {
  return { variety: 'cu', main_contract: main, quote: null, points, feed, ...over };
}

describe('ticksMessage', () => {
  it('sends the whole window first, then only newer points, and nothing when nothing changed', () => {
    const first = ticksMessage(null, snap('SHFE.cu2601', [pt(1, 100), pt(2, 110)]));
    expect(first?.message).toMatchObject({ reset: true, main_contract: 'SHFE.cu2601' });
    expect(first?.message.points).toEqual([
      ['1000000000', 100, 90, 110, 5],
      ['2000000000', 110, 100, 120, 5],
    ]);
    const cursor = first?.cursor ?? null;
    expect(ticksMessage(cursor, snap('SHFE.cu2601', [pt(1, 100), pt(2, 110)]))).toBeNull();
    const next = ticksMessage(cursor, snap('SHFE.cu2601', [pt(1, 100), pt(2, 110), pt(3, 120)]));
    expect(next?.message.reset).toBe(false);
    expect(next?.message.points).toEqual([['3000000000', 120, 110, 130, 5]]);
  });

  it('resets on a roll and speaks up when only the feed status changed', () => {
    const a = ticksMessage(null, snap('SHFE.cu2601', [pt(1, 100)]));
    const rolled = ticksMessage(a?.cursor ?? null, snap('SHFE.cu2602', [pt(5, 200)]));
    expect(rolled?.message).toMatchObject({ reset: true, main_contract: 'SHFE.cu2602' });
    const stale = ticksMessage(
      rolled?.cursor ?? null,
      snap('SHFE.cu2602', [pt(5, 200)], { feed: { ...feed, state: 'warn', stale: true, text: 'md_stall' } }),
    );
    expect(stale?.message).toMatchObject({ reset: false, points: [], feed: { state: 'warn', stale: true } });
  });

  it('writes NaN prices as null, so the message is JSON', () => {
    const m = ticksMessage(null, snap('SHFE.cu2601', [[1n, Number.NaN, 1, 2, 3]]));
    expect(JSON.parse(JSON.stringify(m?.message)).points).toEqual([['1', null, 1, 2, 3]]);
  });
});

describe('TicksPublisher', () => {
  it('publishes ticks:<var> per changed variety, at most 2 Hz', () => {
    let points: MarketPoint[] = [pt(1, 100)];
    const sent: [string, unknown][] = [];
    const p = new TicksPublisher({
      feed: { snapshot: (v) => ({ ...snap('SHFE.cu2601', points), variety: v }) },
      publish: (channel, message) => sent.push([channel, message]),
      log: silentLogger(),
      varieties: ['cu', 'au'],
    });
    p.publishChanges();
    expect(sent.map(([c]) => c)).toEqual(['ticks:cu', 'ticks:au']);
    p.publishChanges();
    expect(sent).toHaveLength(2);
    points = [...points, pt(2, 101)];
    p.publishChanges();
    expect(sent).toHaveLength(4);
    expect(p.count()).toBe(4);
    expect(
      () =>
        new TicksPublisher({
          feed: { snapshot: () => snap(null, []) },
          publish: () => {},
          log: silentLogger(),
          intervalMs: 100,
        }),
    ).toThrow(/2 Hz/);
  });
});
