import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRYPT,
  hashPassword,
  PasswordHashFormatError,
  parsePasswordHash,
  verifyPassword,
} from '#shared/domain/control/auth-password.ts';

describe('password hashing', () => {
  it('verifies the right password and rejects a wrong one', async () => {
    // Prepare
    const hash = await hashPassword('correct horse battery', randomBytes(16));

    // Act
    const right = await verifyPassword('correct horse battery', hash);
    const wrong = await verifyPassword('correct horse battery!', hash);

    // Assess
    expect(right).toBe(true);
    expect(wrong).toBe(false);
  });

  it('encodes scrypt N=2^15, r=8, p=1, a 16-byte salt and a 64-byte key in the hash string', async () => {
    // Act
    const hash = await hashPassword('twelve chars!', randomBytes(16));

    // Assess
    expect(hash.startsWith('$scrypt$ln=15,r=8,p=1$')).toBe(true);
    const parsed = parsePasswordHash(hash);
    expect(parsed.params).toEqual(DEFAULT_SCRYPT);
    expect(parsed.salt.length).toBe(16);
    expect(parsed.key.length).toBe(64);
  });

  it('gives different hashes for the same password under different salts', async () => {
    // Act
    const [a, b] = await Promise.all([
      hashPassword('same password here', randomBytes(16)),
      hashPassword('same password here', randomBytes(16)),
    ]);

    // Assess
    expect(a).not.toBe(b);
  });

  it('refuses a salt shorter than 16 bytes', async () => {
    await expect(hashPassword('whatever password', randomBytes(8))).rejects.toThrow(RangeError);
  });

  it('throws on a malformed stored hash instead of answering false', async () => {
    await expect(verifyPassword('x', 'plain-text-password')).rejects.toThrow(PasswordHashFormatError);
  });

  it('refuses stored parameters that would make one login allocate gigabytes', () => {
    // Prepare
    const salt = randomBytes(16).toString('base64url');
    const key = randomBytes(64).toString('base64url');

    // Act + Assess
    expect(() => parsePasswordHash(`$scrypt$ln=30,r=8,p=1$${salt}$${key}`)).toThrow(PasswordHashFormatError);
    expect(() => parsePasswordHash(`$scrypt$ln=15,r=8,p=1$${salt}$${key}`)).not.toThrow();
  });
});
