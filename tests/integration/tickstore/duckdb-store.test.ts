/**
 * DuckDB-only behaviour of the tick store (data-chain §1.3, §1.5): ledger identity, the DDL dialect, transactional
 * DDL, legacy rows with NULL provenance and the single-writer rule across processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TABLES } from '#shared/domain/data/tick-columns.ts';
import { TickStoreInputError } from '#shared/domain/data/tick-store.ts';
import { DataChainError } from '#shared/errors/data.ts';
import {
  DUCKDB_DIALECT,
  duckDbStoreId,
  openDuckDbTickStore,
  TickStoreOwnedError,
} from '#shared/infra/tickstore/duckdb.ts';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const TICKS = TABLES.ticksMainL5;
const CU = 'KQ.m@SHFE.cu';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ghtrader-duckdb-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('DuckDB store identity', () => {
  it('names the store by its path relative to GHTRADER_HOME', async () => {
    // Prepare
    const file = path.join(dir, 'ticks.duckdb');
    // Act
    const store = await openDuckDbTickStore({ path: file, storeIdBase: dir });
    // Assess
    try {
      expect(store.storeId).toBe('duckdb:ticks.duckdb');
      expect(store.kind).toBe('duckdb');
    } finally {
      await store.close();
    }
  });

  it('uses the nested relative path, the base name without a home, and :memory: as is', () => {
    // Act
    const ids = [
      duckDbStoreId('/srv/gh/data/ticks.duckdb', '/srv/gh'),
      duckDbStoreId('/srv/gh/data/ticks.duckdb'),
      duckDbStoreId(':memory:', '/srv/gh'),
    ];
    // Assess
    expect(ids).toEqual(['duckdb:data/ticks.duckdb', 'duckdb:ticks.duckdb', 'duckdb::memory:']);
  });
});

describe('DuckDB dialect', () => {
  it('creates a table with the catalogue types and no key constraints', () => {
    // Act
    const sql = DUCKDB_DIALECT.createTable(TABLES.mainSchedule);
    // Assess
    expect(sql).toEqual([
      'CREATE TABLE IF NOT EXISTS "ghtrader_main_schedule_v2" (exchange VARCHAR, variety VARCHAR, trading_day VARCHAR, ' +
        'main_contract VARCHAR, segment_id BIGINT, schedule_hash VARCHAR, updated_at TIMESTAMP, ts TIMESTAMP)',
    ]);
  });

  it('adds and renames columns and refuses identifiers outside the rule', () => {
    // Act
    const add = DUCKDB_DIALECT.addColumn(TICKS.name, { name: 'segment_id', type: 'LONG' });
    const rename = DUCKDB_DIALECT.renameColumn(TICKS.name, 'ticks_lake', 'ticks_kind');
    // Assess
    expect(add).toBe('ALTER TABLE "ghtrader_ticks_main_l5_v2" ADD COLUMN IF NOT EXISTS segment_id BIGINT');
    expect(rename).toBe('ALTER TABLE "ghtrader_ticks_main_l5_v2" RENAME COLUMN ticks_lake TO ticks_kind');
    expect(() => DUCKDB_DIALECT.addColumn('t', { name: 'x"; DROP TABLE t; --', type: 'LONG' })).toThrow(
      TickStoreInputError,
    );
  });

  it('runs a DDL batch in one transaction: a failing statement leaves nothing of the batch', async () => {
    // Prepare
    const store = await openDuckDbTickStore({ path: path.join(dir, 'ticks.duckdb') });
    try {
      // Act
      const attempt = store.executeDdl([
        ...DUCKDB_DIALECT.createTable(TICKS),
        'ALTER TABLE no_such_table ADD COLUMN x BIGINT',
      ]);
      // Assess
      await expect(attempt).rejects.toThrow(/no_such_table/);
      expect(await store.describeColumns(TICKS.name)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('DuckDB legacy rows', () => {
  it('reads NULL doubles as NaN, NULL segment_id as -1 and NULL strings as empty; counts rows without hash', async () => {
    // Prepare: a table written by an older writer, with provenance missing on some rows.
    const file = path.join(dir, 'ticks.duckdb');
    const raw = await DuckDBInstance.create(file);
    const conn = await raw.connect();
    for (const sql of DUCKDB_DIALECT.createTable(TICKS)) await conn.run(sql);
    await conn.run(
      `INSERT INTO ${TICKS.name} (symbol, trading_day, datetime_ns, row_hash, last_price, underlying_contract,
         segment_id, schedule_hash, ts) VALUES
       ('${CU}', '2026-01-05', 300, 3, 1.5, 'SHFE.cu2602', 3, '', make_timestamp(0)),
       ('${CU}', '2026-01-05', 100, 1, 70000, 'SHFE.cu2602', 3, 'aaaaaaaaaaaaaaaa', make_timestamp(0)),
       ('${CU}', '2026-01-05', 200, 2, NULL, NULL, NULL, NULL, make_timestamp(0)),
       ('${CU}', '2026-01-06', 500, 5, 2.5, 'SHFE.cu2602', 3, 'aaaaaaaaaaaaaaaa', make_timestamp(0))`,
    );
    conn.closeSync();
    raw.closeSync();
    const store = await openDuckDbTickStore({ path: file });
    try {
      // Act
      const day = await store.readTickDay(TICKS.name, CU, '2026-01-05');
      const prov = await store.dayProvenance(TICKS.name, CU);
      // Assess
      expect([...day.datetimeNs]).toEqual([100n, 200n, 300n]);
      expect([...(day.values[0] ?? [])]).toEqual([70000, Number.NaN, 1.5]);
      expect([...(day.values[1] ?? [])]).toEqual([Number.NaN, Number.NaN, Number.NaN]);
      expect([...day.segmentId]).toEqual([3n, -1n, 3n]);
      expect(day.underlyingContract).toEqual(['SHFE.cu2602', '', 'SHFE.cu2602']);
      expect(day.scheduleHash).toEqual(['aaaaaaaaaaaaaaaa', '', '']);
      expect(prov).toEqual([
        {
          trading_day: '2026-01-05',
          rows: 3,
          schedule_hashes: ['aaaaaaaaaaaaaaaa'],
          rows_without_hash: 2,
          first_datetime_ns: 100n,
          last_datetime_ns: 300n,
        },
        {
          trading_day: '2026-01-06',
          rows: 1,
          schedule_hashes: ['aaaaaaaaaaaaaaaa'],
          rows_without_hash: 0,
          first_datetime_ns: 500n,
          last_datetime_ns: 500n,
        },
      ]);
    } finally {
      await store.close();
    }
  });
});

/** A second process holding the database file until it reads a line on stdin. */
const HOLDER = `
import { DuckDBInstance } from '@duckdb/node-api';
const instance = await DuckDBInstance.create(process.env.GHTRADER_TEST_DUCKDB);
process.stdout.write('ready\\n');
process.stdin.once('data', () => { instance.closeSync(); process.exit(0); });
`;

