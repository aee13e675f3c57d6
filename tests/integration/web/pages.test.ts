import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, JobStatus } from '#shared/domain/control/jobs.ts';
import type { StatusSnapshot, StatusSource } from '#shared/domain/control/status.ts';
import { storedJob } from './job-fixtures.ts';
import { type BrowserSession, type TestUser, WebTestStack } from './support.ts';

let web: WebTestStack;
let operator: TestUser;
let opSession: BrowserSession;
let viewerSession: BrowserSession;
let jobId: string;

beforeAll(async () => {
  web = await WebTestStack.create();
  operator = await web.createUser('operator');
  opSession = await web.login(operator);
  viewerSession = await web.login(await web.createUser('viewer'));
  const res = await web.send(
    'POST',
    '/api/jobs',
    { kind: 'system.sleep', params: { seconds: 7 } },
    web.browserHeaders(opSession),
  );
  jobId = ((await res.json()) as { job: { job_id: string } }).job.job_id;
});

afterAll(async () => {
  await web?.close();
});

function pageData(html: string): Record<string, unknown> {
  const m = /<script type="application\/json" id="page-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m?.[1]) throw new Error('no page-data block');
  return JSON.parse(m[1]) as Record<string, unknown>;
}

describe('page routing', () => {
  it.each([
    ['/', '/v/cu/dashboard'],
    ['/jobs', '/v/cu/jobs'],
    ['/data', '/v/cu/data'],
    ['/config', '/v/cu/config'],
  ])('redirects %s with 303 to %s', async (path, location) => {
    // Act
    const res = await web.request(path);

    // Assess
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(location);
  });

  it('answers 404 for a variety other than cu, au, ag, signed in or not', async () => {
    // Act
    const anonymous = await web.request('/v/ni/dashboard');
    const signedIn = await web.request('/v/ni/dashboard', { headers: { cookie: opSession.cookie } });

    // Assess
    expect(anonymous.status).toBe(404);
    expect(signedIn.status).toBe(404);
    expect(signedIn.headers.get('content-type')).toContain('text/html');
  });

  it('redirects an unauthenticated page request to /login keeping the return path', async () => {
    // Act
    const res = await web.request('/v/au/jobs?status=running');

    // Assess
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/v/au/jobs?status=running')}`);
  });

  it('renders every workspace for every variety', async () => {
    for (const v of ['cu', 'au', 'ag']) {
      for (const section of ['dashboard', 'jobs', 'data', 'models', 'trading', 'config', 'system']) {
        // Act
        const res = await web.request(`/v/${v}/${section}`, { headers: { cookie: viewerSession.cookie } });

        // Assess
        expect(res.status, `/v/${v}/${section}`).toBe(200);
        const html = await res.text();
        expect(html).toContain('aria-current="page"');
        expect(html).toContain(`href="/v/${v === 'cu' ? 'au' : 'cu'}/${section}"`);
        expect(res.headers.get('server-timing')).toMatch(/^render;dur=/);
      }
    }
  });

  it('labels not-yet-built workspaces honestly', async () => {
    // Act
    const html = await (await web.request('/v/ag/models', { headers: { cookie: viewerSession.cookie } })).text();

    // Assess
    expect(html).toContain('Not built yet');
    expect(html).toContain('Nothing on this page is live data.');
  });
});

describe('login page', () => {
  it('renders a labelled form and keeps only a safe return path', async () => {
    // Act
    const good = await (await web.request('/login?next=%2Fv%2Fau%2Fjobs')).text();
    const evil = await (await web.request('/login?next=%2F%2Fevil.example')).text();

    // Assess
    expect(good).toContain('<label for="login-username">');
    expect(good).toContain('<label for="login-password">');
    expect(pageData(good)).toEqual({ page: 'login', next: '/v/au/jobs' });
    expect(pageData(evil)).toEqual({ page: 'login', next: null });
  });

  it('sends a signed-in user on to the return path', async () => {
    // Act
    const res = await web.request('/login?next=%2Fv%2Fag%2Fsystem', { headers: { cookie: viewerSession.cookie } });

    // Assess
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/v/ag/system');
  });
});

