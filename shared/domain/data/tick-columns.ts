/**
 * The canonical tick columns (data-chain §2.1) and the v2 table catalogue (§1.2) as data. Names are part of the
 * compatibility promise with the predecessor's datasets: DuckDB and QuestDB use exactly these table and column names.
 */
import { sha256Hex } from '../control/canonical-json.ts';

/** The 27 numeric tick columns, in the exact order the row hash and every store use (§2.1). */
export const TICK_NUMERIC_COLUMNS = [
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
  'bid_price2',
  'bid_volume2',
  'ask_price2',
  'ask_volume2',
  'bid_price3',
  'bid_volume3',
  'ask_price3',
  'ask_volume3',
  'bid_price4',
  'bid_volume4',
  'ask_price4',
  'ask_volume4',
  'bid_price5',
  'bid_volume5',
  'ask_price5',
  'ask_volume5',
] as const;

export type TickNumericColumn = (typeof TICK_NUMERIC_COLUMNS)[number];

/** Number of numeric tick columns (27). */
export const TICK_NUMERIC_COLUMN_COUNT = TICK_NUMERIC_COLUMNS.length;

/**
 * `ticks_schema_hash` (§2.1): first 16 hex of SHA-256 over `symbol:string,datetime:int64,<col>:float64,…`
 * (27 numeric columns, comma-joined). Recorded in manifests; `6270bba406e22ffd` for the canonical columns.
 */
export function ticksSchemaHash(columns: readonly string[] = TICK_NUMERIC_COLUMNS): string {
  return sha256Hex(['symbol:string', 'datetime:int64', ...columns.map((c) => `${c}:float64`)].join(','), 16);
}

export const TICKS_SCHEMA_HASH = ticksSchemaHash();

/** Column types of the catalogue: S=SYMBOL, L=LONG, D=DOUBLE, T=TIMESTAMP, STR=STRING (§1.2). */
export type ColumnType = 'SYMBOL' | 'LONG' | 'DOUBLE' | 'TIMESTAMP' | 'STRING';

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
}

/**
 * What the designated timestamp `ts` of a table is (§1.1): `tick` = `datetime_ns` truncated to µs, `day` = the
 * trading day at 00:00 UTC, `gap_start` = the gap's start, `build` = the build time, `created` = creation time.
 */
export type TsKind = 'tick' | 'day' | 'gap_start' | 'build' | 'created';

export interface TableDef {
  readonly name: string;
  /** Fixed columns in declaration order; `ts TIMESTAMP` is always the last one. */
  readonly columns: readonly ColumnDef[];
  readonly ts: TsKind;
  /** Dedup (upsert) keys; empty for append-only tables. */
  readonly dedupKeys: readonly string[];
  /**
   * Columns whose names depend on a build's parameters (one DOUBLE per factor, `label_<N>` per horizon, …),
   * described for humans; required-column checks cover `columns` only.
   */
  readonly dynamicColumns?: string;
}

/** Values of `dataset_version` and `ticks_kind` (§0). */
export const DATASET_VERSION = 'v2';
export const TICKS_KINDS = ['raw', 'main_l5'] as const;
export type TicksKind = (typeof TICKS_KINDS)[number];

const col = (type: ColumnType, ...names: string[]): ColumnDef[] => names.map((name) => ({ name, type }));
const S = (...n: string[]) => col('SYMBOL', ...n);
const L = (...n: string[]) => col('LONG', ...n);
const D = (...n: string[]) => col('DOUBLE', ...n);
const T = (...n: string[]) => col('TIMESTAMP', ...n);
const STR = (...n: string[]) => col('STRING', ...n);
const TS: ColumnDef = { name: 'ts', type: 'TIMESTAMP' };

function table(name: string, ts: TsKind, columns: ColumnDef[], dedupKeys: string[], dynamicColumns?: string): TableDef {
  return Object.freeze({
    name,
    ts,
    columns: Object.freeze([...columns, TS].map((c) => Object.freeze(c))),
    dedupKeys: Object.freeze(dedupKeys),
    ...(dynamicColumns === undefined ? {} : { dynamicColumns }),
  });
}

/** Provenance columns shared by features, labels and fill labels (§1.2 `ghtrader_features_v2`). */
const FEATURE_PROVENANCE: ColumnDef[] = [
  ...S('symbol'),
  ...L('datetime_ns'),
  ...S('trading_day'),
  ...L('row_hash'),
  ...S('ticks_kind', 'dataset_version', 'build_id'),
  ...T('build_ts'),
  ...S('schedule_hash', 'underlying_contract'),
  ...L('segment_id'),
];

