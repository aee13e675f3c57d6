/**
 * QuestDB `TickStore` (data-chain §1) over QuestDB's HTTP port: SQL through `/exec`, rows through ILP over HTTP.
 *
 * - `writeDay`: one `(symbol, trading_day)` is one ILP request to the tick table — one transaction for one table
 *   (QuestDB docs, ILP overview, "HTTP transaction semantics") — built in one buffer (`questdb-ilp.ts`), so a day is
 *   fully present or absent. The table's `DEDUP UPSERT KEYS(ts, symbol, ticks_kind, dataset_version, row_hash)` make
 *   the write insert-if-absent: a re-delivered tick replaces an identical row. QuestDB applies the WAL
 *   asynchronously, so the adapter waits for the table's WAL to be applied up to the sequencer transaction seen after
 *   the write (`wal_tables()`: `writerTxn`, `sequencerTxn`, `suspended`) and polls the day's `count()` until it holds
 *   every distinct key sent, within `GHTRADER_HEALTH_WAL_WAIT_S`, sleeping min(2, max(0.5, remaining/2)) s.
 * - Reads decode `/exec` JSON exactly (`questdb-exec.ts`): LONG from its digits, DOUBLE by correctly rounded parsing
 *   of QuestDB's round-trip rendering. QuestDB's LONG null is the bit pattern -2^63, so a `row_hash` or
 *   `datetime_ns` of -2^63 reads back as that value; in `readRows` a LONG/TIMESTAMP of -2^63 and a DOUBLE NaN read as
 *   `null` (QuestDB cannot tell them apart from null).
 * - Row-hash aggregates are computed by QuestDB on 2^32-split values and combined here (`rowHashAggregatesSql`).
 * - `deleteRows`: QuestDB has no row DELETE. Per affected partition the survivors are copied to
 *   `<table>__keep_<token>`, the partition is dropped (`ALTER TABLE … DROP PARTITION LIST`), the survivors are
 *   inserted back and counted, the staging table dropped (§1.4). That races with every other writer of the table,
 *   so it runs only after `rewriteGuard(table)` resolved — the caller's proof that it holds every writer lock of the
 *   table (§10.3); the default guard refuses. Gap rows of validation are never rewritten: `deleteRows` on
 *   `ghtrader_main_l5_validate_gaps_v2` (and `supersedeGapRows`) marks them `tqsdk_status = 'superseded'` with a
 *   WAL-sequenced UPDATE, and every read of that table ignores superseded rows.
 * - The SQL explorer (`readOnlyQuery`, `catalog`; control-chain §8) compiles each statement wrapped as a subquery
 *   with `EXPLAIN` first (QuestDB's own parser: only a query parses there), then runs it with a row cap and abandons
 *   it at its timeout; production points `explorerHttpUrl` at a read-only identity.
 * - Writers never issue DDL: every write first checks the real columns (`table_columns('<t>')`) and the UPSERT KEYS
 *   against the declaration and refuses a row naming a column the table lacks (ILP would otherwise add it, and an
 *   added column also breaks the one-request-one-transaction rule: ILP overview docs).
 *
 * Server requirements: QuestDB ≥ 7.3 (DEDUP UPSERT KEYS, `tables().table_name`, `table_columns().upsertKey`); the
 * active partition can be dropped since 6.6 (questdb/questdb#2606); ILP protocol 2 (binary doubles) is used when
 * `/settings` lists it (QuestDB 9), text doubles otherwise. Not run against a server here — the contract suite
 * (tests/integration/tickstore/questdb.test.ts) does, when `GHTRADER_QUESTDB_HTTP` is set.
 */
import { ulid } from 'ulid';
import { TABLE_NAMES, type TableDef, TICK_NUMERIC_COLUMNS } from '../../domain/data/tick-columns.ts';
import {
  assertBatchShape,
  assertIdentifier,
  assertQueryOptions,
  assertTradingDay,
  type CatalogTable,
  type CellValue,
  type ColumnInfo,
  checkColumns,
  type DayCount,
  type DayProvenance,
  type DayRowHashAggregates,
  type DeleteScope,
  type QueryColumn,
  queryFailedError,
  type ReadOnlyQueryOptions,
  type ReadOnlyQueryResult,
  type Row,
  type RowFilter,
  SchemaContractError,
  type TickDayBatch,
  type TickDayRows,
  type TickDayValues,
  type TickStore,
  type TickStoreDialect,
  TickStoreInputError,
  TickStoreVerifyError,
  tableDef,
  type WriteDayResult,
} from '../../domain/data/tick-store.ts';
import { QueryNotAllowedError, QueryTimeoutError } from '../../errors/control.ts';
import { DataChainError } from '../../errors/data.ts';
import { decodeExecResponse, type ExecRows, execColumn, LONG_NULL, QuestDbQueryError } from './questdb-exec.ts';
import { QuestDbHttp, QuestDbHttpError, QuestDbTransportError } from './questdb-http.ts';
import {
  countDistinctTickKeys,
  encodeRowsIlp,
  encodeTickDayIlp,
  type IlpVersion,
  truncateToMicros,
} from './questdb-ilp.ts';
import {
  type Clock,
  combineRowHashAggregates,
  dayWriteOutcome,
  deleteScopeConditions,
  explorerWrappedSql,
  LIVE_GAP_ROWS,
  liveRowConditions,
  type Partition,
  type PartitionUnit,
  parseTablePartitionBy,
  partitionRewriteSql,
  partitionsOf,
  pollUntil,
  QUESTDB_STRING_TYPES,
  QUESTDB_TYPES,
  type QuestDbSettings,
  questDbDialect,
  questDbSettingsFromEnv,
  rewriteLocksFor,
  rowFilterConditions,
  rowHashAggregatesSql,
  sqlDay,
  sqlDayList,
  sqlString,
  systemClock,
} from './questdb-sql.ts';

