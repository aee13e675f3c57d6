/**
 * Password hashing with scrypt (control-chain §2: N=2^15, r=8, p=1, 16-byte salt, 64-byte key). The parameters are
 * encoded in the hash string (PHC style `$scrypt$ln=15,r=8,p=1$<salt>$<key>`, base64url), so they can be raised
 * later without invalidating stored hashes. The salt is passed in: callers draw it from the CSPRNG.
 */
import { scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  r: number;
  p: number;
  keyLen: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { ln: 15, r: 8, p: 1, keyLen: 64 };
export const SALT_BYTES = 16;

/**
 * Bounds accepted when *verifying* a stored hash, so a corrupted or hostile hash string cannot make one login
 * allocate gigabytes or spin for minutes.
 */
const BOUNDS = { ln: [10, 20], r: [1, 32], p: [1, 16], keyLen: [32, 128], saltLen: [16, 64] } as const;

const HASH_RE = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

export class PasswordHashFormatError extends Error {
  constructor(reason: string) {
    super(`stored password hash is malformed: ${reason}`);
    this.name = 'PasswordHashFormatError';
  }
}

function derive(password: string, salt: Buffer, p: ScryptParams): Promise<Buffer> {
  const N = 2 ** p.ln;
  // Node refuses scrypt above `maxmem` (default 32 MiB); 128·N·r bytes are needed, so leave twice that.
  const maxmem = Math.max(32 * 1024 * 1024, 2 * 128 * N * p.r * p.p);
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, p.keyLen, { N, r: p.r, p: p.p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Hash `password` with `salt` (≥ 16 bytes); returns the self-describing hash string. */
export async function hashPassword(
  password: string,
  salt: Buffer,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<string> {
  if (salt.length < SALT_BYTES) throw new RangeError(`salt must be at least ${SALT_BYTES} bytes, got ${salt.length}`);
  const key = await derive(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Parse a stored hash string, enforcing the verification bounds. */
export function parsePasswordHash(encoded: string): { params: ScryptParams; salt: Buffer; key: Buffer } {
  const m = HASH_RE.exec(encoded);
  if (!m) throw new PasswordHashFormatError('expected $scrypt$ln=<n>,r=<n>,p=<n>$<salt>$<key>');
  const [, ln, r, p, saltText, keyText] = m;
  const salt = Buffer.from(saltText ?? '', 'base64url');
  const key = Buffer.from(keyText ?? '', 'base64url');
  const params: ScryptParams = { ln: Number(ln), r: Number(r), p: Number(p), keyLen: key.length };
  const within = (v: number, [lo, hi]: readonly [number, number]) => v >= lo && v <= hi;
  if (
    !within(params.ln, BOUNDS.ln) ||
    !within(params.r, BOUNDS.r) ||
    !within(params.p, BOUNDS.p) ||
    !within(params.keyLen, BOUNDS.keyLen) ||
    !within(salt.length, BOUNDS.saltLen)
  ) {
    throw new PasswordHashFormatError(`parameters out of bounds (ln=${ln}, r=${r}, p=${p}, key ${key.length} B)`);
  }
  return { params, salt, key };
}

/** True when `password` matches `encoded`; compares in constant time. A malformed hash throws. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const { params, salt, key } = parsePasswordHash(encoded);
  const candidate = await derive(password, salt, params);
  return candidate.length === key.length && timingSafeEqual(candidate, key);
}
