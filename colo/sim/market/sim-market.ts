/**
 * `SimMarket`: the deterministic SHFE market of the simulator (market-protocol §2.2–2.3). It answers listing,
 * main-contract, tick, day-statistics and live-quote questions for any (contract, trading day) from the seed
 * alone: no state beyond bounded caches, no wall clock, no dependence on request order.
 *
 * Caches (all bounded): contract-day tick blocks (LRU, `cacheSize`, default 32, about 8.5 MB each for a full au/ag day), slot grids and
 * variety paths (LRU, 8 each), day summaries (small objects, cleared at 16,384), per-contract tick-count prefix
 * sums (one number per listed day), the anchor walk and the roll schedule (one entry per trading day).
 */
import type { TradingCalendar } from '#shared/domain/market/calendar/calendar.ts';
import { CONTRACT_SPECS } from '#shared/domain/market/contracts.ts';
import { cstMidnightNs } from '#shared/domain/market/cst.ts';
import { tradingDayOf } from '#shared/domain/market/sessions.ts';
import { parseVariety, VARIETIES, type Variety } from '#shared/domain/market/varieties.ts';
import { AnchorWalk, MONTHS_PER_TRADING_DAY } from './anchor.ts';
import { BeforeGeneratorEpochError, ContractNotListedError } from './errors.ts';
import { Flows } from './flows.ts';
import { gapPlan } from './gaps.ts';
import { emptyBlock, generateContractDay } from './generator.ts';
import { buildGrid, type DayGrid, type GridShape, gridShape } from './grid.ts';
import { Lru } from './lru.ts';
import { DEFAULT_GENERATOR_PARAMS, type GeneratorParams, GeneratorParamsSchema } from './params.ts';
import { buildVarietyPath, type VarietyPath } from './path.ts';
import { streamRng } from './prng.ts';
import { buildQuote, type DaySummary, limitTicks, lowerBound, summarizeBlock } from './quote.ts';
import { RollSchedule } from './roll.ts';
import { tickRow, ticksToWirePrice } from './rows.ts';
import type { DayStats, SimQuoteLive, SimTickRow, TickBlock } from './types.ts';
import { type ContractInfo, Universe } from './universe.ts';

/**
 * First trading day of the anchor walk and the roll schedule. Fixed, so prices and mains never depend on
 * `historyFrom` or on what was asked first; days before it have no market.
 */
export const GENERATOR_EPOCH = '2021-01-04';
export const DEFAULT_HISTORY_FROM = '2024-01-02';
export const DEFAULT_CACHE_SIZE = 32;

const NS_15H = 15n * 3600n * 1_000_000_000n;

export interface SimMarketOptions {
  seed: number;
  calendar: TradingCalendar;
  /** First trading day the simulator serves history for (default 2024-01-02); must not precede the epoch. */
  historyFrom?: string;
  /** Contract-day tick blocks kept in the LRU (default 32). */
  cacheSize?: number;
  /** Generator parameters (default `DEFAULT_GENERATOR_PARAMS`), validated. */
  params?: GeneratorParams;
}

export class SimMarket {
  readonly seed: number;
  readonly calendar: TradingCalendar;
  readonly historyFrom: string;
  readonly params: GeneratorParams;
  readonly universe: Universe;
  readonly epochIdx: number;
  private readonly flows: Flows;
  private readonly roll: RollSchedule;
  private readonly anchor: AnchorWalk;
  private readonly blocks: Lru<string, TickBlock>;
  private readonly grids = new Lru<string, DayGrid>(8);
  private readonly paths = new Lru<string, VarietyPath>(8);
  private readonly shapes = new Map<string, GridShape>();
  private readonly summaries = new Map<string, DaySummary>();
  /** Per contract: cumulative tick counts; `[k]` = ticks before its `k`-th listed day. */
  private readonly idPrefix = new Map<string, number[]>();

