/**
 * Bearer secrets: API tokens `ght_<10-char id>_<43-char base64url secret>`, session ids and one-time login tokens
 * (32 random bytes each, base64url). Only SHA-256 digests are stored; comparisons are constant time. Random bytes
 * are injected (`RandomBytes`), so tests can pin them; production passes `crypto.randomBytes`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Source of cryptographically secure random bytes. */
export type RandomBytes = (n: number) => Buffer;

export const SECRET_BYTES = 32;
/** 32 bytes in base64url without padding. */
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;
/** Lookup id alphabet: lowercase base32 (no `_`, so the token splits unambiguously). 10 chars = 50 bits. */
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
export const TOKEN_ID_LENGTH = 10;
const API_TOKEN_RE = /^ght_([a-z2-7]{10})_([A-Za-z0-9_-]{43})$/;

export function newSecret(random: RandomBytes): string {
  return random(SECRET_BYTES).toString('base64url');
}

/** A 10-char token lookup id; uniform because 256 is a multiple of 32. */
export function newTokenId(random: RandomBytes): string {
  const bytes = random(TOKEN_ID_LENGTH);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b & 31];
  return id;
}

export function formatApiToken(id: string, secret: string): string {
  return `ght_${id}_${secret}`;
}

/** Split an API token into id and secret; null when it is not one (wrong shape, length or alphabet). */
export function parseApiToken(text: string): { id: string; secret: string } | null {
  const m = API_TOKEN_RE.exec(text);
  if (!m?.[1] || !m[2]) return null;
  return { id: m[1], secret: m[2] };
}

/** True when `text` has the shape of a session id or one-time token (cheap rejection before any store read). */
export function isSecretShaped(text: string): boolean {
  return SECRET_RE.test(text);
}

export function sha256HexOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Constant-time equality of two strings (length differences return false without comparing contents). */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
