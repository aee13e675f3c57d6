import { describe, expect, it } from 'vitest';
import { bearerMatches, DEV_TOKEN_CLAIMS, decodeTokenPayload, defaultDevToken } from '#colo/sim/dev-token.ts';

describe('dev token', () => {
  it('is an unsigned JWT-shaped string: base64url header, base64url payload, empty signature', () => {
    // Act
    const token = defaultDevToken();

    // Assess
    const parts = token.split('.');
    expect(parts).toHaveLength(3);
    expect(parts[2]).toBe('');
    expect(parts[0]).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString())).toEqual({ alg: 'none', typ: 'JWT' });
  });

  it('carries the sim user, every feature the client checks, any account and a far expiry', () => {
    // Act
    const payload = decodeTokenPayload(defaultDevToken());

    // Assess
    expect(payload).toEqual(DEV_TOKEN_CLAIMS);
    expect(payload?.sub).toBe('ghsim-user');
    expect(payload?.grants).toEqual({ features: ['futr', 'lmt_idx', 'tq_dl'], accounts: ['*'] });
    expect(Number(payload?.exp)).toBeGreaterThan(Date.now() / 1000 + 50 * 365 * 86400);
  });

  it('is the same in every process (derived from fixed claims)', () => {
    // Act
    const a = defaultDevToken();
    const b = defaultDevToken();

    // Assess
    expect(a).toBe(b);
  });

  it.each([
    [undefined, false],
    ['Bearer wrong', false],
    ['Basic abc', false],
    ['Bearer TOKEN', true],
    ['bearer TOKEN', true],
  ])('matches the Authorization header %s → %s', (header, expected) => {
    // Act
    const ok = bearerMatches(header, 'TOKEN');

    // Assess
    expect(ok).toBe(expected);
  });
});
