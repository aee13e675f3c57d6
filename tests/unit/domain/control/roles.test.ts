import { describe, expect, it } from 'vitest';
import { ROLES, type Role, roleAtLeast } from '#shared/domain/control/roles.ts';

describe('roleAtLeast', () => {
  it('orders the roles viewer < operator < admin', () => {
    // Assess
    expect(ROLES).toEqual(['viewer', 'operator', 'admin']);
  });

  it.each<[Role, Role, boolean]>([
    ['viewer', 'viewer', true],
    ['viewer', 'operator', false],
    ['viewer', 'admin', false],
    ['operator', 'viewer', true],
    ['operator', 'operator', true],
    ['operator', 'admin', false],
    ['admin', 'viewer', true],
    ['admin', 'operator', true],
    ['admin', 'admin', true],
  ])('answers %s at least %s: %s', (have, need, expected) => {
    // Act
    const ok = roleAtLeast(have, need);

    // Assess
    expect(ok).toBe(expected);
  });
});
