import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleClient, type RunningStack, startLoggedIn, stopSuite, until } from './support/ghtrader-process.ts';
import { freePort, PrivateRedis } from './support/redis-server.ts';

interface Status {
  components: Record<string, { state: string; text: string }>;
  warm_path_degraded: boolean;
  warm_path_reasons: string[];
}

/**
 * `ghtrader up` with a private Redis stopped and restarted (control-chain §13 item 22): status says the warm path is
 * degraded, jobs still run, a console kill still lands in DynamoDB (`delivery: "durable_only"`), and after recovery
 * commands take the Redis stream again.
 */
describe('ghtrader up with its Redis going away and coming back', () => {
  let home: string;
  let redis: PrivateRedis;
  let stack: RunningStack;
  let admin: ConsoleClient;

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    ({ home, stack, admin } = await startLoggedIn('redis', ['--no-demo'], 20_000, { REDIS_URL: redis.url }));
  });

  afterAll(async () => {
    await stopSuite(stack, home);
    await redis?.stop();
  });

  const status = async () => (await admin.request('GET', '/api/status')).json as Status;

  it('says warm path degraded while Redis is down, keeps running jobs, and recovers when it returns', async () => {
    // Prepare
    expect((await status()).warm_path_degraded).toBe(false);

    // Act: Redis goes away.
    await redis.stop();
    const degraded = await until(
      async () => {
        const s = await status();
        return s.warm_path_degraded ? s : null;
      },
      10_000,
      'degraded status',
    );
    // A kill from the console still lands: DynamoDB only (the gateway polls it), said so in the answer (§13 item 22).
    const kill = await admin.request('POST', '/api/trading/risk-kill', {
      account_profile: 'default',
      action: 'kill',
      reason: 'redis outage drill',
    });
    const consoleStatus = (await admin.request('GET', '/api/trading/console/status')).json as {
      state: string;
      warm_path_reasons: string[];
    };
    const submitted = await admin.request('POST', '/api/jobs', { kind: 'system.selftest', params: {} });
    const id = (submitted.json as { job: { job_id: string } }).job.job_id;
    const done = await until(
      async () => {
        const j = (await admin.request('GET', `/api/jobs/${id}`)).json as {
          status: string;
          result: { degraded: string[] } | null;
        };
        return ['succeeded', 'failed'].includes(j.status) ? j : null;
      },
      20_000,
      'selftest without Redis',
    );

    // Act: Redis comes back on the same address.
    await redis.start();
    const recovered = await until(
      async () => {
        const s = await status();
        return s.warm_path_degraded ? null : s;
      },
      10_000,
      'recovery',
    );

    // … and once it is back, a command takes the stream again.
    const afterwards = await until(
      async () => {
        const r = await admin.request('POST', '/api/gateway/command', {
          account_profile: 'default',
          type: 'cancel_all',
        });
        return (r.json as { delivery: string }).delivery === 'durable_and_stream' ? r : null;
      },
      10_000,
      'a command on the stream after recovery',
    );
    const history = (await admin.request('GET', '/api/gateway/commands?account_profile=default')).json as {
      items: { command_id: string; type: string }[];
    };

    // Assess
    expect(kill.status, kill.text).toBe(202);
    expect(kill.json).toMatchObject({ type: 'kill', delivery: 'durable_only' });
    expect(consoleStatus.state).toBe('warn');
    expect(consoleStatus.warm_path_reasons[0]).toMatch(/^console:redis_(unavailable|ping_failed)$/);
    expect(afterwards.status).toBe(202);
    expect(history.items.map((i) => i.type).slice(-1)).toEqual(['kill']);
    expect(history.items.map((i) => i.command_id)).toContain((kill.json as { command_id: string }).command_id);
    expect(degraded.components.redis?.state).toBe('warn');
    expect(degraded.components.redis?.text).toMatch(/^warm path degraded/);
    expect(degraded.warm_path_reasons[0]).toMatch(/^console:redis_(unavailable|ping_failed)$/);
    expect(degraded.components.dynamo?.state).toBe('ok');
    expect(degraded.components.sqs?.state).toBe('ok');
    expect(submitted.status).toBe(201);
    expect(done.status).toBe('succeeded');
    expect(done.result?.degraded).toEqual(['redis']);
    expect(recovered.components.redis?.state).toBe('ok');
  });
});
