import { describe, expect, it } from 'vitest';
import {
  canonicalProfile,
  continuousSymbol,
  parseAnySymbol,
  parseContractSymbol,
} from '#shared/domain/market/symbols.ts';
import { SymbolParseError } from '#shared/errors/market.ts';

describe('parseContractSymbol', () => {
  it('parses a canonical contract symbol into its parts', () => {
    // Act
    const c = parseContractSymbol('SHFE.cu2502');

    // Assess
    expect(c).toEqual({
      exchange: 'SHFE',
      variety: 'cu',
      yymm: '2502',
      year: 2025,
      month: 2,
      instrument_id: 'cu2502',
      symbol: 'SHFE.cu2502',
    });
  });

  it('accepts every delivery month, including odd au months the exchange also lists', () => {
    // Act
    const c = parseContractSymbol('SHFE.au2503');

    // Assess
    expect(c.month).toBe(3);
  });

  it.each([
    ['cu2502', 'a bare instrument id'],
    ['shfe.cu2502', 'a lower-case exchange'],
    ['SHFE.CU2502', 'an upper-case variety'],
    ['DCE.cu2502', 'another exchange'],
    ['SHFE.rb2505', 'an unknown variety'],
    ['SHFE.cu2513', 'month 13'],
    ['SHFE.cu2500', 'month 00'],
    ['SHFE.cu25021', 'five digits'],
    [' SHFE.cu2502', 'surrounding space'],
    ['KQ.m@SHFE.cu', 'a continuous alias'],
  ])('rejects %j (%s)', (s) => {
    // Act
    const act = () => parseContractSymbol(s);

    // Assess
    expect(act).toThrow(SymbolParseError);
  });
});

describe('continuous symbols', () => {
  it('names the continuous alias of a variety', () => {
    // Act
    const s = continuousSymbol('ag');

    // Assess
    expect(s).toBe('KQ.m@SHFE.ag');
  });

  it('parses a continuous alias and a contract through one entry point', () => {
    // Act
    const alias = parseAnySymbol('KQ.m@SHFE.au');
    const contract = parseAnySymbol('SHFE.au2506');

    // Assess
    expect(alias).toEqual({ kind: 'continuous', variety: 'au', exchange: 'SHFE' });
    expect(contract.kind === 'contract' && contract.contract.instrument_id).toBe('au2506');
  });

  it.each([['KQ.m@SHFE.rb'], ['KQ.i@SHFE.cu'], ['KQ.m@DCE.cu'], ['']])('rejects %j', (s) => {
    // Act
    const act = () => parseAnySymbol(s);

    // Assess
    expect(act).toThrow(SymbolParseError);
  });
});

describe('canonicalProfile', () => {
  it.each([
    ['default', 'default'],
    ['Main', 'main'],
    ['  Main Account#2 ', 'main_account_2'],
    ['a--b__c', 'a_b_c'],
    ['__x__', 'x'],
    ['', 'default'],
    ['###', 'default'],
    ['Ünïcode', 'n_code'],
    ['ÄB', 'b'],
  ])('canonicalises %j to %j', (name, expected) => {
    // Act
    const p = canonicalProfile(name);

    // Assess
    expect(p).toBe(expected);
  });
});
