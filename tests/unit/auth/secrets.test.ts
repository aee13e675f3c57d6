import { describe, expect, it } from 'vitest';
import {
  constantTimeEqual,
  formatApiToken,
  isSecretShaped,
  newSecret,
  newTokenId,
  parseApiToken,
  sha256HexOf,
} from '#shared/domain/control/auth-secrets.ts';

/** Deterministic bytes so the formats can be pinned. */
const counting = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff));

describe('API token format', () => {
  it('round-trips ght_<10-char id>_<43-char secret>', () => {
    // Prepare
    const id = newTokenId(counting);
    const secret = newSecret(counting);

    // Act
    const text = formatApiToken(id, secret);
    const parsed = parseApiToken(text);

    // Assess
    expect(text).toMatch(/^ght_[a-z2-7]{10}_[A-Za-z0-9_-]{43}$/);
    expect(parsed).toEqual({ id, secret });
  });

  it('keeps the split unambiguous when the secret itself contains underscores', () => {
    // Prepare
    const secret = `${'_'.repeat(10)}${'a'.repeat(33)}`;

    // Act
    const parsed = parseApiToken(`ght_abcdefghij_${secret}`);

    // Assess
    expect(parsed).toEqual({ id: 'abcdefghij', secret });
  });

  it.each([
    ['wrong prefix', `ghx_abcdefghij_${'a'.repeat(43)}`],
    ['short id', `ght_abcdefghi_${'a'.repeat(43)}`],
    ['uppercase id', `ght_ABCDEFGHIJ_${'a'.repeat(43)}`],
    ['short secret', `ght_abcdefghij_${'a'.repeat(42)}`],
    ['long secret', `ght_abcdefghij_${'a'.repeat(44)}`],
    ['padding', `ght_abcdefghij_${'a'.repeat(42)}=`],
    ['empty', ''],
  ])('rejects a token with %s', (_what, text) => {
    expect(parseApiToken(text)).toBeNull();
  });

  it('draws ids from lowercase base32 only', () => {
    // Act
    const ids = Array.from({ length: 50 }, () =>
      newTokenId((n) => Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 256)))),
    );

    // Assess
    for (const id of ids) expect(id).toMatch(/^[a-z2-7]{10}$/);
  });
});

describe('secrets', () => {
  it('recognises the shape of session ids and one-time tokens', () => {
    expect(isSecretShaped(newSecret(counting))).toBe(true);
    expect(isSecretShaped('short')).toBe(false);
    expect(isSecretShaped(`${'a'.repeat(42)}.`)).toBe(false);
  });

  it('hashes with SHA-256 hex and compares in constant time', () => {
    expect(sha256HexOf('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(constantTimeEqual('same', 'same')).toBe(true);
    expect(constantTimeEqual('same', 'sama')).toBe(false);
    expect(constantTimeEqual('same', 'same-but-longer')).toBe(false);
  });
});
