/**
 * Where a request came from, as far as we may believe it (control-chain §2). Pure functions over header values.
 *
 * - Client ip: the socket address, or — when `GHTRADER_TRUSTED_PROXY_HOPS` = n > 0 — the n-th `X-Forwarded-For`
 *   entry from the right (each trusted proxy appends the address it saw; anything further left is client-supplied).
 * - TLS: the request URL's scheme, or with trusted proxies the matching `X-Forwarded-Proto` entry.
 * - Console origin: `<scheme>://<host>` from the request's `Host` (or, behind trusted proxies, `X-Forwarded-Host`).
 *   A browser cannot forge `Host` for a request to another site, and the session cookie is host-only, so a request
 *   that carries our cookie names our host.
 */

export interface ForwardingHeaders {
  /** The request URL as the runtime built it (scheme reflects direct TLS). */
  url: string;
  host: string | null;
  forwardedFor: string | null;
  forwardedProto: string | null;
  forwardedHost: string | null;
}

function hopEntry(header: string | null, hops: number): string | null {
  if (!header || hops <= 0) return null;
  const parts = header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  return parts[parts.length - hops] ?? null;
}

/** Client ip per the trusted-hop rule; null when nothing is known (no socket, e.g. `app.request()`). */
export function clientIp(
  socketAddress: string | null,
  forwardedFor: string | null,
  trustedHops: number,
): string | null {
  if (trustedHops > 0) {
    const hop = hopEntry(forwardedFor, trustedHops);
    if (hop) return hop;
  }
  return socketAddress;
}

/** True when the request reached us over TLS, directly or through a trusted proxy. */
export function isTls(h: ForwardingHeaders, trustedHops: number): boolean {
  if (new URL(h.url).protocol === 'https:') return true;
  const proto =
    hopEntry(h.forwardedProto, trustedHops) ?? (trustedHops > 0 ? h.forwardedProto?.split(',')[0]?.trim() : null);
  return proto?.toLowerCase() === 'https';
}

/** The console's own origin for this request, e.g. `http://127.0.0.1:8000`. */
export function consoleOrigin(h: ForwardingHeaders, trustedHops: number): string {
  const scheme = isTls(h, trustedHops) ? 'https' : 'http';
  const forwarded =
    trustedHops > 0 ? (hopEntry(h.forwardedHost, trustedHops) ?? h.forwardedHost?.split(',')[0]?.trim()) : null;
  const host = forwarded || h.host || new URL(h.url).host;
  return `${scheme}://${host}`.toLowerCase();
}

export type OriginVerdict = { ok: true } | { ok: false; reason: string };

/**
 * A state-changing browser request must come from the console itself: `Origin` equal to the console origin, or —
 * when no `Origin` is sent — `Sec-Fetch-Site: same-origin`. An `Origin` that disagrees always fails.
 */
export function checkOrigin(origin: string | null, secFetchSite: string | null, expected: string): OriginVerdict {
  if (origin !== null) {
    return origin.toLowerCase() === expected
      ? { ok: true }
      : { ok: false, reason: `origin ${JSON.stringify(origin)} is not ${expected}` };
  }
  if (secFetchSite?.toLowerCase() === 'same-origin') return { ok: true };
  return { ok: false, reason: 'no Origin header and Sec-Fetch-Site is not same-origin' };
}

/** A post-login return path: must be a same-site absolute path (`/x`), never `//host` or `/\host`. */
export function safeNextPath(next: string | null | undefined): string | null {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
  // Control characters (tab, CR, LF...) are stripped by URL parsers, which could turn `/\t/evil` into `//evil`.
  if (next.length > 2000 || [...next].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) return null;
  return next;
}
