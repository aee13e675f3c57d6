/**
 * The console's hot-read cache (control-chain §12: "≤ 1 s in-process caches invalidated by WS events") on the real
 * stack: dynalite, fauxqs and the real Redis feed. The cache's clock is frozen, so an entry can only go away by
 * invalidation: a job submitted, a config revision written or an audit entry appended elsewhere (straight through the
 * services, as a worker or the CLI would) reaches the API through the warm-path event; this app's own writes
 * invalidate at once without any feed; a logout ends the session at once despite the credential cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HotCache } from '#shared/domain/control/hot-cache.ts';
import { ulidGen } from '#shared/domain/ids.ts';
import { silentLogger } from '#shared/log.ts';
import { systemCaller } from '#shared/services/auth-service.ts';
import type { JobListResult } from '#shared/services/job-service.ts';
import { createNodeRealtime, type NodeRealtime } from '#web/realtime/node.ts';
import { waitFor } from '../support/stack.ts';
import { type BrowserSession, WebTestStack } from './support.ts';

const frozen = { nowMs: () => 1_800_000_000_000 };
const system = () => systemCaller('system', 'hot-reads-test', ulidGen.next());

describe('hot reads invalidated by warm-path events', () => {
  let web: WebTestStack;
  let realtime: NodeRealtime;
  let admin: BrowserSession;

  beforeAll(async () => {
    web = await WebTestStack.create({
      hot: new HotCache({ ttlMs: 1000, clock: frozen }),
      realtime: (auth, stack, hot) => {
        realtime = createNodeRealtime({ config: stack.config, auth, hot, log: silentLogger() });
        return realtime.deps;
      },
    });
    admin = await web.login(await web.createUser('admin'));
    await waitFor(async () => realtime.feed.current().up, 10_000, 'realtime feed subscribed');
    await waitFor(async () => !web.stack.rt.warm.status().degraded, 10_000, 'warm path up');
  }, 60_000);

  afterAll(async () => {
    await realtime?.close();
    await web?.close();
  });

  const getJson = async <T>(path: string): Promise<T> => {
    const res = await web.request(path, { headers: { cookie: admin.cookie } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };

  it('a job submitted by another writer shows in the cached list once its event arrives', async () => {
    const before = await getJson<JobListResult>('/api/jobs?limit=50');
    const { job } = await web.stack.rt.jobs.submit(
      { kind: 'system.sleep', params: { seconds: 1 } },
      { actor: { actor: 'hot-reads-test', role: 'operator' }, requestId: ulidGen.next(), actorType: 'system' },
    );
    expect(before.items.some((j) => j.job_id === job.job_id)).toBe(false);
    await waitFor(
      async () => (await getJson<JobListResult>('/api/jobs?limit=50')).items.some((j) => j.job_id === job.job_id),
      5_000,
      'job list shows the new job',
    );
    expect(web.hot.stats().invalidations).toBeGreaterThan(0);
  });

  it('a config revision written elsewhere shows in the cached effective view', async () => {
    const before = await getJson<{ revision: number }>('/api/config/effective');
    const r = await web.stack.rt.configService.set(system(), {
      values: { GHTRADER_SLO_QUEUE_WARN: 70 },
      reason: 'hot-reads test',
    });
    expect(r.revision).toBeGreaterThan(before.revision);
    await waitFor(
      async () => (await getJson<{ revision: number }>('/api/config/effective')).revision === r.revision,
      5_000,
      'effective view at the new revision',
    );
  });

  it('an audit entry appended elsewhere shows in the cached audit list', async () => {
    const first = await getJson<{ items: { audit_id: string }[] }>('/api/audit?limit=5');
    const entry = await web.stack.rt.audit.append({
      actor: { type: 'system', id: 'hot-reads-test', name: 'hot-reads-test' },
      role: 'admin',
      ip: null,
      user_agent: null,
      request_id: null,
      action: 'explorer.query',
      target: 'hot-reads:1',
      outcome: 'ok',
      reason: null,
      before: null,
      after: null,
    });
    expect(first.items.some((e) => e.audit_id === entry.audit_id)).toBe(false);
    await waitFor(
      async () =>
        (await getJson<{ items: { audit_id: string }[] }>('/api/audit?limit=5')).items.some(
          (e) => e.audit_id === entry.audit_id,
        ),
      5_000,
      'audit list shows the new entry',
    );
  });
});

describe('hot reads without a feed', () => {
  let web: WebTestStack;

  beforeAll(async () => {
    web = await WebTestStack.create({ hot: new HotCache({ ttlMs: 1000, clock: frozen }) });
  }, 60_000);

  afterAll(async () => {
    await web?.close();
  });

  it("this app's own writes invalidate at once: submit, cancel and config set", async () => {
    const op = await web.login(await web.createUser('admin'));
    const list = async () => {
      const res = await web.request('/api/jobs?limit=50', { headers: { cookie: op.cookie } });
      return (await res.json()) as JobListResult;
    };
    expect((await list()).items).toEqual([]);
    const res = await web.send(
      'POST',
      '/api/jobs',
      { kind: 'system.sleep', params: { seconds: 30 } },
      web.browserHeaders(op),
    );
    expect(res.status).toBe(201);
    const { job } = (await res.json()) as { job: { job_id: string } };
    expect((await list()).items.map((j) => j.job_id)).toEqual([job.job_id]);
    const detail = async () =>
      (await (await web.request(`/api/jobs/${job.job_id}`, { headers: { cookie: op.cookie } })).json()) as {
        status: string;
      };
    expect((await detail()).status).toBe('queued');
    const cancel = await web.send('POST', `/api/jobs/${job.job_id}/cancel`, {}, web.browserHeaders(op));
    expect(cancel.status).toBe(202);
    expect((await detail()).status).toBe('cancelled');
    expect((await list()).items[0]?.status).toBe('cancelled');

    const effective = async () =>
      (await (await web.request('/api/config/effective', { headers: { cookie: op.cookie } })).json()) as {
        revision: number;
      };
    const head = (await effective()).revision;
    const set = await web.send(
      'POST',
      '/api/config/set',
      { values: { GHTRADER_SLO_QUEUE_WARN: 71 }, reason: 'own write' },
      web.browserHeaders(op),
    );
    expect(set.status).toBe(200);
    expect((await effective()).revision).toBe(head + 1);
  });

  it('a terminal job record is final: its record and progress are answered without another store read', async () => {
    // Arrange: a job cancelled while queued (no runner here), its record read once
    const op = await web.login(await web.createUser('operator'));
    const read = async <T>(path: string) =>
      (await (await web.request(path, { headers: { cookie: op.cookie } })).json()) as T;
    const res = await web.send(
      'POST',
      '/api/jobs',
      { kind: 'system.sleep', params: { seconds: 30 } },
      web.browserHeaders(op),
    );
    const { job } = (await res.json()) as { job: { job_id: string } };
    const queued = await read<{ status: string }>(`/api/jobs/${job.job_id}`);
    expect(queued.status).toBe('queued');
    expect((await web.send('POST', `/api/jobs/${job.job_id}/cancel`, {}, web.browserHeaders(op))).status).toBe(202);
    expect((await read<{ status: string }>(`/api/jobs/${job.job_id}`)).status).toBe('cancelled');
    const before = web.hot.stats();

    // Act: the job's own event tag invalidated (what a late warm-path event does), then both reads again
    web.hot.invalidate(`job:${job.job_id}`);
    const detail = await read<{ status: string }>(`/api/jobs/${job.job_id}`);
    const progress = await read<{ job_status: string }>(`/api/jobs/${job.job_id}/progress`);

    // Assert: both answered from the final record
    expect(detail.status).toBe('cancelled');
    expect(progress.job_status).toBe('cancelled');
    const after = web.hot.stats();
    expect(after.final_hits - before.final_hits).toBe(2);
    expect(after.misses).toBe(before.misses);
  });

  it('a logout ends the session at once although sessions are cached', async () => {
    const viewer = await web.login(await web.createUser('viewer'));
    const me = () => web.request('/api/auth/me', { headers: { cookie: viewer.cookie } });
    expect((await me()).status).toBe(200);
    expect((await me()).status).toBe(200);
    const out = await web.send('POST', '/api/auth/logout', {}, web.browserHeaders(viewer));
    expect(out.status).toBeLessThan(300);
    expect((await me()).status).toBe(401);
  });
});