const BUILD_DEDUP = ['ts', 'symbol', 'ticks_kind', 'dataset_version', 'build_id', 'row_hash'];
const DAY_KIND_DEDUP = ['ts', 'symbol', 'trading_day', 'ticks_kind', 'dataset_version'];
const FIELD_QUALITY_CHECKS = ['bid_ask_cross', 'bid_order', 'ask_order', 'negative_volume', 'negative_price'] as const;

export const TABLE_NAMES = {
  ticksMainL5: 'ghtrader_ticks_main_l5_v2',
  mainSchedule: 'ghtrader_main_schedule_v2',
  validateSummary: 'ghtrader_main_l5_validate_summary_v2',
  validateGaps: 'ghtrader_main_l5_validate_gaps_v2',
  tickGaps: 'ghtrader_tick_gaps_v2',
  fieldQuality: 'ghtrader_field_quality_v2',
  dailyAgg: 'ghtrader_main_l5_daily_agg_v2',
  features: 'ghtrader_features_v2',
  featureBuilds: 'ghtrader_feature_builds_v2',
  labels: 'ghtrader_labels_v2',
  labelBuilds: 'ghtrader_label_builds_v2',
  fillLabels: 'ghtrader_fill_labels_v2',
  fillLabelBuilds: 'ghtrader_fill_label_builds_v2',
  featureRegistry: 'ghtrader_feature_registry_v2',
  mainL5Builds: 'ghtrader_main_l5_builds_v2',
} as const;

export type TableKey = keyof typeof TABLE_NAMES;

