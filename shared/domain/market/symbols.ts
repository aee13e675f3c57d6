/**
 * Symbols (data-chain §0): contracts `SHFE.cu2502` (exchange upper-case, variety lower-case, `YYMM`), continuous
 * aliases `KQ.m@SHFE.cu`, and account-profile names. Parsing is strict: anything else is a `SymbolParseError`.
 */
import { SymbolParseError } from '../../errors/market.ts';
import { isVariety, type Variety } from './varieties.ts';

export interface ContractSymbol {
  exchange: 'SHFE';
  variety: Variety;
  /** Delivery year and month as written in the symbol, `'2502'`. */
  yymm: string;
  /** Four-digit delivery year (`20` + YY). */
  year: number;
  /** Delivery month 1..12. */
  month: number;
  /** Exchange instrument id, `'cu2502'`. */
  instrument_id: string;
  /** Canonical symbol, `'SHFE.cu2502'`. */
  symbol: string;
}

const CONTRACT = /^SHFE\.([a-z]{2})(\d{2})(\d{2})$/;
const CONTINUOUS = /^KQ\.m@SHFE\.([a-z]{2})$/;

/**
 * Parse a canonical contract symbol `SHFE.<var><YYMM>`. Bare instrument ids (`cu2502`), other exchanges, other
 * cases and unknown varieties are rejected. Any delivery month 01–12 is accepted (the exchange's real au cycle has
 * odd months too; listing rules live in `contracts.ts`).
 */
export function parseContractSymbol(s: string): ContractSymbol {
  const m = typeof s === 'string' ? CONTRACT.exec(s) : null;
  const variety = m?.[1];
  if (!m || !isVariety(variety))
    throw new SymbolParseError(s, 'a contract symbol SHFE.<cu|au|ag><YYMM>, e.g. SHFE.cu2502');
  const yy = Number(m[2]);
  const month = Number(m[3]);
  if (month < 1 || month > 12) throw new SymbolParseError(s, 'a delivery month 01-12 in SHFE.<var><YYMM>');
  return contractSymbol(variety as Variety, 2000 + yy, month);
}

/** The contract of `variety` delivering in `year` (2000–2099) / `month` (1–12). */
export function contractSymbol(variety: Variety, year: number, month: number): ContractSymbol {
  if (!isVariety(variety)) throw new SymbolParseError(variety, 'a variety cu, au or ag');
  if (!Number.isInteger(year) || year < 2000 || year > 2099 || !Number.isInteger(month) || month < 1 || month > 12) {
    throw new SymbolParseError(`${variety} ${year}-${month}`, 'a delivery year 2000-2099 and month 1-12');
  }
  const yymm = `${String(year % 100).padStart(2, '0')}${String(month).padStart(2, '0')}`;
  const instrument_id = `${variety}${yymm}`;
  return { exchange: 'SHFE', variety, yymm, year, month, instrument_id, symbol: `SHFE.${instrument_id}` };
}

/** The continuous main-contract alias of a variety, `KQ.m@SHFE.cu` (the dataset `symbol`). */
export function continuousSymbol(variety: Variety): string {
  if (!isVariety(variety)) throw new SymbolParseError(variety, 'a variety cu, au or ag');
  return `KQ.m@SHFE.${variety}`;
}

export type AnySymbol =
  | { kind: 'contract'; contract: ContractSymbol }
  | { kind: 'continuous'; variety: Variety; exchange: 'SHFE' };

/** A contract symbol or a continuous alias; anything else is a `SymbolParseError`. */
export function parseAnySymbol(s: string): AnySymbol {
  const m = typeof s === 'string' ? CONTINUOUS.exec(s) : null;
  if (m) {
    const variety = m[1];
    if (!isVariety(variety)) throw new SymbolParseError(s, 'a continuous alias KQ.m@SHFE.<cu|au|ag>');
    return { kind: 'continuous', variety, exchange: 'SHFE' };
  }
  if (typeof s === 'string' && s.startsWith('KQ.')) {
    throw new SymbolParseError(s, 'a continuous alias KQ.m@SHFE.<cu|au|ag>');
  }
  return { kind: 'contract', contract: parseContractSymbol(s) };
}

/**
 * Canonical account-profile name (control-chain §1): ASCII lower-case, every run of characters outside `[a-z0-9]`
 * becomes one `_`, leading and trailing `_` trimmed, empty → `default`.
 *
 * @example canonicalProfile('  Main Account#2 ') // 'main_account_2'
 */
export function canonicalProfile(name: string): string {
  const lowered = name.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const out = lowered.replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return out === '' ? 'default' : out;
}