export interface QuestDbTickStoreOptions {
  /** QuestDB's HTTP endpoint, e.g. `http://127.0.0.1:9000`. */
  httpUrl: string;
  /** `GHTRADER_QDB_TICKS_PARTITION_BY`, `GHTRADER_HEALTH_WAL_WAIT_S`, `GHTRADER_QDB_ILP_RETRY_MAX`; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
  /**
   * Resolves only when the caller holds the write locks of every writer of `table` (§10.3), with the function that
   * gives back what it took for the rewrite; required before any partition rewrite (`deleteRows`), and called again
   * (release) when the rewrite ends. The default refuses with `questdb_rewrite_refused`.
   */
  rewriteGuard?: RewriteGuard;
  /** Overrides `GHTRADER_HEALTH_WAL_WAIT_S` (seconds, >= 1). */
  walWaitS?: number;
  /** ILP protocol: 2 = binary doubles (QuestDB 9+), 1 = text; 'auto' (default) asks `/settings` once. */
  ilpProtocolVersion?: IlpVersion | 'auto';
  /** Staging-table suffix of a partition rewrite (`<table>__keep_<token>`); default a ULID (the spec uses the job id). */
  stagingToken?: () => string;
  /** Test seam: runs right before an ILP request is sent; a throw fails the write with nothing sent. */
  beforeIlpRequest?: (info: {
    table: string;
    rows: number;
    symbol?: string;
    tradingDay?: string;
  }) => void | Promise<void>;
  /** Test seam for the WAL poll and retry backoff. */
  clock?: Clock;
  /**
   * QuestDB HTTP endpoint of the SQL explorer (`readOnlyQuery`, `catalog`); default `httpUrl`. Production points it
   * at a read-only identity (control-chain §8 asks for a dedicated read-only user): a QuestDB whose HTTP server runs
   * with `http.security.readonly=true` (a replica), or Enterprise's HTTP basic auth as a user granted SELECT only —
   * `http://user:password@host:9000` (the credentials are sent as an `Authorization: Basic` header).
   */
  explorerHttpUrl?: string;
}

/** Proof that a partition rewrite of `table` (rows in `scope`) may run; resolves with the release of what it took. */
export type RewriteGuard = (table: string, scope: DeleteScope) => Promise<() => Promise<void>>;

/** Default `rewriteGuard`: a partition rewrite without proof of the writer locks is refused (§1.4, §10.3). */
export function refuseRewrite(table: string): Promise<() => Promise<void>> {
  return Promise.reject(
    new DataChainError(
      'questdb_rewrite_refused',
      `refusing to rewrite partitions of ${table} on QuestDB: a row delete there copies, drops and re-inserts whole ` +
        `partitions and races with every other writer, so the caller must hold ${rewriteLocksFor(table)} of the table ` +
        'and pass a rewriteGuard that proves it',
      { details: { table, locks: rewriteLocksFor(table) } },
    ),
  );
}

export async function openQuestDbTickStore(options: QuestDbTickStoreOptions): Promise<QuestDbTickStore> {
  return new QuestDbTickStore(options);
}

interface RealColumn {
  readonly name: string;
  readonly type: string;
  readonly upsertKey: boolean;
}

interface WalState {
  readonly writerTxn: bigint;
  readonly sequencerTxn: bigint;
  readonly suspended: boolean;
}

const TICK_READ_COLUMNS = [
  'datetime_ns',
  'row_hash',
  ...TICK_NUMERIC_COLUMNS,
  'underlying_contract',
  'segment_id',
  'schedule_hash',
] as const;

export class QuestDbTickStore implements TickStore {
  readonly kind = 'questdb' as const;
  readonly storeId: string;
  readonly dialect: TickStoreDialect;
  readonly settings: QuestDbSettings;
  private readonly http: QuestDbHttp;
  private readonly clock: Clock;
  private readonly guard: RewriteGuard;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private protocol: Promise<IlpVersion> | undefined;