  constructor(opts: SimMarketOptions) {
    if (!Number.isSafeInteger(opts.seed)) throw new RangeError(`seed must be a safe integer, found ${opts.seed}`);
    this.seed = opts.seed;
    this.calendar = opts.calendar;
    this.params = GeneratorParamsSchema.parse(opts.params ?? DEFAULT_GENERATOR_PARAMS);
    this.universe = new Universe(opts.calendar);
    this.epochIdx = this.universe.dayIndex(this.universe.tradingDayOnOrAfter(GENERATOR_EPOCH));
    this.historyFrom = this.universe.tradingDayOnOrAfter(opts.historyFrom ?? DEFAULT_HISTORY_FROM);
    if (this.universe.dayIndex(this.historyFrom) < this.epochIdx) {
      throw new BeforeGeneratorEpochError(this.historyFrom, GENERATOR_EPOCH);
    }
    this.blocks = new Lru(opts.cacheSize ?? DEFAULT_CACHE_SIZE);
    this.flows = new Flows(this.seed, this.params, this.universe);
    this.roll = new RollSchedule(this.universe, this.flows, this.epochIdx);
    this.anchor = new AnchorWalk(this.seed, this.params, this.universe, this.epochIdx);
  }

  // ---- listing and the main contract ------------------------------------------------------------------------

  /** Symbols listed on `day`, sorted by expiry. A closed day lists what the next trading day lists. */
  listed(variety: Variety, day: string): string[] {
    const idx = this.universe.dayIndex(this.universe.tradingDayOnOrAfter(day));
    return this.universe.listedAt(parseVariety(variety), idx).map((c) => c.symbol);
  }

  /** Whether the contract trades on `day` (a closed day answers for the next trading day). */
  isListed(symbol: string, day: string): boolean {
    const info = this.universe.contract(symbol);
    return this.universe.isListedAt(info, this.universe.dayIndex(this.universe.tradingDayOnOrAfter(day)));
  }

  /** Whether `day` is after the contract's last trading day. */
  isExpired(symbol: string, day: string): boolean {
    const info = this.universe.contract(symbol);
    return info.lastDay !== null && info.lastDay < day;
  }

  /** Last trading day (ISO) of a contract; `null` when it lies beyond the calendar's coverage. */
  lastTradingDay(symbol: string): string | null {
    return this.universe.contract(symbol).lastDay;
  }

  /** First listed trading day (ISO) of a contract; `null` when it lies outside the calendar's coverage. */
  firstListedDay(symbol: string): string | null {
    return this.universe.contract(symbol).firstDay;
  }

  /** The main contract on `day` (a closed day answers for the next trading day). */
  mainContract(variety: Variety, day: string): string {
    return this.mainAt(parseVariety(variety), this.requireIdx(this.universe.tradingDayOnOrAfter(day))).symbol;
  }

  /** `{"SHFE.cu": [[20250102, "SHFE.cu2503"], ...], ...}`: one entry per trading day in `[from, to]`. */
  continuousTable(from: string, to: string): Record<string, [number, string][]> {
    const days = this.calendar.tradingDays(from, to);
    const out: Record<string, [number, string][]> = {};
    for (const v of VARIETIES) {
      out[`SHFE.${v}`] = days.map((d) => [Number(d.replaceAll('-', '')), this.mainAt(v, this.requireIdx(d)).symbol]);
    }
    return out;
  }

  /** Trading-day indices where the roll guard had to force a switch (expected empty; see `roll.ts`). */
  forcedRolls(variety: Variety): string[] {
    return this.roll.forcedSwitches[variety].map((i) => this.universe.dayAt(i));
  }

  // ---- ticks --------------------------------------------------------------------------------------------------

