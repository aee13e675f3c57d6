/** What a handler needs to know about the request's transport and caller, read once through these helpers. */
import type { Context } from 'hono';
import { UnauthenticatedError } from '#shared/errors/control.ts';
import type { AuthMeta, Principal } from '#shared/services/auth-service.ts';
import type { RequestContext } from '#shared/services/job-service.ts';
import type { WebEnv } from './env.ts';
import { clientIp, consoleOrigin, type ForwardingHeaders, isTls } from './security/request-origin.ts';

const USER_AGENT_MAX = 300;

export function forwardingHeaders(c: Context<WebEnv>): ForwardingHeaders {
  return {
    url: c.req.url,
    host: c.req.header('host') ?? null,
    forwardedFor: c.req.header('x-forwarded-for') ?? null,
    forwardedProto: c.req.header('x-forwarded-proto') ?? null,
    forwardedHost: c.req.header('x-forwarded-host') ?? null,
  };
}

function socketAddress(c: Context<WebEnv>): string | null {
  const env = c.env as WebEnv['Bindings'] | undefined;
  return (
    env?.incoming?.socket?.remoteAddress ??
    env?.requestContext?.http?.sourceIp ??
    env?.requestContext?.identity?.sourceIp ??
    null
  );
}

export function requestIp(c: Context<WebEnv>, trustedHops: number): string | null {
  return clientIp(socketAddress(c), c.req.header('x-forwarded-for') ?? null, trustedHops);
}

export function requestIsTls(c: Context<WebEnv>, trustedHops: number): boolean {
  return isTls(forwardingHeaders(c), trustedHops);
}

export function requestConsoleOrigin(c: Context<WebEnv>, trustedHops: number): string {
  return consoleOrigin(forwardingHeaders(c), trustedHops);
}

export function authMeta(c: Context<WebEnv>, trustedHops: number): AuthMeta {
  return {
    requestId: c.get('requestId'),
    ip: requestIp(c, trustedHops),
    userAgent: c.req.header('user-agent')?.slice(0, USER_AGENT_MAX) ?? null,
  };
}

/** The authenticated principal, or 401. */
export function principalOf(c: Context<WebEnv>): Principal {
  const p = c.get('principal');
  if (!p) throw new UnauthenticatedError();
  return p;
}

/** The job service's request context for the authenticated caller. */
export function jobRequestContext(c: Context<WebEnv>, trustedHops: number): RequestContext {
  const p = principalOf(c);
  const meta = authMeta(c, trustedHops);
  return {
    actor: { actor: p.username, role: p.role },
    actorId: p.via === 'token' ? (p.tokenId ?? p.userId) : p.userId,
    requestId: meta.requestId,
    ip: meta.ip,
    userAgent: meta.userAgent,
    actorType: p.via === 'token' ? 'token' : 'user',
  };
}
