import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient, type RunningStack, startUp, until } from './support/ghtrader-process.ts';
import { freePort, PrivateRedis } from './support/redis-server.ts';

interface Status {
  components: Record<string, { state: string; text: string }>;
  warm_path_degraded: boolean;
  warm_path_reasons: string[];
}

describe('ghtrader up with its Redis going away and coming back', () => {
  let home: string;
  let redis: PrivateRedis;
  let stack: RunningStack;
  let admin: ConsoleClient;

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ghtrader-e2e-redis-'));
    redis = new PrivateRedis(await freePort());
    await redis.start();
    stack = await startUp(home, ['--no-demo'], 20_000, { REDIS_URL: redis.url });
    admin = new ConsoleClient(stack.banner.url);
    if (!stack.banner.login_url) throw new Error('no login url');
    await admin.loginOneTime(stack.banner.login_url);
  });

  afterAll(async () => {
    if (stack?.child.exitCode === null) await stack.stop();
    await redis?.stop();
    await rm(home, { recursive: true, force: true });
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

    // Assess
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
