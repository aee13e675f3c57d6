import { describe, expect, it } from 'vitest';
import {
  dropColumn,
  evaluateDataContract,
  invariantFixtureFrame,
  syntheticContractFrame,
  withColumn,
} from '#shared/domain/data/validation/index.ts';

describe('data contract check (§6.7, acceptance item 22)', () => {
  it('96 synthetic rows pass every check', () => {
    // Act
    const r = evaluateDataContract(syntheticContractFrame(96), {}, 'synthetic');

    // Assess
    expect(r.ok).toBe(true);
    expect(r.rows_total).toBe(96);
    expect(r.checks.map((c) => c.name)).toEqual([
      'rows_minimum',
      'schema_columns_present',
      'row_hash_deterministic',
      'row_hash_integrity',
      'null_rates_within_threshold',
    ]);
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.extra_columns).toEqual([]);
    expect(r.row_hash.non_null_rows).toBe(96);
    expect(r.schema.expected_schema_hash).toBe('6270bba406e22ffd');
    expect(Object.values(r.invariants).every((v) => v.violations === 0)).toBe(true);
  });

  it('dropping bid_price3 → missing_columns', () => {
    // Act
    const r = evaluateDataContract(dropColumn(syntheticContractFrame(96), 'bid_price3'));

    // Assess
    expect(r.ok).toBe(false);
    expect(r.missing_columns).toEqual(['bid_price3']);
    expect(r.violations).toEqual([
      { type: 'missing_columns', metric: 'schema_columns', value: ['bid_price3'], threshold: [] },
    ]);
    expect(r.checks.find((c) => c.name === 'schema_columns_present')?.ok).toBe(false);
  });

  it('all-NaN last_price → core_null_rate_exceeded naming last_price_null_rate', () => {
    // Act
    const r = evaluateDataContract(withColumn(syntheticContractFrame(96), 'last_price', () => Number.NaN));

    // Assess
    expect(r.ok).toBe(false);
    expect(r.violations).toEqual([
      { type: 'core_null_rate_exceeded', metric: 'last_price_null_rate', value: 1, threshold: 0.01 },
    ]);
    expect(r.null_rates.core.last_price).toBe(1);
  });

  it('the invariant fixture → exactly 1 cross, 1 bid-order, 1 ask-order, 1 negative volume, 1 negative price', () => {
    // Act
    const r = evaluateDataContract(invariantFixtureFrame(96));

    // Assess
    expect(Object.fromEntries(Object.entries(r.invariants).map(([k, v]) => [k, v.violations]))).toEqual({
      bid_ask_cross: 1,
      bid_order: 1,
      ask_order: 1,
      negative_volume: 1,
      negative_price: 1,
    });
    expect(r.invariants.negative_volume.checked).toBe(96 * 11);
    expect(r.invariants.bid_ask_cross.checked).toBe(96);
  });

  it('too few rows → rows_below_minimum; extra columns are reported and allowed', () => {
    // Prepare
    const frame = syntheticContractFrame(8);
    const withExtra = { rows: frame.rows, columns: { ...frame.columns, note: new Array(8).fill('x') } };

    // Act
    const r = evaluateDataContract(withExtra, { minRows: 32 });

    // Assess
    expect(r.violations.map((v) => v.type)).toEqual(['rows_below_minimum']);
    expect(r.extra_columns).toEqual(['note']);
  });

  it('a row whose datetime cannot be hashed fails row_hash_integrity', () => {
    // Prepare
    const frame = syntheticContractFrame(40);
    const dt = Array.from(frame.columns.datetime as BigInt64Array) as unknown[];
    dt[3] = 'not-a-time';

    // Act
    const r = evaluateDataContract({ rows: 40, columns: { ...frame.columns, datetime: dt } });

    // Assess
    expect(r.row_hash.non_null_rows).toBe(39);
    expect(r.checks.find((c) => c.name === 'row_hash_integrity')?.ok).toBe(false);
    expect(r.ok).toBe(false);
  });
});