/** The v2 table catalogue of §1.2, keyed by a short name. */
export const TABLES: Readonly<Record<TableKey, TableDef>> = Object.freeze({
  ticksMainL5: table(
    TABLE_NAMES.ticksMainL5,
    'tick',
    [
      ...S('symbol'),
      ...L('datetime_ns'),
      ...S('trading_day'),
      ...L('row_hash'),
      ...D(...TICK_NUMERIC_COLUMNS),
      ...S('dataset_version', 'ticks_kind', 'underlying_contract'),
      ...L('segment_id'),
      ...S('schedule_hash'),
    ],
    ['ts', 'symbol', 'ticks_kind', 'dataset_version', 'row_hash'],
  ),
  mainSchedule: table(
    TABLE_NAMES.mainSchedule,
    'day',
    [
      ...S('exchange', 'variety', 'trading_day', 'main_contract'),
      ...L('segment_id'),
      ...S('schedule_hash'),
      ...T('updated_at'),
    ],
    ['ts', 'exchange', 'variety', 'trading_day'],
  ),
  validateSummary: table(
    TABLE_NAMES.validateSummary,
    'day',
    [
      ...S('symbol', 'trading_day', 'cadence_mode'),
      ...L('expected_seconds', 'expected_seconds_strict', 'seconds_with_ticks', 'seconds_with_two_plus'),
      ...D('two_plus_ratio'),
      ...L('observed_segments', 'total_segments', 'missing_day', 'missing_segments', 'missing_seconds'),
      ...D('missing_seconds_ratio'),
      ...L(
        'gap_bucket_2_5',
        'gap_bucket_6_15',
        'gap_bucket_16_30',
        'gap_bucket_gt_30',
        'gap_count_gt_30',
        'missing_half_seconds',
      ),
      ...T('last_tick_ts'),
      ...L('session_end_lag_s', 'max_gap_s'),
      ...D('gap_threshold_s'),
      ...S('schedule_hash'),
      ...T('updated_at'),
    ],
    ['ts', 'symbol', 'trading_day'],
  ),
  validateGaps: table(
    TABLE_NAMES.validateGaps,
    'gap_start',
    [
      ...S('symbol', 'trading_day', 'session'),
      ...T('start_ts', 'end_ts'),
      ...L('duration_s'),
      ...S('tqsdk_status', 'schedule_hash'),
      ...T('updated_at'),
    ],
    ['ts', 'symbol', 'trading_day', 'start_ts'],
  ),
  tickGaps: table(
    TABLE_NAMES.tickGaps,
    'day',
    [
      ...S('symbol', 'trading_day', 'ticks_kind', 'dataset_version'),
      ...L(
        'tick_count_actual',
        'tick_count_expected_min',
        'tick_count_expected_max',
        'median_interval_ms',
        'p95_interval_ms',
        'p99_interval_ms',
        'max_interval_ms',
        'abnormal_gaps_count',
        'critical_gaps_count',
        'largest_gap_duration_ms',
      ),
      ...S('schedule_hash'),
      ...T('updated_at'),
    ],
    DAY_KIND_DEDUP,
  ),
  fieldQuality: table(
    TABLE_NAMES.fieldQuality,
    'day',
    [
      ...S('symbol', 'trading_day', 'ticks_kind', 'dataset_version'),
      ...L('rows_total'),
      ...D(
        'bid_price1_null_rate',
        'ask_price1_null_rate',
        'last_price_null_rate',
        'volume_null_rate',
        'open_interest_null_rate',
        'l5_fields_null_rate',
      ),
      ...L('price_jump_outliers', 'volume_spike_outliers', 'spread_anomaly_outliers'),
      ...FIELD_QUALITY_CHECKS.flatMap((k) => [...L(`${k}_violations`), ...D(`${k}_rate`)]),
      ...T('updated_at'),
    ],
    DAY_KIND_DEDUP,
  ),
  dailyAgg: table(
    TABLE_NAMES.dailyAgg,
    'day',
    [
      ...S('symbol', 'trading_day', 'ticks_kind', 'dataset_version'),
      ...L('rows_total', 'first_datetime_ns', 'last_datetime_ns'),
      ...T('updated_at'),
    ],
    DAY_KIND_DEDUP,
  ),
  features: table(TABLE_NAMES.features, 'tick', FEATURE_PROVENANCE, BUILD_DEDUP, 'one DOUBLE per factor'),
  featureBuilds: table(
    TABLE_NAMES.featureBuilds,
    'build',
    [
      ...S('symbol', 'ticks_kind', 'dataset_version', 'build_id', 'factors_hash'),
      ...STR('factors'),
      ...S('schema_hash', 'schedule_hash', 'row_hash_algo'),
      ...L('rows_total'),
      ...S('first_day', 'last_day'),
    ],
    [],
  ),
  labels: table(
    TABLE_NAMES.labels,
    'tick',
    [...FEATURE_PROVENANCE, ...STR('horizons'), ...L('threshold_k'), ...D('price_tick', 'mid')],
    BUILD_DEDUP,
    'one DOUBLE label_<N> per horizon',
  ),
  labelBuilds: table(
    TABLE_NAMES.labelBuilds,
    'build',
    [
      ...S('symbol', 'ticks_kind', 'dataset_version', 'build_id'),
      ...STR('horizons'),
      ...L('threshold_k'),
      ...D('price_tick'),
      ...S('schedule_hash', 'row_hash_algo'),
      ...L('rows_total'),
      ...S('first_day', 'last_day'),
    ],
    [],
  ),
  fillLabels: table(
    TABLE_NAMES.fillLabels,
    'tick',
    [...FEATURE_PROVENANCE, ...S('side'), ...L('price_level'), ...D('order_price', 'queue_position')],
    ['ts', 'symbol', 'ticks_kind', 'dataset_version', 'build_id', 'side', 'price_level', 'row_hash'],
    'per horizon N: time_to_fill_<N> LONG, fill_prob_<N> DOUBLE',
  ),
  fillLabelBuilds: table(
    TABLE_NAMES.fillLabelBuilds,
    'build',
    [
      ...S('symbol', 'ticks_kind', 'dataset_version', 'build_id'),
      ...STR('horizons', 'price_levels'),
      ...D('price_tick'),
      ...S('schedule_hash'),
      ...L('rows_total'),
      ...S('first_day', 'last_day', 'row_hash_algo'),
    ],
    [],
  ),
  featureRegistry: table(
    TABLE_NAMES.featureRegistry,
    'created',
    [
      ...S('feature_name'),
      ...L('version'),
      ...S('definition_hash'),
      ...STR('input_columns'),
      ...S('output_dtype'),
      ...L('lookback_ticks', 'ttl_seconds'),
      ...T('deprecated_at'),
    ],
    [],
  ),
  mainL5Builds: table(
    TABLE_NAMES.mainL5Builds,
    'build',
    [
      ...S(
        'symbol',
        'build_id',
        'schedule_hash',
        'mode',
        'status',
        'l5_rule',
        'aligned_start',
        'covered_first_day',
        'covered_last_day',
      ),
      ...L('rows_total', 'days_written'),
      ...STR('report_uri'),
    ],
    [],
  ),
});
