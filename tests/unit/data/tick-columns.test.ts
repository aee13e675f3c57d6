import { describe, expect, it } from 'vitest';
import { TABLES, TICK_NUMERIC_COLUMNS, TICKS_SCHEMA_HASH, ticksSchemaHash } from '#shared/domain/data/tick-columns.ts';

describe('tick columns', () => {
  it('lists the 27 numeric columns with the level fields interleaved bid before ask', () => {
    // Act
    const head = TICK_NUMERIC_COLUMNS.slice(0, 11);

    // Assess
    expect(TICK_NUMERIC_COLUMNS).toHaveLength(27);
    expect(head).toEqual([
      'last_price',
      'average',
      'highest',
      'lowest',
      'volume',
      'amount',
      'open_interest',
      'bid_price1',
      'bid_volume1',
      'ask_price1',
      'ask_volume1',
    ]);
    expect(TICK_NUMERIC_COLUMNS.at(-1)).toBe('ask_volume5');
  });

  it('reproduces the ticks_schema_hash vector 6270bba406e22ffd', () => {
    // Act
    const h = ticksSchemaHash();

    // Assess
    expect(h).toBe('6270bba406e22ffd');
    expect(TICKS_SCHEMA_HASH).toBe('6270bba406e22ffd');
  });

  it('changes the ticks_schema_hash when two columns swap places', () => {
    // Prepare
    const swapped: string[] = ['average', 'last_price', ...TICK_NUMERIC_COLUMNS.slice(2)];

    // Act
    const h = ticksSchemaHash(swapped);

    // Assess
    expect(h).not.toBe('6270bba406e22ffd');
  });
});

describe('table catalogue', () => {
  it('stores the 27 numeric tick columns as DOUBLE right after row_hash in the main_l5 tick table', () => {
    // Prepare
    const cols = TABLES.ticksMainL5.columns;

    // Act
    const at = cols.findIndex((c) => c.name === 'row_hash');
    const numeric = cols.slice(at + 1, at + 28);

    // Assess
    expect(TABLES.ticksMainL5.name).toBe('ghtrader_ticks_main_l5_v2');
    expect(numeric.map((c) => c.name)).toEqual([...TICK_NUMERIC_COLUMNS]);
    expect(new Set(numeric.map((c) => c.type))).toEqual(new Set(['DOUBLE']));
    expect(cols.slice(at + 28).map((c) => c.name)).toEqual([
      'dataset_version',
      'ticks_kind',
      'underlying_contract',
      'segment_id',
      'schedule_hash',
      'ts',
    ]);
  });

  it('gives every table a ts TIMESTAMP, unique column names and dedup keys that are columns', () => {
    // Act
    const problems = Object.values(TABLES).flatMap((t) => {
      const names = t.columns.map((c) => c.name);
      const out: string[] = [];
      if (!t.columns.some((c) => c.name === 'ts' && c.type === 'TIMESTAMP')) out.push(`${t.name}: no ts`);
      if (new Set(names).size !== names.length) out.push(`${t.name}: duplicate column`);
      for (const k of t.dedupKeys) if (!names.includes(k)) out.push(`${t.name}: dedup key ${k} missing`);
      if (!/^ghtrader_[a-z0-9_]+_v2$/.test(t.name)) out.push(`${t.name}: not a v2 name`);
      return out;
    });

    // Assess
    expect(problems).toEqual([]);
    expect(Object.keys(TABLES)).toHaveLength(15);
  });

  it('declares the schedule table with the predecessor columns and per-day upsert key', () => {
    // Act
    const t = TABLES.mainSchedule;

    // Assess
    expect(t.columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      'exchange SYMBOL',
      'variety SYMBOL',
      'trading_day SYMBOL',
      'main_contract SYMBOL',
      'segment_id LONG',
      'schedule_hash SYMBOL',
      'updated_at TIMESTAMP',
      'ts TIMESTAMP',
    ]);
    expect(t.dedupKeys).toEqual(['ts', 'exchange', 'variety', 'trading_day']);
  });

  it('puts the row key into the fill-label dedup key next to side and price level', () => {
    // Act
    const keys = TABLES.fillLabels.dedupKeys;

    // Assess
    expect(keys).toEqual([
      'ts',
      'symbol',
      'ticks_kind',
      'dataset_version',
      'build_id',
      'side',
      'price_level',
      'row_hash',
    ]);
    expect(TABLES.fieldQuality.columns.map((c) => c.name)).toContain('negative_price_rate');
  });
});