  /**
   * Ticks of one contract-day; an empty block (count 0) on a closed day or when the contract is not listed, whose
   * `idBase` is the id the contract's next tick will carry. A day outside the calendar's coverage throws.
   */
  dayTicks(symbol: string, day: string): TickBlock {
    const info = this.universe.contract(symbol);
    const idx = this.universe.dayIndex(day);
    if (idx < 0 || !this.universe.isListedAt(info, idx)) {
      return emptyBlock({ ...this.header(info, day), idBase: this.tickIdBase(symbol, day) });
    }
    if (idx < this.epochIdx) throw new BeforeGeneratorEpochError(day, GENERATOR_EPOCH);
    const key = `${symbol}|${day}`;
    return this.blocks.getOrSet(key, () => this.generate(info, idx));
  }

  /**
   * Tick id of the contract's first tick on `day`: contiguous from 0 on its first listed day (a closed day answers
   * for the next trading day; after expiry, one past the last id). Needs only the gap plans, never prices.
   */
  tickIdBase(symbol: string, day: string): number {
    const info = this.universe.contract(symbol);
    const idx = this.universe.dayIndex(this.universe.tradingDayOnOrAfter(day));
    return this.idBaseAt(info, Math.min(idx, info.lastIdx + 1));
  }

  /** Row `i` of a block, wire-shaped. */
  tickRow(block: TickBlock, i: number): SimTickRow {
    return tickRow(block, i);
  }

  /**
   * Ticks with `fromNs ≤ datetime ≤ toNs`, as half-open index ranges `[from, to)` per contract-day block, in time
   * order. Generates (or reuses) every listed contract-day the interval touches.
   */
  ticksBetween(symbol: string, fromNs: bigint, toNs: bigint): { block: TickBlock; from: number; to: number }[] {
    if (toNs < fromNs) return [];
    const info = this.universe.contract(symbol);
    const first = tradingDayOf(this.calendar, fromNs, 'SHFE', info.variety).trading_day;
    const last = tradingDayOf(this.calendar, toNs, 'SHFE', info.variety).trading_day;
    const out: { block: TickBlock; from: number; to: number }[] = [];
    for (const day of this.calendar.tradingDays(first, last)) {
      const idx = this.universe.dayIndex(day);
      if (!this.universe.isListedAt(info, idx) || idx < this.epochIdx) continue;
      const block = this.dayTicks(symbol, day);
      const from = lowerBound(block.datetimeNs, fromNs);
      const to = lowerBound(block.datetimeNs, toNs + 1n);
      if (to > from) out.push({ block, from, to });
    }
    return out;
  }

  // ---- day statistics and quotes ------------------------------------------------------------------------------

  /** Day figures of a listed contract-day (generates its ticks and the previous day's when not cached). */
  dayStats(symbol: string, day: string): DayStats {
    const info = this.universe.contract(symbol);
    const idx = this.listedIdx(info, day);
    const s = this.summary(info, idx);
    const pre = this.previous(info, idx);
    const px = (t: number): number => ticksToWirePrice(t, this.spec(info).price_tick, this.spec(info).price_decs);
    const limits = limitTicks(pre.settlement, this.params.limit_fraction);
    return {
      open: px(s.open),
      close: px(s.close),
      settlement: px(s.settlement),
      highest: px(s.highest),
      lowest: px(s.lowest),
      volume: s.volume,
      amount: s.amount,
      open_interest: s.openInterest,
      pre_close: px(pre.close),
      pre_settlement: px(pre.settlement),
      pre_open_interest: pre.openInterest,
      upper_limit: px(limits.upper),
      lower_limit: px(limits.lower),
    };
  }

  /**
   * Analytic day volume and day-end open interest (no ticks generated): what the roll schedule reads. `null` when
   * the contract is not listed that day.
   */
  dayFlow(symbol: string, day: string): { volume: number; open_interest: number } | null {
    const info = this.universe.contract(symbol);
    const idx = this.universe.dayIndex(day);
    if (idx < 0 || !this.universe.isListedAt(info, idx)) return null;
    const f = this.flows.flowOf(info, idx);
    return { volume: f.volume, open_interest: f.oi };
  }

