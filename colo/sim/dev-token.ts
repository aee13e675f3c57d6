/**
 * The simulator's dev token (market-protocol §2.1): a fixed, unsigned, JWT-shaped string
 * `base64url(header).base64url(payload).` whose claims grant everything the DIFF client checks (`futr`, `tq_dl`,
 * any account). The client decodes the payload without verifying a signature (§1.3), so none is needed.
 */

/** Far enough that no test or demo ever sees it expire: 2100-01-01T00:00:00Z, in epoch seconds. */
export const DEV_TOKEN_EXP_S = 4_102_444_800;

export const DEV_TOKEN_CLAIMS = {
  sub: 'ghsim-user',
  grants: { features: ['futr', 'lmt_idx', 'tq_dl'], accounts: ['*'] },
  exp: DEV_TOKEN_EXP_S,
} as const;

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The default dev token, derived from the claims above (stable across processes and versions). */
export function defaultDevToken(): string {
  return `${base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url(JSON.stringify(DEV_TOKEN_CLAIMS))}.`;
}

/** Decode the payload of a JWT-shaped token without checking any signature; `null` when it is not JWT-shaped. */
export function decodeTokenPayload(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    // Not base64url JSON: the caller treats the token as not JWT-shaped.
    return null;
  }
}

/** `Authorization` header value check: exactly `Bearer <token>` (scheme case-insensitive, as RFC 6750 allows). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] === token;
}
