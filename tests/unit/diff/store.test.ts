import { describe, expect, it } from 'vitest';
import { ProtocolError } from '#shared/errors/diff.ts';
import {
  applyMergePatch,
  DiffStore,
  diffTrees,
  type SchemaDriftEvent,
  type UpdateEvent,
} from '#shared/infra/diff/store.ts';

const CU = 'SHFE.cu2502';

describe('applyMergePatch', () => {
  it('recurses into objects, creating missing nodes', () => {
    // Prepare
    const tree: Record<string, unknown> = { quotes: { [CU]: { last_price: 1 } } };

    // Act
    applyMergePatch(tree, { quotes: { [CU]: { volume: 5 }, 'SHFE.au2506': { last_price: 600 } } });

    // Assess
    expect(tree).toEqual({ quotes: { [CU]: { last_price: 1, volume: 5 }, 'SHFE.au2506': { last_price: 600 } } });
  });

  it('overwrites arrays whole instead of merging them', () => {
    // Prepare
    const tree: Record<string, unknown> = {
      t: {
        day: [
          ['09:00:00', '10:15:00'],
          ['10:30:00', '11:30:00'],
        ],
      },
    };

    // Act
    applyMergePatch(tree, { t: { day: [['21:00:00', '25:00:00']] } });

    // Assess
    expect(tree).toEqual({ t: { day: [['21:00:00', '25:00:00']] } });
  });

  it('deletes a key and its subtree on null, and ignores null for an absent key', () => {
    // Prepare
    const tree: Record<string, unknown> = { q: { a: 1, b: { c: 2 } } };
    const changed = new Set<string>();

    // Act
    applyMergePatch(tree, { q: { b: null, ask_price6: null } }, changed);

    // Assess
    expect(tree).toEqual({ q: { a: 1 } });
    expect([...changed]).toEqual(['q/b']);
  });

  it('removes an object emptied by a deletion, up the tree', () => {
    // Prepare
    const tree: Record<string, unknown> = { ticks: { [CU]: { data: { '7': { last_price: 1 } } } }, keep: 1 };
    const changed = new Set<string>();

    // Act
    applyMergePatch(tree, { ticks: { [CU]: { data: { '7': null } } } }, changed);

    // Assess
    expect(tree).toEqual({ keep: 1 });
    expect(changed).toContain('ticks');
  });

  it('keeps an empty object created by an empty patch object', () => {
    // Prepare
    const tree: Record<string, unknown> = {};

    // Act
    applyMergePatch(tree, { trade: { u: { positions: {} } } });

    // Assess
    expect(tree).toEqual({ trade: { u: { positions: {} } } });
  });

  it('replaces a scalar by an object and an object by a scalar', () => {
    // Prepare
    const tree: Record<string, unknown> = { a: 1, b: { c: 1 } };

    // Act
    applyMergePatch(tree, { a: { x: 1 }, b: 'now a string' });

    // Assess
    expect(tree).toEqual({ a: { x: 1 }, b: 'now a string' });
  });

  it('records only values that actually change, with the given path prefix', () => {
    // Prepare
    const tree: Record<string, unknown> = { a: 1, n: Number.NaN };
    const changed = new Set<string>();

    // Act
    applyMergePatch(tree, { a: 1, n: Number.NaN, b: 2 }, changed, 'root');

    // Assess
    expect([...changed]).toEqual(['root/b']);
  });

  it('refuses a patch that is not an object', () => {
    // Act
    const run = () => applyMergePatch({}, [1, 2]);

    // Assess
    expect(run).toThrow(ProtocolError);
  });

  it('never writes __proto__', () => {
    // Prepare
    const tree: Record<string, unknown> = {};

    // Act
    applyMergePatch(tree, JSON.parse('{"__proto__":{"polluted":1},"a":1}'));

    // Assess
    expect(tree).toEqual({ a: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('DiffStore', () => {
  it('applies the whole rtn_data array before publishing one update event', () => {
    // Prepare
    const store = new DiffStore();
    const seen: { seq: number; price: unknown; volume: unknown }[] = [];
    store.onUpdate((e) =>
      seen.push({
        seq: e.batch_seq,
        price: store.get(`quotes/${CU}/last_price`),
        volume: store.get(`quotes/${CU}/volume`),
      }),
    );

    // Act
    store.applyBatch([{ quotes: { [CU]: { last_price: 75230 } } }, {}, { quotes: { [CU]: { volume: 3 } } }]);
    store.applyBatch([{}]);

    // Assess
    expect(seen).toEqual([
      { seq: 1, price: 75230, volume: 3 },
      { seq: 2, price: 75230, volume: 3 },
    ]);
  });

  it('refuses a batch holding a non-object element without touching the tree', () => {
    // Prepare
    const store = new DiffStore();

    // Act
    const run = () => store.applyBatch([{ a: 1 }, 'oops']);

    // Assess
    expect(run).toThrow(ProtocolError);
    expect(store.root).toEqual({});
    expect(store.batchSeq).toBe(0);
  });

  it.each(['-', 'NAN', 'NaN', ''])('turns %j in a numeric field into NaN without drift', (wire) => {
    // Prepare
    const store = new DiffStore();
    const drifts: SchemaDriftEvent[] = [];
    store.onSchemaDrift((d) => drifts.push(d));

    // Act
    store.applyBatch([{ quotes: { [CU]: { close: wire, settlement: wire } } }]);

    // Assess
    expect(store.get(`quotes/${CU}/close`)).toBeNaN();
    expect(store.get(`quotes/${CU}/settlement`)).toBeNaN();
    expect(drifts).toEqual([]);
  });

  it('turns any other string in a numeric field into NaN and reports schema drift with the path', () => {
    // Prepare
    const store = new DiffStore();
    const drifts: SchemaDriftEvent[] = [];
    store.onSchemaDrift((d) => drifts.push(d));

    // Act
    store.applyBatch([{ trade: { u1: { accounts: { CNY: { balance: 'lots' } } } } }]);

    // Assess
    expect(store.get('trade/u1/accounts/CNY/balance')).toBeNaN();
    expect(drifts).toEqual([
      { path: 'trade/u1/accounts/CNY/balance', expected: 'number', found: 'lots', batch_seq: 1 },
    ]);
  });

  it('coerces ns fields to bigint and stores unknown fields as received', () => {
    // Prepare
    const store = new DiffStore();

    // Act
    store.applyBatch([
      {
        ticks: { [CU]: { last_id: 5, data: { '5': { datetime: 1000, last_price: 1, brand_new: 'x' } } } },
        trade: { u: { orders: { o1: { insert_date_time: 7, status: 'ALIVE' } } } },
      },
    ]);

    // Assess
    expect(store.get(`ticks/${CU}/data/5/datetime`)).toBe(1000n);
    expect(store.get(`ticks/${CU}/data/5/brand_new`)).toBe('x');
    expect(store.get('trade/u/orders/o1/insert_date_time')).toBe(7n);
  });

  it('makes a freshly parsed object that creates a node into that node, cleaned as a key-by-key merge would', () => {
    // Prepare: a parsed frame (JSON.parse keeps "__proto__" as an own key) with nulls, nesting, drift and coercion.
    const store = new DiffStore();
    const drifts: SchemaDriftEvent[] = [];
    store.onSchemaDrift((d) => drifts.push(d));
    const frame = JSON.parse(
      `{"ticks":{"${CU}":{"data":{"7":{"datetime":1000,"last_price":"oops","bid_price2":null,"__proto__":{"x":1},` +
        `"extra":{"gone":null,"kept":[1,2]},"empty":{}}}}}}`,
    ) as Record<string, unknown>;

    // Act
    store.applyBatch([frame]);

    // Assess
    const row = store.get(`ticks/${CU}/data/7`) as Record<string, unknown>;
    expect(Object.keys(row)).toEqual(['datetime', 'last_price', 'extra', 'empty']);
    expect(row.datetime).toBe(1000n);
    expect(row.last_price).toBeNaN();
    expect(row.extra).toEqual({ kept: [1, 2] });
    expect(row.empty).toEqual({});
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(drifts).toEqual([
      { path: `ticks/${CU}/data/7/last_price`, expected: 'number', found: 'oops', batch_seq: 1 },
    ]);
    expect(store.changed(`ticks/${CU}/data/7/last_price`)).toBe(true);
  });

  it('reports a wrong kind in a string, bool or ns field as schema drift and keeps the value', () => {
    // Prepare
    const store = new DiffStore();
    const drifts: SchemaDriftEvent[] = [];
    store.onSchemaDrift((d) => drifts.push(d));

    // Act
    store.applyBatch([{ mdhis_more_data: 'no', quotes: { [CU]: { expire_datetime: 'soon', instrument_id: 5 } } }]);

    // Assess
    expect(drifts.map((d) => d.path).sort()).toEqual([
      'mdhis_more_data',
      `quotes/${CU}/expire_datetime`,
      `quotes/${CU}/instrument_id`,
    ]);
    expect(store.get('mdhis_more_data')).toBe('no');
  });

  it('answers changed(prefix) for set paths, their ancestors and paths under deletions', () => {
    // Prepare
    const store = new DiffStore();
    store.applyBatch([{ quotes: { [CU]: { last_price: 1, volume: 1 } }, charts: { c1: { state: { a: 1 } } } }]);

    // Act
    store.applyBatch([{ quotes: { [CU]: { last_price: 2, volume: 1 } }, charts: { c1: null } }]);

    // Assess
    expect(store.changed(`quotes/${CU}/last_price`)).toBe(true);
    expect(store.changed(`quotes/${CU}`)).toBe(true);
    expect(store.changed('quotes')).toBe(true);
    expect(store.changed(`quotes/${CU}/volume`)).toBe(false);
    expect(store.changed('quotes/SHFE.cu25')).toBe(false);
    expect(store.changed('charts/c1/state/a')).toBe(true);
    expect(store.changed('ticks')).toBe(false);
    expect(store.changed('')).toBe(true);
  });

  it('lists every path a batch set, created or deleted, a page of rows and keys holding a slash included', () => {
    // Prepare
    const store = new DiffStore();
    store.applyBatch([{ ticks: { [CU]: { data: { '1': { last_price: 1 }, '2': { last_price: 2 } } } } }]);
    const page: Record<string, unknown> = { '1': null, '2': null };
    for (let id = 3; id <= 2002; id++) page[String(id)] = { last_price: id };

    // Act
    const event = store.applyBatch([{ ticks: { [CU]: { data: page, last_id: 2002 } }, 'a/b': { 'c/d': 1 } }]);

    // Assess
    const expected = new Set([
      `ticks/${CU}/data/1`,
      `ticks/${CU}/data/2`,
      ...Array.from({ length: 2000 }, (_, k) => `ticks/${CU}/data/${k + 3}`),
      `ticks/${CU}/last_id`,
      'a/b', // a node the batch created is listed once, not leaf by leaf
    ]);
    expect(event.changes.paths).toEqual(expected);
    expect(event.changes.has('a/b/c/d')).toBe(true);
    expect(event.changes.has('a/b/c')).toBe(true);
    expect(event.changes.has(`ticks/${CU}/data/2002/last_price`)).toBe(true);
    expect(event.changes.has(`ticks/${CU}/data/2003`)).toBe(false);
    expect(event.changes.has(`ticks/${CU}`)).toBe(true);
  });

  it('numbers update events monotonically per store', () => {
    // Prepare
    const store = new DiffStore();
    const seqs: number[] = [];
    store.onUpdate((e: UpdateEvent) => seqs.push(e.batch_seq));

    // Act
    for (let i = 0; i < 3; i++) store.applyBatch([{ x: i }]);

    // Assess
    expect(seqs).toEqual([1, 2, 3]);
    expect(store.batchSeq).toBe(3);
  });

  it('releases a snapshot as one batch holding the difference, deletions and empty nodes included', () => {
    // Prepare
    const store = new DiffStore();
    store.applyBatch([
      {
        trade: { u: { orders: { o1: { status: 'ALIVE' }, o2: { status: 'ALIVE' } }, positions: { p: { margin: 1 } } } },
      },
    ]);
    const scratch = new DiffStore();
    scratch.applyBatch([{ trade: { u: { orders: { o1: { status: 'FINISHED' } }, positions: {} } } }]);

    // Act
    const event = store.releaseSnapshot(scratch.root);

    // Assess
    expect(store.root).toEqual(scratch.root);
    expect(event.resync).toBe(true);
    expect(event.batch_seq).toBe(2);
    expect(event.changes.has('trade/u/orders/o2')).toBe(true);
    expect(event.changes.has('trade/u/positions/p/margin')).toBe(true);
  });
});

describe('diffTrees', () => {
  it('is empty for equal trees, NaN included', () => {
    // Act
    const patch = diffTrees({ a: { b: Number.NaN, c: [1] } }, { a: { b: Number.NaN, c: [1] } });

    // Assess
    expect(patch).toEqual({});
  });
});