  constructor(private readonly options: QuestDbTickStoreOptions) {
    const fromEnv = questDbSettingsFromEnv(options.env ?? process.env);
    if (options.walWaitS !== undefined && !(Number.isFinite(options.walWaitS) && options.walWaitS >= 1)) {
      throw new TickStoreInputError(`walWaitS must be a number of seconds >= 1, got ${options.walWaitS}`);
    }
    this.settings = { ...fromEnv, walWaitS: options.walWaitS ?? fromEnv.walWaitS };
    this.clock = options.clock ?? systemClock;
    this.http = new QuestDbHttp({
      baseUrl: options.httpUrl,
      retryMax: this.settings.ilpRetryMax,
      clock: this.clock,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    const url = new URL(options.httpUrl);
    this.storeId = `questdb:${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
    this.dialect = questDbDialect(this.settings.ticksPartitionBy);
    this.guard = options.rewriteGuard ?? refuseRewrite;
  }

  /** Mutations run one at a time: a day's before/after counts must not interleave with another write of this store. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new TickStoreInputError('store is closed'));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private open(): void {
    if (this.closed) throw new TickStoreInputError('store is closed');
  }

  // ---------------------------------------------------------------- DDL and schema

  executeDdl(statements: readonly string[]): Promise<void> {
    return this.exclusive(async () => {
      for (const sql of statements) await this.http.exec(sql);
    });
  }

  createTable(table: TableDef): Promise<void> {
    return this.executeDdl(this.dialect.createTable(table));
  }

  /** `tables()` row of one table (QuestDB ≥ 7.3 names the column `table_name`), or null when it does not exist. */
  private async tableInfo(table: string): Promise<{ partitionBy: string | null; walEnabled: unknown } | null> {
    const res = await this.http.query(
      `SELECT table_name, partitionBy, walEnabled FROM tables() WHERE table_name = ${sqlString(assertIdentifier(table))}`,
    );
    if (res.rowCount === 0) return null;
    const walEnabled = res.columns.find((c) => c.name === 'walEnabled')?.values[0];
    return { partitionBy: execColumn(res, 'partitionBy', 'string')[0] ?? null, walEnabled };
  }

  /** Real columns in declaration order (`table_columns('<t>')`, docs: functions/meta); empty when the table is absent. */
  private async realColumns(table: string): Promise<RealColumn[]> {
    if ((await this.tableInfo(table)) === null) return [];
    const res = await this.http.query(
      `SELECT "column", type, upsertKey FROM table_columns(${sqlString(assertIdentifier(table))})`,
    );
    const names = execColumn(res, 'column', 'string');
    const types = execColumn(res, 'type', 'string');
    const keys = res.columns.find((c) => c.name === 'upsertKey')?.values ?? [];
    return names.map((name, i) => ({ name: name ?? '', type: types[i] ?? '', upsertKey: keys[i] === true }));
  }

  async describeColumns(table: string): Promise<ColumnInfo[]> {
    this.open();
    return (await this.realColumns(table)).map((c) => ({ name: c.name, storeType: c.type }));
  }

  /** Names and types against the declaration; VARCHAR satisfies a declared STRING. */
  private checkDeclared(def: TableDef, real: readonly RealColumn[]): void {
    const declared = new Map(def.columns.map((c) => [c.name, c.type]));
    const normalized = real.map((c) => ({
      name: c.name,
      storeType:
        declared.get(c.name) === 'STRING' && QUESTDB_STRING_TYPES.includes(c.type.toUpperCase()) ? 'STRING' : c.type,
    }));
    checkColumns(def, normalized, QUESTDB_TYPES);
  }

  /**
   * Before every write: columns and types, and the UPSERT KEYS migration `0001` sets — a write into a table whose
   * keys differ would duplicate rows (or collapse distinct ones) instead of inserting if absent.
   */
  private async assertDeclared(def: TableDef): Promise<RealColumn[]> {
    const real = await this.realColumns(def.name);
    this.checkDeclared(def, real);
    const found = real.filter((c) => c.upsertKey).map((c) => c.name);
    const want = [...def.dedupKeys];
    const same = found.length === want.length && want.every((k) => found.includes(k));
    if (!same) {
      throw new SchemaContractError(
        def.name,
        [],
        [`DEDUP UPSERT KEYS (${found.join(', ') || 'none'}), expected (${want.join(', ') || 'none'})`],
      );
    }
    return real;
  }

  /** §1.5: the real columns' names and types against the declaration (VARCHAR satisfies STRING). */
  async assertRequiredColumns(table: TableDef): Promise<void> {
    this.open();
    this.checkDeclared(table, await this.realColumns(table.name));
  }

  // ---------------------------------------------------------------- WAL

  private async walState(table: string): Promise<WalState | null> {
    const res = await this.http.query(
      `SELECT writerTxn, sequencerTxn, suspended FROM wal_tables() WHERE name = ${sqlString(assertIdentifier(table))}`,
    );
    if (res.rowCount === 0) return null;
    const suspended = res.columns.find((c) => c.name === 'suspended')?.values[0];
    return {
      writerTxn: execColumn(res, 'writerTxn', 'long')[0] as bigint,
      sequencerTxn: execColumn(res, 'sequencerTxn', 'long')[0] as bigint,
      suspended: suspended === true,
    };
  }

  private suspendedError(table: string, st: WalState): TickStoreVerifyError {
    return new TickStoreVerifyError(
      `WAL apply of ${table} is suspended at writerTxn ${st.writerTxn} (sequencerTxn ${st.sequencerTxn}); fix the cause ` +
        `in the QuestDB log, then ALTER TABLE ${table} RESUME WAL`,
      { table, writer_txn: String(st.writerTxn), sequencer_txn: String(st.sequencerTxn) },
    );
  }

  /** Wait until QuestDB applied every WAL transaction of `table` committed so far (the contract suite's `settle`). */
  async waitForWal(table: string): Promise<void> {
    this.open();
    const first = await this.walState(table);
    if (first === null) return;
    await this.waitForTxn(table, first.sequencerTxn);
  }

  private async waitForTxn(table: string, target: bigint): Promise<void> {
    let last: WalState | null = null;
    const done = await pollUntil(
      async () => {
        const st = await this.walState(table);
        if (st === null) return true;
        last = st;
        if (st.writerTxn >= target) return true;
        if (st.suspended) throw this.suspendedError(table, st);
        return undefined;
      },
      this.settings.walWaitS,
      this.clock,
    );
    if (done === undefined) {
      const st = last as WalState | null;
      throw new TickStoreVerifyError(
        `QuestDB did not apply the WAL of ${table} up to txn ${target} within ${this.settings.walWaitS}s ` +
          `(writerTxn ${st?.writerTxn ?? '?'}); raise GHTRADER_HEALTH_WAL_WAIT_S or check the server`,
        { table, target_txn: String(target) },
      );
    }
  }

  // ---------------------------------------------------------------- writes

  private ilpVersion(): Promise<IlpVersion> {
    const fixed = this.options.ilpProtocolVersion ?? 'auto';
    if (fixed !== 'auto') return Promise.resolve(fixed);
    this.protocol ??= this.http.settings().then(
      (config) => {
        // Same source the official client reads (`line.proto.support.versions`); no /settings → a pre-v2 server.
        const versions = config?.['line.proto.support.versions'];
        return Array.isArray(versions) && versions.map(String).includes('2') ? 2 : 1;
      },
      (err: unknown) => {
        this.protocol = undefined;
        throw err;
      },
    );
    return this.protocol;
  }

  private async countDay(table: string, symbol: string, tradingDay: string, rows: TickDayBatch): Promise<number> {
    const res = await this.http.query(
      `SELECT count() n FROM ${table} WHERE symbol = ${sqlString(symbol)} AND trading_day = ${sqlDay(tradingDay)} ` +
        `AND ticks_kind = ${sqlString(rows.ticksKind)} AND dataset_version = ${sqlString(rows.datasetVersion)}`,
    );
    return Number(execColumn(res, 'n', 'long')[0] ?? 0n);
  }

  async writeDay(table: string, symbol: string, tradingDay: string, rows: TickDayBatch): Promise<WriteDayResult> {
    const def = tableDef(table);
    if (def.ts !== 'tick' || !def.columns.some((c) => c.name === 'underlying_contract')) {
      throw new TickStoreInputError(`writeDay supports the tick table only, not ${table}`, { table });
    }
    const n = assertBatchShape(symbol, tradingDay, rows);
    return this.exclusive(async () => {
      await this.assertDeclared(def);
      const tsUs = truncateToMicros(rows.datetimeNs);
      const distinctKeys = countDistinctTickKeys(tsUs, rows.rowHash);
      const body =
        n === 0
          ? null
          : encodeTickDayIlp({ table: def.name, symbol, tradingDay, batch: rows, tsUs }, await this.ilpVersion());
      // Earlier writes applied first, so `before` is the day as it stands.
      const settled = await this.walState(def.name);
      if (settled !== null) await this.waitForTxn(def.name, settled.sequencerTxn);
      const before = await this.countDay(def.name, symbol, tradingDay, rows);
      if (body === null) {
        return { table, symbol, tradingDay, rowsSent: 0, distinctKeys: 0, inserted: 0, dayRows: before };
      }
      await this.options.beforeIlpRequest?.({ table: def.name, rows: n, symbol, tradingDay });
      await this.http.write(body);
      const target = (await this.walState(def.name))?.sequencerTxn;
      let after = before;
      const done = await pollUntil(
        async () => {
          if (target !== undefined) {
            const st = await this.walState(def.name);
            if (st !== null && st.writerTxn < target) {
              if (st.suspended) throw this.suspendedError(def.name, st);
              return undefined;
            }
          }
          after = await this.countDay(def.name, symbol, tradingDay, rows);
          return after >= distinctKeys && after >= before ? after : undefined;
        },
        this.settings.walWaitS,
        this.clock,
      );
      if (done === undefined) {
        throw new TickStoreVerifyError(
          `day holds ${after} rows after waiting ${this.settings.walWaitS}s for QuestDB to apply the write ` +
            `(${distinctKeys} distinct keys sent, ${before} rows before)`,
          { table, symbol, trading_day: tradingDay },
        );
      }
      const inserted = dayWriteOutcome(before, after, distinctKeys, { table, symbol, trading_day: tradingDay });
      return { table, symbol, tradingDay, rowsSent: n, distinctKeys, inserted, dayRows: after };
    });
  }

  async writeRows(table: string, rows: readonly Row[]): Promise<number> {
    const def = tableDef(table);
    return this.exclusive(async () => {
      const real = await this.assertDeclared(def);
      if (rows.length === 0) return 0;
      const realNames = new Set(real.map((c) => c.name));
      rows.forEach((row, r) => {
        for (const c of def.columns) {
          if (row[c.name] === undefined) {
            throw new TickStoreInputError(`row ${r} lacks column ${c.name} (use null for a missing value)`, {
              table,
              row: r,
              column: c.name,
            });
          }
        }
        for (const k of Object.keys(row)) {
          if (!realNames.has(k)) {
            throw new TickStoreInputError(
              `row ${r} has column ${k}, which ${table} does not have; writers never add columns (ghtrader data migrate --apply)`,
              { table, row: r, column: k },
            );
          }
        }
      });
      const body = encodeRowsIlp(def.name, real, lastPerKey(def, rows), await this.ilpVersion());
      await this.options.beforeIlpRequest?.({ table: def.name, rows: rows.length });
      await this.http.write(body);
      await this.waitForWal(def.name);
      return rows.length;
    });
  }

  // ---------------------------------------------------------------- reads

  async readRows(table: string, filter: RowFilter, opts: { readonly limit?: number } = {}): Promise<Row[]> {
    this.open();
    const def = tableDef(table);
    const where = rowFilterConditions(def, filter);
    if (where === null || opts.limit === 0) return [];
    if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit > 0)) {
      throw new TickStoreInputError(`limit must be a positive integer, got ${opts.limit}`);
    }
    const real = await this.realColumns(def.name);
    this.checkDeclared(def, real);
    const select = real
      .map((c) =>
        c.type.toUpperCase() === 'TIMESTAMP'
          ? `cast(${assertIdentifier(c.name)} AS LONG) ${c.name}`
          : assertIdentifier(c.name),
      )
      .join(', ');
    const res = await this.http.query(
      `SELECT ${select} FROM ${def.name}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ts` +
        (opts.limit === undefined ? '' : ` LIMIT ${opts.limit}`),
    );
    const out: Row[] = [];
    for (let r = 0; r < res.rowCount; r++) {
      const row: Record<string, CellValue> = {};
      for (const c of res.columns) row[c.name] = cellOf(c, r);
      out.push(row);
    }
    // `ts` decides the order; ties by trading_day as a string (QuestDB orders symbols by their own rules).
    const key = (row: Row) => (typeof row.trading_day === 'string' ? row.trading_day : '');
    return out
      .map((row, i) => ({ row, i }))
      .sort((a, b) => {
        const ta = a.row.ts as bigint | null;
        const tb = b.row.ts as bigint | null;
        if (ta !== tb && ta !== null && tb !== null) return ta < tb ? -1 : 1;
        const da = key(a.row);
        const db = key(b.row);
        return da < db ? -1 : da > db ? 1 : a.i - b.i;
      })
      .map((x) => x.row);
  }

  /**
   * QuestDB returns the provenance columns cheaply enough; the values are the same read. The optional read buffers of
   * the port are not used: `/exec` answers JSON, decoded into fresh arrays.
   */
  async readTickValues(table: string, symbol: string, tradingDay: string): Promise<TickDayValues> {
    const { datetimeNs, rowHash, values } = await this.readTickDay(table, symbol, tradingDay);
    return { datetimeNs, rowHash, values };
  }

  async readTickDay(table: string, symbol: string, tradingDay: string): Promise<TickDayRows> {
    this.open();
    const def = tableDef(table);
    const res = await this.http.query(
      `SELECT ${TICK_READ_COLUMNS.join(', ')} FROM ${def.name} WHERE symbol = ${sqlString(symbol)} ` +
        `AND trading_day = ${sqlDay(tradingDay)} ORDER BY datetime_ns, row_hash`,
    );
    const datetimeNs = execColumn(res, 'datetime_ns', 'long');
    const rowHash = execColumn(res, 'row_hash', 'long');
    const values = TICK_NUMERIC_COLUMNS.map((c) => execColumn(res, c, 'double'));
    const underlying = execColumn(res, 'underlying_contract', 'string');
    const segment = execColumn(res, 'segment_id', 'long');
    const schedule = execColumn(res, 'schedule_hash', 'string');
    const n = res.rowCount;
    // QuestDB's order of LONG is signed with null (= -2^63) first: the same as (datetime_ns, row_hash) here.
    for (let i = 1; i < n; i++) {
      const a = datetimeNs[i - 1] as bigint;
      const b = datetimeNs[i] as bigint;
      if (b < a || (a === b && (rowHash[i] as bigint) < (rowHash[i - 1] as bigint))) {
        throw new QuestDbQueryError(`rows of ${table} ${symbol} ${tradingDay} came back out of order at row ${i}`);
      }
    }
    const segmentId = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const s = segment[i] as bigint;
      segmentId[i] = s === LONG_NULL ? -1n : s;
    }
    return {
      datetimeNs,
      rowHash,
      values,
      underlyingContract: underlying.map((u) => u ?? ''),
      segmentId,
      scheduleHash: schedule.map((h) => h ?? ''),
    };
  }

  private symbolDays(symbol: string, tradingDays: readonly string[] | undefined, table: string): string[] | null {
    const where = [`symbol = ${sqlString(symbol)}`, ...liveRowConditions(table)];
    if (tradingDays !== undefined) {
      if (tradingDays.length === 0) return null;
      where.push(`trading_day IN (${sqlDayList(tradingDays)})`);
    }
    return where;
  }

  async dayProvenance(table: string, symbol: string): Promise<DayProvenance[]> {
    this.open();
    const def = tableDef(table);
    const res = await this.http.query(
      `SELECT trading_day, schedule_hash, count() n, min(datetime_ns) lo, max(datetime_ns) hi FROM ${def.name} ` +
        `WHERE symbol = ${sqlString(symbol)} GROUP BY trading_day, schedule_hash`,
    );
    const days = execColumn(res, 'trading_day', 'string');
    const hashes = execColumn(res, 'schedule_hash', 'string');
    const counts = execColumn(res, 'n', 'long');
    const lo = execColumn(res, 'lo', 'long');
    const hi = execColumn(res, 'hi', 'long');
    const byDay = new Map<
      string,
      { rows: number; hashes: Set<string>; without: number; first: bigint | null; last: bigint | null }
    >();
    for (let i = 0; i < res.rowCount; i++) {
      const day = days[i] ?? '';
      const acc = byDay.get(day) ?? { rows: 0, hashes: new Set(), without: 0, first: null, last: null };
      const n = Number(counts[i] as bigint);
      const h = hashes[i] ?? null;
      acc.rows += n;
      if (h === null || h === '') acc.without += n;
      else acc.hashes.add(h);
      const l = lo[i] as bigint;
      const u = hi[i] as bigint;
      if (l !== LONG_NULL && (acc.first === null || l < acc.first)) acc.first = l;
      if (u !== LONG_NULL && (acc.last === null || u > acc.last)) acc.last = u;
      byDay.set(day, acc);
    }
    return [...byDay.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([day, acc]) => {
        if (acc.first === null || acc.last === null) {
          throw new TickStoreVerifyError(`${table} ${symbol} ${day} has rows without datetime_ns`, {
            table,
            symbol,
            trading_day: day,
          });
        }
        return {
          trading_day: day,
          rows: acc.rows,
          schedule_hashes: [...acc.hashes].sort(),
          rows_without_hash: acc.without,
          first_datetime_ns: acc.first,
          last_datetime_ns: acc.last,
        };
      });
  }

  async countByDay(table: string, symbol: string, tradingDays?: readonly string[]): Promise<DayCount[]> {
    this.open();
    const def = tableDef(table);
    const where = this.symbolDays(symbol, tradingDays, def.name);
    if (where === null) return [];
    const res = await this.http.query(
      `SELECT trading_day, count() n FROM ${def.name} WHERE ${where.join(' AND ')} GROUP BY trading_day ORDER BY trading_day`,
    );
    const days = execColumn(res, 'trading_day', 'string');
    const counts = execColumn(res, 'n', 'long');
    return days
      .map((d, i) => ({ trading_day: d ?? '', rows: Number(counts[i] as bigint) }))
      .sort((a, b) => (a.trading_day < b.trading_day ? -1 : a.trading_day > b.trading_day ? 1 : 0));
  }

  async rowHashAggregatesByDay(
    table: string,
    symbol: string,
    tradingDays?: readonly string[],
  ): Promise<DayRowHashAggregates[]> {
    this.open();
    const def = tableDef(table);
    const where = this.symbolDays(symbol, tradingDays, def.name);
    if (where === null) return [];
    const res = await this.http.query(rowHashAggregatesSql(def.name, where.join(' AND ')));
    const days = execColumn(res, 'trading_day', 'string');
    const col = (name: string) => execColumn(res, name, 'long');
    const [n, nn, mn, mx, hi, lo, ahi, alo] = ['n', 'nn', 'mn', 'mx', 'hi', 'lo', 'ahi', 'alo'].map(col) as [
      BigInt64Array,
      BigInt64Array,
      BigInt64Array,
      BigInt64Array,
      BigInt64Array,
      BigInt64Array,
      BigInt64Array,
      BigInt64Array,
    ];
    const nullable = (a: BigInt64Array, i: number) => {
      const v = a[i] as bigint;
      return v === LONG_NULL ? null : v;
    };
    return days
      .map((d, i) => ({
        trading_day: d ?? '',
        ...combineRowHashAggregates({
          n: n[i] as bigint,
          nn: nn[i] as bigint,
          mn: nullable(mn, i),
          mx: nullable(mx, i),
          hi: nullable(hi, i),
          lo: nullable(lo, i),
          ahi: nullable(ahi, i),
          alo: nullable(alo, i),
        }),
      }))
      .sort((a, b) => (a.trading_day < b.trading_day ? -1 : a.trading_day > b.trading_day ? 1 : 0));
  }

  // ---------------------------------------------------------------- deletes

  async deleteRows(table: string, scope: DeleteScope): Promise<number> {
    const def = tableDef(table);
    const where = deleteScopeConditions(def, scope);
    if (def.name === TABLE_NAMES.validateGaps) {
      return this.exclusive(() => this.supersede(where.join(' AND ')));
    }
    const release = await this.guard(def.name, scope);
    try {
      return await this.exclusive(() => this.rewrite(def, where.join(' AND ')));
    } finally {
      await release();
    }
  }

  /**
   * §1.4: retire a validation run's gap rows with a WAL-sequenced UPDATE (readers ignore `superseded`). Returns the
   * rows that were live before. Same as `deleteRows(ghtrader_main_l5_validate_gaps_v2, {symbol, tradingDays})`.
   */
  supersedeGapRows(symbol: string, days: readonly string[]): Promise<number> {
    if (days.length === 0) return Promise.reject(new TickStoreInputError('tradingDays must be non-empty'));
    const scope = `symbol = ${sqlString(symbol)} AND trading_day IN (${sqlDayList(days.map(assertTradingDay))})`;
    return this.exclusive(() => this.supersede(scope));
  }

  private async countWhere(table: string, where?: string): Promise<number> {
    const res = await this.http.query(`SELECT count() n FROM ${table}${where === undefined ? '' : ` WHERE ${where}`}`);
    return Number(execColumn(res, 'n', 'long')[0] ?? 0n);
  }

  private async supersede(scope: string): Promise<number> {
    const t = TABLE_NAMES.validateGaps;
    const live = `${scope} AND ${LIVE_GAP_ROWS}`;
    await this.waitForWal(t);
    const n = await this.countWhere(t, live);
    if (n === 0) return 0;
    await this.http.exec(`UPDATE ${t} SET tqsdk_status = 'superseded' WHERE ${live}`);
    await this.waitForWal(t);
    const left = await this.countWhere(t, live);
    if (left !== 0) {
      throw new TickStoreVerifyError(`${left} of ${n} gap rows are still live after the superseding UPDATE`, {
        table: t,
      });
    }
    return n;
  }

  private async rewrite(def: TableDef, scope: string): Promise<number> {
    const info = await this.tableInfo(def.name);
    if (info === null) throw new TickStoreInputError(`table ${def.name} does not exist`, { table: def.name });
    const unit = parseTablePartitionBy(def.name, info.partitionBy);
    await this.waitForWal(def.name);
    const res = await this.http.query(
      `SELECT cast(timestamp_floor('d', ts) AS LONG) d, count() n FROM ${def.name} WHERE ${scope}`,
    );
    const days = [...execColumn(res, 'd', 'long')];
    if (days.length === 0) return 0;
    const staging = assertIdentifier(`${def.name}__keep_${(this.options.stagingToken ?? ulid)()}`);
    let removed = 0;
    for (const p of partitionsOf(days, unit)) removed += await this.rewritePartition(def.name, staging, p, scope, unit);
    return removed;
  }

  /** One partition of §1.4; every step is counted, and a failure after the drop keeps the staging table. */
  private async rewritePartition(
    table: string,
    staging: string,
    p: Partition,
    scope: string,
    unit: PartitionUnit,
  ): Promise<number> {
    const sql = partitionRewriteSql(table, staging, p, scope, unit);
    const total = await this.countWhere(table, sql.inPartition);
    const matched = await this.countWhere(table, `${sql.inPartition} AND ${scope}`);
    const survivors = total - matched;
    if (matched === 0) return 0;
    if (survivors > 0) {
      await this.http.exec(sql.copy);
      const staged = await this.countWhere(staging);
      if (staged !== survivors) {
        await this.http.exec(sql.dropStaging);
        throw new TickStoreVerifyError(
          `staging ${staging} holds ${staged} rows, expected ${survivors} survivors of partition ${p.name}; nothing was dropped`,
          { table, partition: p.name },
        );
      }
    }
    await this.http.exec(sql.drop);
    if (survivors > 0) await this.http.exec(sql.reinsert);
    await this.waitForWal(table);
    const now = await this.countWhere(table, sql.inPartition);
    const left = await this.countWhere(table, `${sql.inPartition} AND ${scope}`);
    if (now !== survivors || left !== 0) {
      throw new TickStoreVerifyError(
        `partition ${p.name} of ${table} holds ${now} rows (${left} in the delete scope) after the rewrite, expected ` +
          `${survivors} survivors${survivors > 0 ? `; the survivors are kept in ${staging}` : ''}`,
        { table, partition: p.name, staging: survivors > 0 ? staging : null },
      );
    }
    if (survivors > 0) await this.http.exec(sql.dropStaging);
    return matched;
  }

  // ---------------------------------------------------------------- SQL explorer (control-chain §8)

  /** One `/exec` call of the explorer, cancelled through `signal`; an error answer throws `QuestDbQueryError`. */
  private async explorerExec(sql: string, signal: AbortSignal, limit?: number): Promise<ExecRows> {
    const url = new URL(this.options.explorerHttpUrl ?? this.options.httpUrl);
    const headers: Record<string, string> = {};
    if (url.username !== '' || url.password !== '') {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    }
    const query = `query=${encodeURIComponent(sql)}&quoteLargeNum=true${limit === undefined ? '' : `&limit=${limit}`}`;
    let status: number;
    let body: string;
    try {
      const res = await (this.options.fetch ?? globalThis.fetch)(`${url.protocol}//${url.host}/exec?${query}`, {
        method: 'GET',
        headers,
        signal,
      });
      status = res.status;
      body = await res.text();
    } catch (err) {
      if (signal.aborted) throw err;
      throw new QuestDbTransportError('explorer query', 1, err);
    }
    if (status !== 200) {
      // Errors come back as {"query","error","position"} (REST API docs): the server's own message when it sent one.
      try {
        decodeExecResponse(body);
      } catch (err) {
        if (err instanceof QuestDbQueryError && err.details.error !== undefined) throw err;
      }
      throw new QuestDbHttpError('explorer query', status, body);
    }
    const res = decodeExecResponse(body);
    if (res.kind !== 'rows') throw new QueryNotAllowedError('not_a_select', 'the statement is not a query');
    return res;
  }

  /**
   * The SQL explorer's guarded read over `/exec` (control-chain §8 "Explorer guard"). QuestDB has no read-only
   * transaction, so the guard is QuestDB's own compiler: the statement, wrapped as a subquery
   * (`explorerWrappedSql`: only a query parses there), must pass `EXPLAIN` (compiled, never executed) before it runs;
   * a refusal is `QueryNotAllowedError`. It then runs with `limit=maxRows+1` and is abandoned at `timeoutMs` (the
   * aborted request closes its connection, which QuestDB's HTTP circuit breaker notices and cancels the query).
   * Production points `explorerHttpUrl` at a read-only identity (see the option); this check is not a substitute.
   */
  async readOnlyQuery(sql: string, opts: ReadOnlyQueryOptions): Promise<ReadOnlyQueryResult> {
    assertQueryOptions(opts);
    this.open();
    const started = performance.now();
    const wrapped = explorerWrappedSql(sql);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), opts.timeoutMs);
    try {
      try {
        await this.explorerExec(`EXPLAIN ${wrapped}`, abort.signal);
      } catch (err) {
        if (abort.signal.aborted) throw new QueryTimeoutError(opts.timeoutMs);
        if (err instanceof QuestDbQueryError || (err instanceof QuestDbHttpError && err.status === 400)) {
          throw new QueryNotAllowedError('rejected_by_engine', `QuestDB refused the statement: ${err.message}`, {
            engine_message: err.message.slice(0, 2000),
          });
        }
        throw err;
      }
      let res: ExecRows;
      try {
        res = await this.explorerExec(wrapped, abort.signal, opts.maxRows + 1);
      } catch (err) {
        if (abort.signal.aborted) throw new QueryTimeoutError(opts.timeoutMs);
        if (err instanceof QuestDbQueryError) throw queryFailedError(err.message);
        throw err;
      }
      const truncated = res.rowCount > opts.maxRows;
      const n = Math.min(res.rowCount, opts.maxRows);
      const rows: unknown[][] = [];
      for (let r = 0; r < n; r++) rows.push(res.columns.map((c) => explorerExecCell(c, r)));
      return {
        columns: res.columns.map((c): QueryColumn => ({ name: c.name, type: c.type })),
        rows,
        row_count: n,
        truncated,
        elapsed_ms: Math.round(performance.now() - started),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every table of the server (`tables()`) with its columns (`table_columns()`), by name. */
  async catalog(): Promise<CatalogTable[]> {
    this.open();
    const listed = await this.http.query('SELECT table_name FROM tables() ORDER BY table_name');
    const out: CatalogTable[] = [];
    for (const name of execColumn(listed, 'table_name', 'string')) {
      if (name === null) continue;
      const cols = await this.http.query(`SELECT "column", type FROM table_columns(${sqlString(name)})`);
      const types = execColumn(cols, 'type', 'string');
      out.push({
        name,
        kind: 'table',
        columns: execColumn(cols, 'column', 'string').map((c, i) => ({ name: c ?? '', type: types[i] ?? '' })),
      });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
  }
}

/**
 * Rows sharing a dedup key inside one batch collapse to the last one before sending (upsert semantics of §1.3, the
 * same as a later write replacing an earlier one), so the outcome never depends on how QuestDB orders duplicates
 * within one transaction. Tables without keys keep every row.
 */
export function lastPerKey(def: TableDef, rows: readonly Row[]): readonly Row[] {
  if (def.dedupKeys.length === 0 || rows.length < 2) return rows;
  const key = (row: Row) =>
    def.dedupKeys
      .map((k) => {
        const v = row[k];
        return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v ?? null);
      })
      .join('\u0000');
  const last = new Map<string, number>();
  rows.forEach((row, i) => {
    last.set(key(row), i);
  });
  return rows.filter((row, i) => last.get(key(row)) === i);
}

/** One `readRows` cell typed by its QuestDB column (TIMESTAMP columns were selected as LONG µs). */
function cellOf(c: ExecRows['columns'][number], r: number): CellValue {
  switch (c.kind) {
    case 'string':
      return c.values[r] ?? null;
    case 'long': {
      const v = c.values[r] as bigint;
      return v === LONG_NULL ? null : v;
    }
    case 'double': {
      const v = c.values[r] as number;
      return Number.isNaN(v) ? null : v;
    }
    default:
      throw new QuestDbQueryError(`column ${c.name} has type ${c.type}, which readRows cannot type`, {
        column: c.name,
        type: c.type,
      });
  }
}

/** One explorer cell of an `/exec` row set, JSON-safe (see `ReadOnlyQueryResult`): QuestDB's null bit patterns read as null. */
function explorerExecCell(c: ExecRows['columns'][number], r: number): unknown {
  switch (c.kind) {
    case 'long': {
      const v = c.values[r] as bigint;
      return v === LONG_NULL ? null : v.toString();
    }
    case 'double': {
      const v = c.values[r] as number;
      return Number.isNaN(v) ? null : Number.isFinite(v) ? v : String(v);
    }
    case 'string':
      return c.values[r] ?? null;
    default: {
      const v = c.values[r];
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      return v ?? null;
    }
  }
}