describe('jobs pages', () => {
  it('renders the jobs table with submit actions for an operator', async () => {
    // Act
    const res = await web.request('/v/cu/jobs', { headers: { cookie: opSession.cookie } });

    // Assess
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="submit-selftest"');
    expect(html).toContain('id="sleep-form"');
    expect(html).toContain('<label for="sleep-seconds">');
    // Batch cancel: every control labelled, the reason required, every kind offered.
    expect(html).toContain('<form id="cancel-batch-form"');
    for (const id of ['cb-kind', 'cb-status', 'cb-scope', 'cb-reason']) expect(html).toContain(`<label for="${id}">`);
    expect(html).toMatch(/<input id="cb-reason" name="reason" maxlength="500" required=""/);
    expect(html).toContain('<option value="data.main_l5">data.main_l5</option>');
    expect(html).toContain(`/v/cu/jobs/${jobId}`);
    expect(html).toContain('<th scope="col">Status</th>');
    expect(html).toContain('Queued');
    expect(pageData(html)).toMatchObject({ page: 'jobs', variety: 'cu', csrf_token: opSession.csrf });
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
  });

  it('hides the submit actions from a viewer', async () => {
    // Act
    const html = await (await web.request('/v/au/jobs', { headers: { cookie: viewerSession.cookie } })).text();

    // Assess
    expect(html).not.toContain('id="submit-selftest"');
    expect(html).not.toContain('cancel-batch-form');
    expect(html).toContain(jobId);
  });

  it('filters by status and scope, and pages with next_cursor links', async () => {
    // Prepare
    for (const seconds of [21, 22]) {
      await web.send('POST', '/api/jobs', { kind: 'system.sleep', params: { seconds } }, web.browserHeaders(opSession));
    }

    // Act
    const page1 = await (
      await web.request('/v/cu/jobs?status=queued&per_page=20', { headers: { cookie: opSession.cookie } })
    ).text();
    const scoped = await (await web.request('/v/cu/jobs?scope=var', { headers: { cookie: opSession.cookie } })).text();
    const none = await (
      await web.request('/v/cu/jobs?status=failed', { headers: { cookie: opSession.cookie } })
    ).text();

    // Assess
    expect(page1).toContain('<option value="queued" selected="">');
    expect(scoped).toContain('No jobs match.');
    expect(none).toContain('No jobs match.');
  });

  it('renders a job detail page with its progress bar, record and a Cancel button for an operator', async () => {
    // Act
    const res = await web.request(`/v/cu/jobs/${jobId}`, { headers: { cookie: opSession.cookie } });
    const asViewer = await (
      await web.request(`/v/cu/jobs/${jobId}`, { headers: { cookie: viewerSession.cookie } })
    ).text();
    const missing = await web.request('/v/cu/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV', {
      headers: { cookie: opSession.cookie },
    });

    // Assess
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<progress id="job-progress"');
    expect(html).toContain('id="cancel-job"');
    expect(html).toContain('system.sleep');
    expect(pageData(html)).toMatchObject({ page: 'job', job_id: jobId, job_status: 'queued' });
    expect(asViewer).not.toContain('id="cancel-job"');
    expect(missing.status).toBe(404);
  });
});