function holdFile(file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER], {
    cwd: REPO_ROOT,
    env: { ...process.env, GHTRADER_TEST_DUCKDB: file },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`holder exited with ${code} before holding the file: ${err}`)));
    child.once('error', reject);
  });
}

function release(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.stdin?.write('\n');
  });
}

describe('DuckDB single writer', () => {
  let holder: ChildProcess | undefined;
  afterEach(async () => {
    if (holder !== undefined) await release(holder);
    holder = undefined;
  });

  it('refuses to open a file another process holds, naming its pid and the jobs command', async () => {
    // Prepare
    const file = path.join(dir, 'ticks.duckdb');
    holder = await holdFile(file);
    // Act
    const attempt = openDuckDbTickStore({ path: file });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(TickStoreOwnedError);
    await expect(attempt).rejects.toBeInstanceOf(DataChainError);
    await expect(attempt).rejects.toMatchObject({ code: 'tick_store_owned', details: { pid: holder.pid } });
    await expect(attempt).rejects.toThrow(
      `tick store ${file} is owned by pid ${holder.pid}; use \`ghtrader jobs submit …\` (or stop that process)`,
    );
  });

  it('opens the file once the other process let it go', async () => {
    // Prepare
    const file = path.join(dir, 'ticks.duckdb');
    holder = await holdFile(file);
    await expect(openDuckDbTickStore({ path: file })).rejects.toBeInstanceOf(TickStoreOwnedError);
    await release(holder);
    // Act
    const store = await openDuckDbTickStore({ path: file });
    // Assess
    await store.createTable(TICKS);
    expect(await store.describeColumns(TICKS.name)).toHaveLength(TICKS.columns.length);
    await store.close();
  });
});
