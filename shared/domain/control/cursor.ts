/**
 * Opaque list cursors: base64url of `{k: store key, f: filter hash}` plus an HMAC-SHA256 tag, so a client can
 * neither forge a position nor reuse a cursor with other filters. Tampering -> `InvalidCursorError` (400).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DependencyUnavailableError, InvalidCursorError } from '../../errors/control.ts';
import { canonicalJson, sha256Hex } from './canonical-json.ts';

export function filterHash(filters: unknown): string {
  return sha256Hex(canonicalJson(filters), 16);
}

function tag(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

export function encodeCursor(secret: string, key: Record<string, unknown>, filters: unknown): string {
  const body = Buffer.from(JSON.stringify({ k: key, f: filterHash(filters) })).toString('base64url');
  return `${body}.${tag(secret, body)}`;
}

export function decodeCursor(secret: string, cursor: string, filters: unknown): Record<string, unknown> {
  const [body, mac, extra] = cursor.split('.');
  if (!body || !mac || extra !== undefined) throw new InvalidCursorError('malformed');
  const want = Buffer.from(tag(secret, body));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !timingSafeEqual(want, got)) throw new InvalidCursorError('signature mismatch');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch (err) {
    throw new InvalidCursorError(`undecodable body (${(err as Error).message})`);
  }
  const p = parsed as { k?: unknown; f?: unknown };
  if (typeof p.k !== 'object' || p.k === null || typeof p.f !== 'string') throw new InvalidCursorError('bad shape');
  if (p.f !== filterHash(filters)) throw new InvalidCursorError('cursor was issued for other filters');
  return p.k as Record<string, unknown>;
}

/**
 * The string `field` of a signed cursor's key (a list's last position), or null without a cursor. No secret to check
 * it with -> 503 `dependency_unavailable`; a cursor of another list or filters -> 400 `invalid_cursor`.
 */
export function cursorStringField(
  secret: string | undefined,
  cursor: string | undefined,
  filters: unknown,
  field: string,
): string | null {
  if (cursor === undefined) return null;
  if (!secret) throw new DependencyUnavailableError('list cursor secret (GHTRADER_CURSOR_SECRET)');
  const value = decodeCursor(secret, cursor, filters)[field];
  if (typeof value !== 'string') throw new InvalidCursorError(`not a cursor of this list (no ${field})`);
  return value;
}
