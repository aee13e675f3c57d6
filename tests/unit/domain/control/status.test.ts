import { describe, expect, it } from 'vitest';
import { type StatusState, worstState } from '#shared/domain/control/status.ts';

describe('worstState', () => {
  it('is ok for no states at all', () => {
    // Act
    const state = worstState([]);

    // Assess
    expect(state).toBe('ok');
  });

  it.each<[StatusState[], StatusState]>([
    [['ok', 'ok'], 'ok'],
    [['ok', 'empty'], 'empty'],
    [['empty', 'unknown'], 'unknown'],
    [['unknown', 'warn', 'empty'], 'warn'],
    [['warn', 'error', 'ok'], 'error'],
    [['error', 'warn'], 'error'],
  ])('picks the worst of %j: %s', (states, expected) => {
    // Act
    const state = worstState(states);

    // Assess
    expect(state).toBe(expected);
  });

  it('does not depend on the order of its input', () => {
    // Prepare
    const states: StatusState[] = ['warn', 'ok', 'unknown', 'empty'];

    // Act
    const forward = worstState(states);
    const backward = worstState([...states].reverse());

    // Assess
    expect(forward).toBe('warn');
    expect(backward).toBe('warn');
  });
});