describe('system page and warm-path badge', () => {
  it('shows each component state as icon and text', async () => {
    // Act
    const html = await (await web.request('/v/cu/system', { headers: { cookie: opSession.cookie } })).text();

    // Assess
    expect(html).toContain('DynamoDB');
    expect(html).toMatch(/<span aria-hidden="true">✓<\/span> OK/);
    expect(html).toContain('no job runner in this test stack');
  });

  it('lists the held leases in the Locks panel, an expired one marked in text', async () => {
    // Prepare
    const key = `pages${Date.now()}:trade:account=alt`;
    await web.stack.rt.locks.acquire(key, { ownerId: 'gateway:alt', host: 'colo-9', pid: 4242 }, 60_000);
    await web.stack.rt.locks.acquire(`${key}:old`, { ownerId: 'job-x', host: 'w', pid: 1 }, 1);
    await new Promise((r) => setTimeout(r, 1_100)); // past the page cache's lifetime and the second lease

    // Act
    const html = await (await web.request('/v/cu/system', { headers: { cookie: opSession.cookie } })).text();

    // Assess
    const panel = html.slice(html.indexOf('id="locks-panel"'));
    expect(panel).toContain(`<code>${key}</code>`);
    expect(panel).toContain('colo-9 / 4242');
    expect(panel).toMatch(/<span aria-hidden="true">⚠<\/span> expired/);
    expect(panel).toMatch(/[1-9]\d* expired \(their holder stopped renewing/);
  });

  it('renders the warm-path, data and supervisor badges only while the status says so', async () => {
    // Prepare: fixed snapshots, only to drive the page render.
    const at = new Date().toISOString();
    const comp = { state: 'ok' as const, text: 'fine', error: '', updated_at: at, stale: false };
    const healthy: StatusSnapshot = {
      state: 'ok',
      text: 'all components ok',
      error: '',
      updated_at: at,
      stale: false,
      components: {
        dynamo: comp,
        sqs: comp,
        runner: comp,
        redis: comp,
        tickstore: comp,
        supervisor: comp,
        broadcaster: comp,
      },
      warm_path_degraded: false,
      warm_path_reasons: [],
      running_count: 0,
      queued_count: 0,
      config_revision: 1,
    };
    const degraded: StatusSnapshot = {
      ...healthy,
      state: 'warn',
      components: {
        ...healthy.components,
        redis: { ...comp, state: 'warn', error: 'redis_unavailable' },
        supervisor: { ...comp, state: 'warn', text: 'crash loop: gateway:main', error: 'crash_loop' },
        tickstore: { ...comp, state: 'error', text: 'tickstore unavailable: database is locked', error: 'x' },
      },
      warm_path_degraded: true,
      warm_path_reasons: ['console:redis_unavailable'],
    };
    let current = degraded;
    const fixed: StatusSource = { snapshot: async () => current };
    const other = await WebTestStack.create({ status: fixed });
    try {
      const s = await other.login(await other.createUser('viewer'));

      // Act
      const html = await (await other.request('/v/cu/dashboard', { headers: { cookie: s.cookie } })).text();
      current = healthy;
      const after = await (await other.request('/v/cu/dashboard', { headers: { cookie: s.cookie } })).text();

      // Assess
      expect(html).toMatch(/<p id="warm-path-badge" class="badge badge-warn">/);
      expect(html).toContain('Warm path degraded');
      expect(html).toContain('console:redis_unavailable');
      expect(after).toMatch(/<p id="warm-path-badge" class="badge badge-warn" hidden="">/);
      // Data and supervisor badges: icon and text while not ok, absent when ok.
      expect(html).toMatch(
        /<p id="supervisor-badge" class="badge badge-warn"[^>]*>.*Supervisor: warning.*crash loop: gateway:main/s,
      );
      expect(html).toMatch(/<p id="data-badge" class="badge badge-error"[^>]*>.*Data: error.*database is locked/s);
      expect(after).not.toContain('supervisor-badge');
      expect(after).not.toContain('data-badge');
    } finally {
      await other.close();
    }
  });
});

const JOB_STATUS_TEXT: Record<JobStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

describe('jobs page counts and job detail locks', () => {
  let own: WebTestStack;
  let cookie: string;
  const seeded: Record<string, string> = {};

  function seedRecord(status: JobStatus, kind: string, params: Record<string, unknown>, i: number): JobRecord {
    const createdMs = Date.now() - 60_000 - i * 1_000;
    return storedJob({ createdMs, status, kind, params, by: 'pages-test', finishedAfterMs: 30_000 });
  }

  beforeAll(async () => {
    own = await WebTestStack.create();
    cookie = (await own.login(await own.createUser('viewer'))).cookie;
    // Distinct counts per status: 1 queued, 2 running, 3 succeeded, 4 failed, 5 cancelled.
    const plan: [JobStatus, number][] = [
      ['queued', 1],
      ['running', 2],
      ['succeeded', 3],
      ['failed', 4],
      ['cancelled', 5],
    ];
    let i = 0;
    for (const [status, n] of plan) {
      for (let k = 0; k < n; k++) {
        // The first running job is a source-bound data.schedule (a lock plus a source slot); the rest sleep.
        const schedule = status === 'running' && k === 0;
        const r = seedRecord(
          status,
          schedule ? 'data.schedule' : 'system.sleep',
          schedule ? { var: 'cu' } : { seconds: 5 },
          i++,
        );
        await own.stack.rt.store.create(r);
        if (schedule) seeded.schedule = r.job_id;
        if (status === 'running' && k === 1) seeded.sleep = r.job_id;
        if (status === 'queued') seeded.queued = r.job_id;
      }
    }
  });

  afterAll(async () => {
    await own?.close();
  });

  it('shows the exact count of every status as icon and text on the Jobs page', async () => {
    // Act
    const html = await (await own.request('/v/cu/jobs', { headers: { cookie } })).text();

    // Assess
    const kpis = html.slice(html.indexOf('id="jobs-kpis"'), html.indexOf('</section>', html.indexOf('id="jobs-kpis"')));
    for (const [status, n] of [
      ['queued', 1],
      ['running', 2],
      ['succeeded', 3],
      ['failed', 4],
      ['cancelled', 5],
    ] as const) {
      expect(kpis).toContain(`<dd id="jobs-count-${status}">${n}</dd>`);
      expect(kpis).toMatch(
        new RegExp(`data-status="${status}"><span aria-hidden="true">[^<]+</span> ${JOB_STATUS_TEXT[status]}`),
      );
    }
    // Scoping the list to a variety leaves the status counts exact for every job.
    const scoped = await (await own.request('/v/au/jobs?scope=var', { headers: { cookie } })).text();
    expect(scoped).toContain('<dd id="jobs-count-cancelled">5</dd>');
  });

  it('renders sortable jobs headers as buttons, aria-sort on the Created th for the server order', async () => {
    // Act
    const html = await (await own.request('/v/cu/jobs', { headers: { cookie } })).text();

    // Assess
    const list = html.slice(html.indexOf('<div id="jobs-list">'), html.indexOf('</table>', html.indexOf('jobs-list')));
    expect(list).toContain(
      '<th scope="col" data-sort-key="created" aria-sort="descending"><button type="button" class="sort-button">Created</button></th>',
    );
    for (const label of ['Job', 'Kind', 'Variety', 'Attempt']) {
      expect(list).toMatch(
        new RegExp(
          `<th scope="col" data-sort-key="[a-z]+"[^>]*><button type="button" class="sort-button">${label}</button></th>`,
        ),
      );
    }
    expect(list.match(/aria-sort=/g)).toHaveLength(1);
    expect(list).toMatch(/<tr data-job-id="[0-9A-Z]{26}"[^>]* data-sort-attempt="\d+" data-sort-created="[^"]+Z">/);
  });

  it('lists the locks a running job holds next to what it waits for', async () => {
    // Act
    const schedule = await (await own.request(`/v/cu/jobs/${seeded.schedule}`, { headers: { cookie } })).text();
    const sleep = await (await own.request(`/v/cu/jobs/${seeded.sleep}`, { headers: { cookie } })).text();
    const queued = await (await own.request(`/v/cu/jobs/${seeded.queued}`, { headers: { cookie } })).text();

    // Assess
    const locks = (html: string) => {
      const at = html.indexOf('<dd id="job-locks">');
      return html.slice(at, html.indexOf('</dd>', at));
    };
    expect(schedule).toContain('<dt>Locks held</dt>');
    expect(locks(schedule)).toContain('<code>main_schedule:var=cu</code>');
    expect(locks(schedule)).toContain('one source slot');
    expect(locks(schedule)).toContain('source:slot=&lt;n&gt;');
    expect(locks(schedule)).not.toContain('none');
    expect(schedule).toContain('<dd id="job-waiting-for">—</dd>');
    expect(locks(sleep)).toContain('none (this kind takes no locks)');
    expect(locks(queued)).toContain('none (this kind takes no locks)');
  });
});