  /**
   * Live quote at sim instant `ns`: the last tick ≤ ns of the instant's trading day; before that day's first tick,
   * the previous trading day's final state (with its close and settlement). `close`/`settlement` are `"-"` before
   * 15:00 CST of the quote's trading day. `null` when the contract is not listed on the instant's trading day, or
   * on its first listed day before the first tick.
   */
  quoteAt(symbol: string, ns: bigint): SimQuoteLive | null {
    const info = this.universe.contract(symbol);
    const day = tradingDayOf(this.calendar, ns, 'SHFE', info.variety).trading_day;
    const idx = this.universe.dayIndex(day);
    if (!this.universe.isListedAt(info, idx) || idx < this.epochIdx) return null;
    const block = this.dayTicks(symbol, day);
    const i = lowerBound(block.datetimeNs, ns + 1n) - 1;
    if (i >= 0) return this.quoteFrom(info, idx, block, i, ns >= cstMidnightNs(day) + NS_15H);
    if (idx - 1 < info.firstIdx || idx - 1 < this.epochIdx) return null;
    const prev = this.dayTicks(symbol, this.universe.dayAt(idx - 1));
    return this.quoteFrom(info, idx - 1, prev, prev.count - 1, true);
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  private spec(info: ContractInfo) {
    return CONTRACT_SPECS[info.variety];
  }

  private header(info: ContractInfo, day: string) {
    const spec = this.spec(info);
    return {
      symbol: info.symbol,
      variety: info.variety,
      day,
      idBase: 0,
      priceTick: spec.price_tick,
      priceDecs: spec.price_decs,
      volumeMultiple: spec.volume_multiple,
    };
  }

  private requireIdx(day: string): number {
    const idx = this.universe.dayIndex(day);
    if (idx < this.epochIdx) throw new BeforeGeneratorEpochError(day, GENERATOR_EPOCH);
    return idx;
  }

  private mainAt(variety: Variety, idx: number): ContractInfo {
    return this.roll.mainAt(variety, idx);
  }

  private listedIdx(info: ContractInfo, day: string): number {
    const idx = this.universe.dayIndex(day);
    if (idx < 0 || !this.universe.isListedAt(info, idx)) throw new ContractNotListedError(info.symbol, day);
    if (idx < this.epochIdx) throw new BeforeGeneratorEpochError(day, GENERATOR_EPOCH);
    return idx;
  }

  private shapeAt(variety: Variety, idx: number): GridShape {
    const key = `${variety}|${idx}`;
    let s = this.shapes.get(key);
    if (!s) {
      s = gridShape(this.calendar, this.universe.dayAt(idx), variety);
      if (this.shapes.size >= 16_384) this.shapes.clear();
      this.shapes.set(key, s);
    }
    return s;
  }

  private gapsAt(info: ContractInfo, idx: number) {
    const share = this.flows.flowOf(info, idx).share;
    return gapPlan(
      this.seed,
      info.symbol,
      this.universe.dayAt(idx),
      this.shapeAt(info.variety, idx),
      share,
      this.params,
    );
  }

  /** Sum of tick counts of the contract's listed days before `idx` (from the gap plans only). */
  private idBaseAt(info: ContractInfo, idx: number): number {
    const first = Math.max(0, info.firstIdx);
    let prefix = this.idPrefix.get(info.symbol);
    if (!prefix) {
      prefix = [0];
      this.idPrefix.set(info.symbol, prefix);
    }
    const want = Math.max(0, idx - first);
    while (prefix.length <= want) {
      const k = first + prefix.length - 1;
      prefix.push((prefix.at(-1) as number) + this.gapsAt(info, k).count);
    }
    return prefix[want] as number;
  }

  /** Term-structure spread plus the contract's constant offset at trading day `idx`'s close, in ticks. */
  private offsetTicks(info: ContractInfo, idx: number): number {
    const spec = this.spec(info);
    const p = this.params.varieties[info.variety];
    const months = Math.max(0, info.lastIdx - idx) * MONTHS_PER_TRADING_DAY;
    const draw = streamRng(this.seed, info.symbol, 'static', 'offset').float(0);
    const constant = Math.round((2 * draw - 1) * p.contract_offset_ticks);
    return (this.anchor.spreadPerMonth(info.variety, idx) * months) / spec.price_tick + constant;
  }

  private gridAt(variety: Variety, idx: number): DayGrid {
    return this.grids.getOrSet(`${variety}|${idx}`, () => buildGrid(this.calendar, this.universe.dayAt(idx), variety));
  }

  private pathAt(variety: Variety, idx: number): VarietyPath {
    return this.paths.getOrSet(`${variety}|${idx}`, () => {
      const p = this.params.varieties[variety];
      const close = this.anchor.close(variety, idx);
      const prevClose = idx > this.epochIdx ? this.anchor.close(variety, idx - 1) : close;
      const open = prevClose * Math.exp(this.anchor.overnightGap(variety, idx));
      return buildVarietyPath(
        this.seed,
        this.gridAt(variety, idx),
        open,
        close,
        p.intraday_sigma * p.daily_sigma * close,
      );
    });
  }

  private generate(info: ContractInfo, idx: number): TickBlock {
    const day = this.universe.dayAt(idx);
    const flow = this.flows.flowOf(info, idx);
    const oiStart = idx - 1 >= info.firstIdx ? this.flows.flowOf(info, idx - 1).oi : 0;
    const block = generateContractDay({
      ...this.header(info, day),
      seed: this.seed,
      idBase: this.idBaseAt(info, idx),
      params: this.params.varieties[info.variety],
      grid: this.gridAt(info.variety, idx),
      path: this.pathAt(info.variety, idx),
      gaps: this.gapsAt(info, idx),
      offsetStartTicks: this.offsetTicks(info, idx - 1),
      offsetEndTicks: this.offsetTicks(info, idx),
      dayVolume: flow.volume,
      oiStart,
      oiEnd: flow.oi,
      share: flow.share,
    });
    this.rememberSummary(info, idx, block);
    return block;
  }

  private rememberSummary(info: ContractInfo, idx: number, block: TickBlock): DaySummary {
    const summary = summarizeBlock(block);
    if (this.summaries.size >= 16_384) this.summaries.clear();
    this.summaries.set(`${info.symbol}|${idx}`, summary);
    return summary;
  }

  private summary(info: ContractInfo, idx: number): DaySummary {
    const hit = this.summaries.get(`${info.symbol}|${idx}`);
    if (hit) return hit;
    const block = this.dayTicks(info.symbol, this.universe.dayAt(idx));
    return this.summaries.get(`${info.symbol}|${idx}`) ?? this.rememberSummary(info, idx, block);
  }

  /**
   * `pre_close`, `pre_settlement` (ticks) and `pre_open_interest` of day `idx`: the previous trading day's close,
   * settlement and final OI; on the first listed day (or the epoch day) the latent level at D−1's close and 0 OI.
   */
  private previous(info: ContractInfo, idx: number): { close: number; settlement: number; openInterest: number } {
    if (idx - 1 >= info.firstIdx && idx - 1 >= this.epochIdx) {
      const s = this.summary(info, idx - 1);
      return { close: s.close, settlement: s.settlement, openInterest: s.openInterest };
    }
    const spec = this.spec(info);
    const at = Math.max(this.epochIdx, idx - 1);
    const level = Math.round(this.anchor.close(info.variety, at) / spec.price_tick + this.offsetTicks(info, idx - 1));
    const oi = idx - 1 >= info.firstIdx ? this.flows.flowOf(info, idx - 1).oi : 0;
    return { close: level, settlement: level, openInterest: oi };
  }

  private quoteFrom(info: ContractInfo, idx: number, block: TickBlock, i: number, closed: boolean): SimQuoteLive {
    const pre = this.previous(info, idx);
    return buildQuote(
      block,
      i,
      this.summary(info, idx),
      pre,
      limitTicks(pre.settlement, this.params.limit_fraction),
      closed,
    );
  }
}
