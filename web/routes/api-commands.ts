/**
 * Operator commands to a gateway (control-chain §3.2, §6.1; trading-chain §7.3, §8), thin doors onto `CommandService`:
 *
 * - `POST /api/gateway/command` [operator] `{account_profile, type, params}` -> 202 `CommandIssued`
 *   (`{command_id, account_profile, type, issued_at, delivery, delivery_note}`);
 * - `POST /api/trading/risk-kill` [operator] `{account_profile, action (kill, reset), reason}` -> 202 `CommandIssued`
 *   (a `kill` or `reset_risk_kill` command; the gateway alone executes it and writes the risk-kill record);
 * - `GET /api/gateway/commands?account_profile&limit` [viewer] -> the profile's newest commands with the gateway's
 *   results where it reported them;
 * - `GET /api/trading/risk-kill?account_profile` [viewer] -> the durable risk-kill state (`RiskKillStatus`).
 *
 * Both writes are denied with an audited 403 under the action the command would have been audited under
 * (`risk_kill.activate`, `risk_kill.reset` or `gateway.command`, control-chain §9), so a viewer's refused reset shows
 * next to the operators' resets. Validation, the DynamoDB-then-Redis
 * delivery and the audit of accepted commands live in the service. Without the service (a process that wires none)
 * every route answers 503 `dependency_unavailable`.
 */
import { type Context, Hono } from 'hono';
import * as z from 'zod';
import { ProfileSchema } from '#shared/domain/control/desired.ts';
import { parseOrThrow } from '#shared/domain/control/validation.ts';
import { commandAuditAction, GATEWAY_COMMAND_TYPES, type GatewayCommandType } from '#shared/domain/trading/commands.ts';
import { DependencyUnavailableError, ValidationFailedError } from '#shared/errors/control.ts';
import { callerOf } from '#shared/services/auth-service.ts';
import type { CommandService } from '#shared/services/command-service.ts';
import type { AppDeps, WebEnv } from '../env.ts';
import { type AuditActionOf, requireRole } from '../middleware/require-role.ts';
import { readJson } from '../request-body.ts';
import { authMeta, principalOf } from '../request-info.ts';

/**
 * The audit action of a command write, accepted (by the service) or denied (here): `commandAuditAction` of the type
 * the body asks for. A body that does not name a known type (it is refused anyway) is audited as `gateway.command`.
 */
const COMMAND_ACTION: AuditActionOf = {
  actions: ['gateway.command', 'risk_kill.activate', 'risk_kill.reset'],
  of: async (c) => {
    const type = (await bodyOrNull(c))?.type;
    return isCommandType(type) ? commandAuditAction(type) : 'gateway.command';
  },
};

/** `POST /api/trading/risk-kill`: `reset` is `risk_kill.reset`; `kill` (or a body naming neither) `risk_kill.activate`. */
const RISK_KILL_ACTION: AuditActionOf = {
  actions: ['risk_kill.activate', 'risk_kill.reset'],
  of: async (c) => ((await bodyOrNull(c))?.action === 'reset' ? 'risk_kill.reset' : 'risk_kill.activate'),
};

/** The JSON object body, or null when it is empty, malformed or not an object (for a denial's audit action only). */
async function bodyOrNull(c: Context<WebEnv>): Promise<Record<string, unknown> | null> {
  try {
    const v = await readJson(c);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch (err) {
    if (err instanceof ValidationFailedError) return null;
    throw err;
  }
}

const isCommandType = (t: unknown): t is GatewayCommandType =>
  typeof t === 'string' && (GATEWAY_COMMAND_TYPES as readonly string[]).includes(t);

/** `GET /api/trading/risk-kill?account_profile` (absent -> `default`; canonicalised like every other door). */
const RiskKillQuerySchema = z.object({ account_profile: ProfileSchema.default('default') });

export function commandRoutes(deps: AppDeps): Hono<WebEnv> {
  const hops = deps.config.auth.trustedProxyHops;
  const app = new Hono<WebEnv>();
  const svc = (): CommandService => {
    if (!deps.commands) throw new DependencyUnavailableError('the command service (not wired in this process)');
    return deps.commands;
  };
  const caller = (c: Context<WebEnv>) => callerOf(principalOf(c), authMeta(c, hops));

  app.post('/gateway/command', requireRole(deps, 'operator', COMMAND_ACTION), async (c) =>
    c.json(await svc().issue(caller(c), await readJson(c)), 202),
  );

  app.post('/trading/risk-kill', requireRole(deps, 'operator', RISK_KILL_ACTION), async (c) =>
    c.json(await svc().riskKill(caller(c), await readJson(c)), 202),
  );

  app.get('/gateway/commands', requireRole(deps, 'viewer'), async (c) =>
    c.json(await svc().history(c.req.query()), 200, { 'cache-control': 'no-store' }),
  );

  app.get('/trading/risk-kill', requireRole(deps, 'viewer'), async (c) => {
    const s = svc();
    const q = parseOrThrow(RiskKillQuerySchema, c.req.query(), 'risk-kill query');
    return c.json(await s.riskKillStatus(q.account_profile), 200, { 'cache-control': 'no-store' });
  });

  return app;
}
