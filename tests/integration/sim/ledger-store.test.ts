import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LedgerCorruptError } from '#colo/sim/errors.ts';
import { FileLedgerStore } from '#colo/sim/ledger-store.ts';
import { newLedger } from '#colo/sim/trade-engine/ledger.ts';

describe('FileLedgerStore', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ghsim-ledger-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('round-trips a ledger with ns bigints exactly, under <home>/sim/accounts, leaving no temp file', async () => {
    // Prepare
    const store = new FileLedgerStore(home);
    const ledger = newLedger('u@x', '2025-01-10', 10_000_000);
    ledger.orders.o1 = {
      seqno: 1,
      user_id: 'u@x',
      order_id: 'o1',
      exchange_id: 'SHFE',
      instrument_id: 'cu2503',
      direction: 'BUY',
      offset: 'OPEN',
      volume_orign: 1,
      volume_left: 1,
      price_type: 'LIMIT',
      limit_price: 75_000,
      time_condition: 'GFD',
      volume_condition: 'ANY',
      insert_date_time: 1_736_474_400_000_000_123n,
      exchange_order_id: '000000000001',
      status: 'ALIVE',
      last_msg: '报单成功',
      frozen_margin: 40_000,
    };

    // Act
    await store.save(ledger);
    const back = await new FileLedgerStore(home).load('u@x');
    const files = await readdir(path.join(home, 'sim', 'accounts'));

    // Assess
    expect(back).toEqual(ledger);
    expect(back?.orders.o1?.insert_date_time).toBe(1_736_474_400_000_000_123n);
    expect(files).toEqual(['u%40x.json']);
  });

  it('answers null for a user it never saw', async () => {
    // Act
    const none = await new FileLedgerStore(home).load('nobody');

    // Assess
    expect(none).toBeNull();
  });

  it('lands the newest state when saves overlap', async () => {
    // Prepare
    const store = new FileLedgerStore(home);
    const ledger = newLedger('u', '2025-01-10', 1);

    // Act
    const writes: Promise<void>[] = [];
    for (let k = 0; k < 20; k++) {
      ledger.seqno = k;
      writes.push(store.save(ledger));
    }
    await Promise.all(writes);
    await store.idle();

    // Assess
    expect((await store.load('u'))?.seqno).toBe(19);
  });

  it('refuses a ledger file that does not match the schema with a clear error', async () => {
    // Prepare
    const store = new FileLedgerStore(home);
    await store.save(newLedger('u', '2025-01-10', 1));
    await writeFile(path.join(home, 'sim', 'accounts', 'u.json'), '{"version":1,"user_name":"u"}');

    // Act
    const load = store.load('u');

    // Assess
    await expect(load).rejects.toBeInstanceOf(LedgerCorruptError);
    await expect(store.load('u')).rejects.toThrow(/move it away/);
  });
});
