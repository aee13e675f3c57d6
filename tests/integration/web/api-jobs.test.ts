import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoUtc } from '#shared/domain/time.ts';
import { errorOf, type TestUser, WebTestStack } from './support.ts';

let web: WebTestStack;
let operator: TestUser;
let viewerToken: string;
let operatorToken: string;

beforeAll(async () => {
  web = await WebTestStack.create();
  operator = await web.createUser('operator');
  operatorToken = await web.token(operator);
  viewerToken = await web.token(await web.createUser('viewer'));
});

afterAll(async () => {
  await web?.close();
});

const queuedCount = async () => (await web.stack.rt.jobs.counts()).queued;

describe('POST /api/jobs', () => {
  it('submits for an operator (201) and dedupes an identical active job (200)', async () => {
    // Act
    const first = await web.send(
      'POST',
      '/api/jobs',
      { kind: 'system.sleep', params: { seconds: 5 } },
      web.bearer(operatorToken),
    );
    const second = await web.send(
      'POST',
      '/api/jobs',
      { kind: 'system.sleep', params: { seconds: 5 } },
      web.bearer(operatorToken),
    );

    // Assess
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    const a = (await first.json()) as { job: { job_id: string; created_by: { actor: string } }; deduped: boolean };
    const b = (await second.json()) as { job: { job_id: string }; deduped: boolean };
    expect(a.deduped).toBe(false);
    expect(b).toMatchObject({ deduped: true, job: { job_id: a.job.job_id } });
    expect(a.job.created_by.actor).toBe(operator.username);
    // The record keeps the config revision it was submitted under (control-chain §4.1), shown on its page.
    const head = await web.stack.rt.configService.head();
    expect(a.job).toMatchObject({ config_revision: head.revision, config_hash: head.config_hash });
    const page = await (await web.request(`/v/cu/jobs/${a.job.job_id}`, { headers: web.bearer(operatorToken) })).text();
    expect(page).toContain(
      `<dd id="job-config-revision">${head.revision} (hash <code>${head.config_hash}</code>)</dd>`,
    );
  });

  it('refuses a viewer token with 403 forbidden (required_role operator) and audits the denial', async () => {
    // Act
    const res = await web.send('POST', '/api/jobs', { kind: 'system.selftest', params: {} }, web.bearer(viewerToken));

    // Assess
    expect(res.status).toBe(403);
    const err = await errorOf(res);
    expect(err.code).toBe('forbidden');
    expect(err.details.required_role).toBe('operator');
    const entries = await web.stack.rt.audit.listDay(isoUtc(Date.now()).slice(0, 10), 100);
    expect(entries.some((e) => e.action === 'job.submit' && e.outcome === 'denied' && e.role === 'viewer')).toBe(true);
  });

  it.each([
    ['malformed JSON', '{"kind": "system.sleep",', undefined],
    [
      'params failing the kind schema',
      JSON.stringify({ kind: 'system.sleep', params: { seconds: 'ten' } }),
      ['params', 'seconds'],
    ],
    [
      'an argv field',
      JSON.stringify({ kind: 'system.sleep', params: { seconds: 3 }, argv: ['rm', '-rf', '/'] }),
      undefined,
    ],
    ['a command field', JSON.stringify({ kind: 'system.selftest', command: 'sh' }), undefined],
    ['an unknown kind', JSON.stringify({ kind: 'shell.exec', params: {} }), ['kind']],
  ])('answers 400 validation_failed with zod issues for %s and creates no record', async (_what, body, path) => {
    // Prepare
    const before = await queuedCount();

    // Act
    const res = await web.request('/api/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...web.bearer(operatorToken) },
      body,
    });

    // Assess
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('validation_failed');
    expect(Array.isArray(err.details.issues)).toBe(true);
    if (path) expect((err.details.issues as { path: unknown[] }[])[0]?.path).toEqual(path);
    expect(await queuedCount()).toBe(before);
  });
});

