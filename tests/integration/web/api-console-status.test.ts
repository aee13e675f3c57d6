/**
 * `GET /api/trading/console/status` (control-chain §6.3) over real stacks wired as `ghtrader up` wires them: an unknown
 * profile is 200 `not_initialized` and healthy; a desired gateway plus a KILLED risk-kill record (written through the
 * real store, as the gateway will) turns the payload `error` with the reason, and `var` filters the symbols; a bad
 * query is 400, no credentials 401, no service 503; with Redis unreachable the payload is `warn` with
 * `console:redis_unavailable`. The trading processes' own state is `state_source: "none"` and null, never invented.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulidGen } from '#shared/domain/ids.ts';
import { applyKill } from '#shared/domain/trading/risk-kill.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import type { ConsoleStatus } from '#shared/services/console-status.ts';
import { tradingControl } from '#shared/services/trading-control.ts';
import { freePort } from '../redis/redis-server.ts';
import { ORIGIN, WebTestStack } from './support.ts';

let web: WebTestStack;
let app: ReturnType<WebTestStack['appWith']>;
let viewer: Record<string, string>;

function wired(w: WebTestStack) {
  const { rt } = w.stack;
  return w.appWith({
    supervision: { desired: rt.desired, telemetry: rt.supervisorTelemetry },
    commands: tradingControl(rt).commands,
    consoleStatus: tradingControl(rt).consoleStatus,
  });
}

async function status(a: typeof app, query: string, headers = viewer): Promise<{ code: number; body: ConsoleStatus }> {
  const res = await a.request(`${ORIGIN}/api/trading/console/status${query}`, { headers });
  return { code: res.status, body: (await res.json()) as ConsoleStatus };
}

beforeAll(async () => {
  web = await WebTestStack.create();
  await web.stack.rt.warm.settle(2_000);
  app = wired(web);
  viewer = web.bearer(await web.token(await web.createUser('viewer')));
});
afterAll(async () => {
  await web?.close();
});

describe('GET /api/trading/console/status', () => {
  it('answers an unknown profile with not_initialized components and a healthy payload', async () => {
    // Act
    const { code, body } = await status(app, '?account_profile=Nobody%20Here');

    // Assess
    expect(code).toBe(200);
    expect(body).toMatchObject({
      account_profile: 'nobody_here',
      // Only the gateway's host knows; nothing has reported.
      live_enabled: null,
      state: 'ok',
      text: 'healthy',
      error: '',
      stale: false,
      updated_at: null,
      warm_path_degraded: false,
      warm_path_reasons: [],
      risk_kill_active: false,
      risk_kill_reason: '',
      state_source: 'none',
      gateway: { component_status: 'not_initialized', desired_mode: null, positions: null, state_revision: null },
      strategy: { component_status: 'not_initialized', model_name: null },
      supervisor: { gateway: { state: 'not_initialized', restarts: 0, backoff_until: null } },
    });
    expect(body.generated_at).toMatch(/Z$/);
  });

  it('turns error with the reason while the durable risk kill is active, and filters symbols by variety', async () => {
    // Prepare: a desired gateway on a host no supervisor runs, and a kill as the gateway would record it.
    const { rt } = web.stack;
    const cli = systemCaller('cli', 'cli:test@host', ulidGen.next());
    await rt.desired.write(cli, 'gateway', {
      account_profile: 'desk_a',
      desired: { mode: 'sim', symbols: ['KQ.m@SHFE.cu', 'SHFE.au2612'], host_id: 'no-such-host' },
    });
    const killed = applyKill('desk_a', null, {
      trigger: 'max_daily_loss',
      reason: 'daily loss 51000 > 50000',
      at_ns: BigInt(Date.UTC(2026, 10, 20, 1, 0, 0)) * 1_000_000n,
      by: 'gateway',
      fence: 1,
    });
    if (!killed) throw new Error('applyKill returned null for a fresh profile');
    expect(await tradingControl(rt).riskKillStore.put(killed)).toBe(true);

    // Act
    const all = await status(app, '?account_profile=desk_a');
    const cu = await status(app, '?account_profile=desk_a&var=cu');

    // Assess
    expect(all.body).toMatchObject({
      state: 'error',
      error: 'risk_kill_active',
      risk_kill_active: true,
      risk_kill_reason: 'daily loss 51000 > 50000',
      risk_kill: { trigger: 'max_daily_loss', killed_at: '2026-11-20T01:00:00.000Z' },
      gateway: { desired_mode: 'sim', symbols: ['KQ.m@SHFE.cu', 'SHFE.au2612'] },
    });
    expect(all.body.text).toContain('risk kill active');
    expect(all.body.updated_at).not.toBeNull();
    expect(cu.body.var).toBe('cu');
    expect(cu.body.gateway.symbols).toEqual(['KQ.m@SHFE.cu']);
  });

  it('refuses a bad query (400), no credentials (401), and answers 503 without the service', async () => {
    // Act
    const badVar = await app.request(`${ORIGIN}/api/trading/console/status?var=ni`, { headers: viewer });
    const badProfile = await app.request(`${ORIGIN}/api/trading/console/status?account_profile=${'x'.repeat(40)}`, {
      headers: viewer,
    });
    const anon = await app.request(`${ORIGIN}/api/trading/console/status`);
    const unwired = await web
      .appWith({ consoleStatus: undefined })
      .request(`${ORIGIN}/api/trading/console/status`, { headers: viewer });

    // Assess
    expect(badVar.status).toBe(400);
    expect(((await badVar.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    expect(badProfile.status).toBe(400);
    expect(anon.status).toBe(401);
    expect(unwired.status).toBe(503);
  });
});

describe('GET /api/trading/console/status with Redis unreachable', () => {
  let dead: WebTestStack;
  afterAll(async () => {
    await dead?.close();
  });

  it('is warn with console:redis_unavailable', async () => {
    // Prepare
    dead = await WebTestStack.create({ env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}` } });
    await dead.stack.rt.warm.settle(500);
    const h = dead.bearer(await dead.token(await dead.createUser('viewer')));

    // Act
    const { code, body } = await status(wired(dead), '', h);

    // Assess
    expect(code).toBe(200);
    expect(body).toMatchObject({
      account_profile: 'default',
      state: 'warn',
      text: 'warm path degraded',
      warm_path_degraded: true,
      warm_path_reasons: ['console:redis_unavailable'],
    });
  });
});
