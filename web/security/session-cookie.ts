/**
 * The console session cookie: `__Host-ghtrader_session` over TLS (directly or via the trusted proxy), else
 * `ghtrader_session`; always `HttpOnly; SameSite=Strict; Path=/`, `Secure` with TLS. No `Max-Age`: it is a browser
 * session cookie, and the server enforces the idle and absolute expiry itself. Only the cookie matching the
 * request's scheme is read, so a plain-http cookie can never stand in for the `__Host-` one.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { CookieOptions } from 'hono/utils/cookie';

export const SESSION_COOKIE = 'ghtrader_session';
export const SECURE_SESSION_COOKIE = '__Host-ghtrader_session';

export function sessionCookieName(tls: boolean): string {
  return tls ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

export function sessionCookieOptions(tls: boolean): CookieOptions & { secure: boolean; path: '/' } {
  return { httpOnly: true, sameSite: 'Strict', path: '/', secure: tls };
}

export function readSessionCookie(c: Context, tls: boolean): string | undefined {
  return getCookie(c, sessionCookieName(tls));
}

export function writeSessionCookie(c: Context, tls: boolean, sessionId: string): void {
  // hono checks the `__Host-` constraints (Secure, Path=/, no Domain) when it serialises.
  setCookie(c, sessionCookieName(tls), sessionId, sessionCookieOptions(tls) as CookieOptions & { secure: true });
}

export function clearSessionCookie(c: Context, tls: boolean): void {
  deleteCookie(c, sessionCookieName(tls), sessionCookieOptions(tls) as CookieOptions & { secure: true });
}
