import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '#shared/domain/control/canonical-json.ts';
import {
  computePct,
  dedupeKeyOf,
  isTerminal,
  JOB_STATUSES,
  type JobProgress,
  mergeProgress,
} from '#shared/domain/control/jobs.ts';

type Position = Parameters<typeof computePct>[0];

/** One phase, one step, no items, at the start: override what a test is about. */
const position = (p: Partial<Position>): Position => ({
  phase_idx: 0,
  total_phases: 1,
  step_idx: 0,
  total_steps: 1,
  item_idx: 0,
  total_items: 0,
  ...p,
});

const T0 = '2025-01-02T03:04:05.678Z';
const T1 = '2025-01-02T03:04:15.678Z';

/** A stored progress as a worker would have written it. */
const stored = (p: Partial<JobProgress>): JobProgress => ({
  phase: 'download',
  phase_idx: 1,
  total_phases: 2,
  step: 'day 3',
  step_idx: 0,
  total_steps: 1,
  item: '',
  item_idx: 0,
  total_items: 0,
  pct: 0.5,
  message: 'downloading',
  eta_s: 10,
  updated_at: T0,
  ...p,
});

describe('computePct', () => {
  it('adds the phase and step terms: phase 1 of 4, step 2 of 5 is 0.35', () => {
    // Act
    const pct = computePct(position({ phase_idx: 1, total_phases: 4, step_idx: 2, total_steps: 5 }));

    // Assess
    expect(pct).toBe(0.35);
  });

  it('adds the item term when total_items > 0: phase 0 of 2, step 1 of 4, item 3 of 10 is 0.1625', () => {
    // Act
    const pct = computePct(position({ total_phases: 2, step_idx: 1, total_steps: 4, item_idx: 3, total_items: 10 }));

    // Assess
    expect(pct).toBe(0.1625);
  });

  it('ignores item_idx when total_items is 0', () => {
    // Act
    const pct = computePct(position({ phase_idx: 1, total_phases: 2, item_idx: 7, total_items: 0 }));

    // Assess
    expect(pct).toBe(0.5);
  });

  it('clamps positions past the end to 1', () => {
    // Act
    const pct = computePct(position({ phase_idx: 5, total_phases: 4, step_idx: 9, total_steps: 2 }));

    // Assess
    expect(pct).toBe(1);
  });

  it('clamps negative positions to 0', () => {
    // Act
    const pct = computePct(position({ phase_idx: -1, total_phases: 4 }));

    // Assess
    expect(pct).toBe(0);
  });

  it('rounds to 4 decimal places', () => {
    // Act
    const third = computePct(position({ phase_idx: 1, total_phases: 3 }));
    const seventh = computePct(position({ step_idx: 1, total_steps: 7 }));

    // Assess
    expect(third).toBe(0.3333);
    expect(seventh).toBe(0.1429);
  });
});

