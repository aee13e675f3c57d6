import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members dropped. Two values that mean the same
 * thing serialise to the same string, which is what dedupe keys and config hashes are built from.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortDeep(value));
}

function sortDeep(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortDeep(v);
    }
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** First `hexChars` hex digits of SHA-256 over the UTF-8 bytes of `text`. */
export function sha256Hex(text: string, hexChars = 64): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, hexChars);
}
