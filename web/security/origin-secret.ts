/**
 * The origin secret (hosted console): CloudFront adds `x-ghtrader-origin: <secret>` to every request it forwards;
 * the HTTP app and the WebSocket authorizer refuse a request without it, so nobody can call the API Gateway endpoints
 * around the distribution (where `X-Forwarded-For`, and with it the per-ip login limit, would be the caller's choice).
 * No secret configured (the local stack, tests) -> every request passes.
 */
import { constantTimeEqual } from '#shared/domain/control/auth-secrets.ts';

export { ORIGIN_SECRET_HEADER } from '#shared/infra/aws/definitions.ts';

/** True when no secret is configured, or the header carries it (compared in constant time). */
export function originSecretOk(secret: string | undefined, offered: string | null | undefined): boolean {
  if (secret === undefined) return true;
  return typeof offered === 'string' && constantTimeEqual(offered, secret);
}