describe('mergeProgress', () => {
  it('starts from an empty progress and derives pct, eta and updated_at from the first update', () => {
    // Act
    const p = mergeProgress(null, { phase: 'download', phase_idx: 1, total_phases: 4 }, { nowIso: T1, elapsedS: 30 });

    // Assess
    expect(p).toEqual({
      phase: 'download',
      phase_idx: 1,
      total_phases: 4,
      step: '',
      step_idx: 0,
      total_steps: 1,
      item: '',
      item_idx: 0,
      total_items: 0,
      message: '',
      pct: 0.25,
      eta_s: 90,
      updated_at: T1,
    });
  });

  it('ignores fields an update sets to undefined instead of wiping the stored phase and pct', () => {
    // Prepare
    const before = mergeProgress(
      null,
      { phase: 'download', phase_idx: 1, total_phases: 2 },
      { nowIso: T1, elapsedS: 10 },
    );

    // Act
    const p = mergeProgress(
      before,
      { phase: undefined, phase_idx: undefined, message: 'retrying' },
      { nowIso: T1, elapsedS: 10 },
    );

    // Assess
    expect(p.phase).toBe('download');
    expect(p.phase_idx).toBe(1);
    expect(p.pct).toBe(0.5);
    expect(p.message).toBe('retrying');
  });

  it('leaves eta null while pct is 0', () => {
    // Act
    const p = mergeProgress(null, { phase: 'start', message: 'starting' }, { nowIso: T1, elapsedS: 12 });

    // Assess
    expect(p.pct).toBe(0);
    expect(p.eta_s).toBeNull();
  });

  it('computes eta as elapsed/pct − elapsed, rounded to 0.1 s', () => {
    // Act
    const p = mergeProgress(null, { phase_idx: 1, total_phases: 4 }, { nowIso: T1, elapsedS: 1.23 });

    // Assess
    expect(p.pct).toBe(0.25);
    expect(p.eta_s).toBe(3.7);
  });

  it('never lowers pct when an update reports an earlier position', () => {
    // Prepare
    const prev = stored({ phase_idx: 1, total_phases: 2, pct: 0.5 });

    // Act
    const p = mergeProgress(prev, { phase_idx: 0 }, { nowIso: T1, elapsedS: 20 });

    // Assess
    expect(p.pct).toBe(0.5);
    expect(p.eta_s).toBe(20);
  });

  it('keeps phase and step when an update carries only a message', () => {
    // Prepare
    const prev = stored({ phase: 'download', phase_idx: 1, step: 'day 3', step_idx: 2, total_steps: 5, pct: 0.7 });

    // Act
    const p = mergeProgress(prev, { message: 'retrying after throttling' }, { nowIso: T1, elapsedS: 7 });

    // Assess
    expect(p).toMatchObject({
      phase: 'download',
      phase_idx: 1,
      step: 'day 3',
      step_idx: 2,
      total_steps: 5,
      pct: 0.7,
      message: 'retrying after throttling',
      updated_at: T1,
    });
  });

  it('finishes at pct 1 and eta 0 whatever the last reported position', () => {
    // Prepare
    const prev = stored({ phase_idx: 0, total_phases: 5, pct: 0.2, eta_s: 40 });

    // Act
    const p = mergeProgress(prev, {}, { nowIso: T1, elapsedS: 10, finished: true });

    // Assess
    expect(p.pct).toBe(1);
    expect(p.eta_s).toBe(0);
    expect(p.updated_at).toBe(T1);
  });

  it('starts a finished job that never reported progress at pct 1', () => {
    // Act
    const p = mergeProgress(null, {}, { nowIso: T1, elapsedS: 0.4, finished: true });

    // Assess
    expect(p).toMatchObject({ pct: 1, eta_s: 0, phase: '', updated_at: T1 });
  });
});

describe('dedupeKeyOf', () => {
  it('formats the key as <kind>:<first 16 hex of sha256 over the canonical identity>', () => {
    // Prepare
    const identity = canonicalJson({ seconds: 1, fail_retryable: true });
    const expected = createHash('sha256').update(identity, 'utf8').digest('hex').slice(0, 16);

    // Act
    const key = dedupeKeyOf('system.sleep', identity, sha256Hex);

    // Assess
    expect(key).toMatch(/^system\.sleep:[0-9a-f]{16}$/);
    expect(key).toBe(`system.sleep:${expected}`);
  });

  it('asks the hash function for exactly 16 hex digits of the identity it was given', () => {
    // Prepare
    const calls: [string, number][] = [];
    const hash = (t: string, n: number) => {
      calls.push([t, n]);
      return 'h'.repeat(n);
    };

    // Act
    const key = dedupeKeyOf('system.selftest', '{}', hash);

    // Assess
    expect(calls).toEqual([['{}', 16]]);
    expect(key).toBe(`system.selftest:${'h'.repeat(16)}`);
  });

  it('gives different identities of the same kind different keys', () => {
    // Act
    const one = dedupeKeyOf('system.sleep', canonicalJson({ seconds: 1 }), sha256Hex);
    const two = dedupeKeyOf('system.sleep', canonicalJson({ seconds: 2 }), sha256Hex);

    // Assess
    expect(one).not.toBe(two);
  });
});

describe('isTerminal', () => {
  it('treats succeeded, failed and cancelled as terminal and nothing else', () => {
    // Act
    const terminal = JOB_STATUSES.filter(isTerminal);

    // Assess
    expect(terminal).toEqual(['succeeded', 'failed', 'cancelled']);
  });
});
