import { describe, expect, it } from 'vitest';
import { PendingPatches } from '#colo/sim/pending-patches.ts';
import { applyMergePatch } from '#shared/infra/diff/store.ts';

function applyAll(doc: Record<string, unknown>, patches: Record<string, unknown>[]): Record<string, unknown> {
  for (const p of patches) applyMergePatch(doc, p);
  return doc;
}

describe('PendingPatches', () => {
  it('coalesces consecutive patches into one element holding the newest values', () => {
    // Prepare
    const pending = new PendingPatches();

    // Act
    pending.push({ quotes: { 'SHFE.cu2502': { last_price: 1, volume: 1 } } });
    pending.push({ quotes: { 'SHFE.cu2502': { last_price: 2 } } });
    const out = pending.take();

    // Assess
    expect(out).toEqual([{ quotes: { 'SHFE.cu2502': { last_price: 2, volume: 1 } } }]);
    expect(pending.isEmpty).toBe(true);
  });

  it('keeps a deletion that follows a value', () => {
    // Prepare
    const pending = new PendingPatches();

    // Act
    pending.push({ ticks: { s: { data: { '5': { last_price: 1 } } } } });
    pending.push({ ticks: { s: { data: { '5': null } } } });

    // Assess
    expect(pending.take()).toEqual([{ ticks: { s: { data: { '5': null } } } }]);
  });

  it('starts a new element for an object re-creating a key pending as null, so no stale field survives', () => {
    // Prepare
    const pending = new PendingPatches();
    const client = { charts: { c: { state: { old: 1 }, left_id: 3 } } };

    // Act
    pending.push({ charts: { c: null } });
    pending.push({ charts: { c: { left_id: 7 } } });
    const out = pending.take();

    // Assess
    expect(out).toHaveLength(2);
    expect(applyAll(client, out)).toEqual({ charts: { c: { left_id: 7 } } });
  });

  it('gives the same client tree as applying every patch one by one', () => {
    // Prepare
    const patches: Record<string, unknown>[] = [
      { a: { x: 1, y: { z: 2 } }, b: 1 },
      { a: { y: null }, c: 3 },
      { a: { y: { w: 4 } } },
      { b: { n: 1 } },
      { b: null, a: { x: null } },
    ];
    const pending = new PendingPatches();
    for (const p of patches) pending.push(p);

    // Act
    const coalesced = applyAll({ a: { y: { old: true } }, keep: 1 }, pending.take());
    const oneByOne = applyAll({ a: { y: { old: true } }, keep: 1 }, structuredClone(patches));

    // Assess
    expect(coalesced).toEqual(oneByOne);
  });

  it('does not alias the pushed object (later mutation by the caller changes nothing)', () => {
    // Prepare
    const pending = new PendingPatches();
    const patch = { quotes: { s: { last_price: 1 } } };

    // Act
    pending.push(patch);
    patch.quotes.s.last_price = 99;

    // Assess
    expect(pending.take()).toEqual([{ quotes: { s: { last_price: 1 } } }]);
  });

  it('tracks whether a pending patch holds NaN or ±Infinity, walking every patch not checked by its caller', () => {
    // Prepare
    const pending = new PendingPatches();

    // Act
    pending.push({ ticks: { s: { data: { '5': null, '6': { last_price: 1, bids: [1, 2] } } } } });
    const afterFinite = pending.holdsNonFinite;
    pending.push({ quotes: { s: { levels: [{ price: Number.NEGATIVE_INFINITY }] } } });
    const afterInfinity = pending.holdsNonFinite;
    pending.take();
    const afterTake = pending.holdsNonFinite;
    pending.push({ quotes: { s: { last_price: Number.NaN } } }, { checkedFinite: true });
    const checkedByCaller = pending.holdsNonFinite;

    // Assess
    expect([afterFinite, afterInfinity, afterTake]).toEqual([false, true, false]);
    // `checkedFinite` is the caller's word: the chart engine checks each row as it builds the chunk.
    expect(checkedByCaller).toBe(false);
  });

  it('queues a separate owned chunk as its own element, merges later patches into it, and applies the same', () => {
    // Prepare
    const pending = new PendingPatches();
    const patches = [
      { ticks: { s: { data: { '1': null, '2': null } } } },
      { ticks: { s: { data: { '3': { last_price: 3 }, '4': { last_price: 4 } }, last_id: 4 } } },
      { charts: { c: { ready: true } } },
    ];
    const client = { ticks: { s: { data: { '1': { last_price: 1 }, '2': { last_price: 2 } } } } };

    // Act
    pending.push(structuredClone(patches[0]) as Record<string, unknown>, { owned: true });
    pending.push(structuredClone(patches[1]) as Record<string, unknown>, { owned: true, separate: true });
    pending.push(structuredClone(patches[2]) as Record<string, unknown>);
    const out = pending.take();

    // Assess
    expect(out).toHaveLength(2);
    expect(out[1]).toEqual({ ...patches[1], ...patches[2] });
    expect(applyAll(structuredClone(client), out)).toEqual(applyAll(structuredClone(client), structuredClone(patches)));
  });
});