describe('GET /api/jobs', () => {
  it('clamps limit silently: 999999 -> 500, 0 -> 1; a non-numeric limit is 400', async () => {
    // Act
    const big = await web.request('/api/jobs?limit=999999', { headers: web.bearer(viewerToken) });
    const zero = await web.request('/api/jobs?limit=0', { headers: web.bearer(viewerToken) });
    const abc = await web.request('/api/jobs?limit=abc', { headers: web.bearer(viewerToken) });

    // Assess
    expect(((await big.json()) as { limit: number }).limit).toBe(500);
    expect(((await zero.json()) as { limit: number }).limit).toBe(1);
    expect(abc.status).toBe(400);
    expect((await errorOf(abc)).code).toBe('validation_failed');
  });

  it('describes the list with the status payload contract: ok with jobs, empty when nothing matches', async () => {
    // Prepare
    await web.send('POST', '/api/jobs', { kind: 'system.sleep', params: { seconds: 13 } }, web.bearer(operatorToken));

    // Act
    const some = (await (await web.request('/api/jobs', { headers: web.bearer(viewerToken) })).json()) as Record<
      string,
      unknown
    >;
    const none = (await (
      await web.request('/api/jobs?kind=data.validate&var=ag', { headers: web.bearer(viewerToken) })
    ).json()) as Record<string, unknown>;

    // Assess
    expect(some).toMatchObject({ state: 'ok', error: '', stale: false });
    expect(some.text).toMatch(/^\d+ jobs on this page; \d+ running and \d+ queued in all$/);
    expect(some.updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(none).toMatchObject({ state: 'empty', text: 'no job matches', error: '', stale: false, items: [] });
  });

  it('pages with a signed cursor and answers 400 invalid_cursor when it is tampered with', async () => {
    // Prepare
    for (const seconds of [11, 12]) {
      await web.send('POST', '/api/jobs', { kind: 'system.sleep', params: { seconds } }, web.bearer(operatorToken));
    }
    const page1 = (await (await web.request('/api/jobs?limit=1', { headers: web.bearer(viewerToken) })).json()) as {
      items: { job_id: string }[];
      next_cursor: string;
      counts: { queued: number };
    };
    const [body, mac] = page1.next_cursor.split('.');
    const tampered = `${body}.${mac?.startsWith('A') ? 'B' : 'A'}${mac?.slice(1)}`;

    // Act
    const page2 = await web.request(`/api/jobs?limit=1&cursor=${encodeURIComponent(page1.next_cursor)}`, {
      headers: web.bearer(viewerToken),
    });
    const bad = await web.request(`/api/jobs?limit=1&cursor=${encodeURIComponent(tampered)}`, {
      headers: web.bearer(viewerToken),
    });

    // Assess
    expect(page1.items).toHaveLength(1);
    expect(page1.counts.queued).toBeGreaterThanOrEqual(2);
    expect(page2.status).toBe(200);
    const next = (await page2.json()) as { items: { job_id: string }[] };
    expect(next.items[0]?.job_id).not.toBe(page1.items[0]?.job_id);
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe('invalid_cursor');
  });

  it('lists kinds with their JSON Schema', async () => {
    // Act
    const res = await web.request('/api/jobs/kinds', { headers: web.bearer(viewerToken) });

    // Assess
    const items = ((await res.json()) as { items: { kind: string; params_schema: unknown; submittable: boolean }[] })
      .items;
    expect(items.find((k) => k.kind === 'system.sleep')).toMatchObject({
      submittable: true,
      params_schema: expect.any(Object),
    });
  });
});

describe('job record, progress and cancel', () => {
  it('reads a job and its progress, cancels it (202) and refuses a second cancel (409)', async () => {
    // Prepare
    const submitted = await web.send(
      'POST',
      '/api/jobs',
      { kind: 'system.sleep', params: { seconds: 33 } },
      web.bearer(operatorToken),
    );
    const id = ((await submitted.json()) as { job: { job_id: string } }).job.job_id;

    // Act
    const record = await web.request(`/api/jobs/${id}`, { headers: web.bearer(viewerToken) });
    const progress = await web.request(`/api/jobs/${id}/progress`, { headers: web.bearer(viewerToken) });
    const viewerCancel = await web.send('POST', `/api/jobs/${id}/cancel`, {}, web.bearer(viewerToken));
    const cancel = await web.send('POST', `/api/jobs/${id}/cancel`, { reason: 'test' }, web.bearer(operatorToken));
    const again = await web.send('POST', `/api/jobs/${id}/cancel`, {}, web.bearer(operatorToken));

    // Assess
    expect(record.status).toBe(200);
    expect(((await record.json()) as { attempts: unknown[] }).attempts).toEqual([]);
    expect(await progress.json()).toMatchObject({ job_status: 'queued', available: false, stale: false });
    expect(viewerCancel.status).toBe(403);
    expect(cancel.status).toBe(202);
    expect(((await cancel.json()) as { job: { status: string } }).job.status).toBe('cancelled');
    expect(again.status).toBe(409);
    expect((await errorOf(again)).code).toBe('job_not_cancellable');
  });

  it('answers 404 not_found for an unknown job and for an id that is not a ULID', async () => {
    // Act
    const unknown = await web.request('/api/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV', { headers: web.bearer(viewerToken) });
    const garbage = await web.request(`/api/jobs/${'x'.repeat(3000)}`, { headers: web.bearer(viewerToken) });

    // Assess
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe('not_found');
    expect(garbage.status).toBe(404);
  });
});

describe('GET /api/status', () => {
  it('answers the status snapshot to a viewer', async () => {
    // Act
    const res = await web.request('/api/status', { headers: web.bearer(viewerToken) });

    // Assess
    expect(res.status).toBe(200);
    const s = (await res.json()) as {
      state: string;
      components: Record<string, { state: string; text: string }>;
      warm_path_degraded: boolean;
      config_revision: number | null;
    };
    expect(Object.keys(s.components).sort()).toEqual([
      'broadcaster',
      'dynamo',
      'redis',
      'runner',
      'sqs',
      'supervisor',
      'tickstore',
    ]);
    expect(s.components.dynamo?.state).toBe('ok');
    expect(typeof s.warm_path_degraded).toBe('boolean');
    // This stack runs no tick store, supervisor or hub: each says so (`empty`) and none colours the overall state.
    expect(s.components.tickstore).toMatchObject({ state: 'empty', text: 'no tick store in this process' });
    expect(s.components.supervisor?.state).toBe('empty');
    expect(s.components.broadcaster?.state).toBe('empty');
    expect(s.state).not.toBe('empty');
    expect(s.config_revision).toBe((await web.stack.rt.configService.head()).revision);
  });
});
