import { describe, expect, it } from 'vitest';
import { shippedCalendar } from '#shared/domain/market/calendar/index.ts';
import { DataIntegrityError } from '#shared/errors/diff.ts';
import { continuousMappingFrom, parseContinuousTable } from '#shared/infra/diff/continuous.ts';

const CAL = shippedCalendar();

describe('continuous mapping', () => {
  it('reads a changes-only table as a step function over trading days', () => {
    // Prepare
    const table = parseContinuousTable({
      'SHFE.cu': [
        [20250102, 'SHFE.cu2502'],
        [20250106, 'SHFE.cu2503'],
      ],
    });

    // Act
    const map = continuousMappingFrom(CAL, table, 'cu', '20250102', '20250107');

    // Assess
    expect(map).toEqual([
      { trading_day: '20250102', underlying: 'SHFE.cu2502' },
      { trading_day: '20250103', underlying: 'SHFE.cu2502' },
      { trading_day: '20250106', underlying: 'SHFE.cu2503' },
      { trading_day: '20250107', underlying: 'SHFE.cu2503' },
    ]);
  });

  it('takes today from the live KQ.m@ underlying', () => {
    // Prepare
    const table = parseContinuousTable({ 'SHFE.au': [[20250102, 'SHFE.au2504']] });

    // Act
    const map = continuousMappingFrom(CAL, table, 'au', '20250109', '20250110', {
      trading_day: '20250110',
      underlying: 'SHFE.au2506',
    });

    // Assess
    expect(map).toEqual([
      { trading_day: '20250109', underlying: 'SHFE.au2504' },
      { trading_day: '20250110', underlying: 'SHFE.au2506' },
    ]);
  });

  it('refuses an underlying of another variety', () => {
    // Prepare
    const table = parseContinuousTable({ 'SHFE.cu': [[20250102, 'SHFE.ag2502']] });

    // Act
    const run = () => continuousMappingFrom(CAL, table, 'cu', '20250102', '20250103');

    // Assess
    expect(run).toThrow(DataIntegrityError);
  });

  it('refuses a return to an earlier main', () => {
    // Prepare
    const table = parseContinuousTable({
      'SHFE.cu': [
        [20250102, 'SHFE.cu2502'],
        [20250103, 'SHFE.cu2503'],
        [20250106, 'SHFE.cu2502'],
      ],
    });

    // Act
    const run = () => continuousMappingFrom(CAL, table, 'cu', '20250102', '20250106');

    // Assess
    expect(run).toThrow(/returns to an earlier main/);
  });

  it('refuses days before the first entry', () => {
    // Prepare
    const table = parseContinuousTable({ 'SHFE.cu': [[20250106, 'SHFE.cu2503']] });

    // Act
    const run = () => continuousMappingFrom(CAL, table, 'cu', '20250102', '20250106');

    // Assess
    expect(run).toThrow(DataIntegrityError);
  });
});
