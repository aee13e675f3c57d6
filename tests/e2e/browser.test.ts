/**
 * The console in a real browser (issue 7 scope 6; control-chain §7, §8, §13 items 9, 22 and 28): playwright-core drives
 * Debian's Chromium (`/usr/bin/chromium`; playwright-core never downloads browsers, `.ci/run` installs it with apt)
 * against one `ghtrader up --no-demo --no-sim`. Log in through the banner's one-time link; every cu page renders its
 * heading with no console error and no failed request, and goes live over `/ws`; a `system.sleep` submitted from the
 * Jobs page reaches `succeeded` on the page without a reload, and a jobs list row follows a job live; with the socket
 * cut, and with Redis stopped (a private redis-server; the badge says "warm path degraded"), the page polls every 2 s,
 * still sees a job finish and announces recovery (badge cleared within 5 s); a config value is changed and rolled back
 * (history shows both, another tab is told of the newer revision); a viewer sees no config edit or rollback controls
 * and gets 403 on an explorer run; an operator cancels jobs in a batch from the Jobs page, and the jobs and audit
 * tables sort by column; an admin adds, verifies and deletes a broker account on the System page; Tab reaches a visibly
 * focused control; an operator sends a kill and a reset from the Trading page (both reach the command history) while a
 * viewer gets no such control and a 403. Every page of every variety passes axe-core's WCAG 2.1 A/AA rules (names and labels, contrast,
 * structure, ARIA; §13 item 28). A screenshot per page goes to `test-artifacts/screenshots/<page>.png`.
 *
 * Not covered: the gateway executing the kill and the reset (`risk_kill_active` true, then false) — the gateway process
 * arrives with the trading chain (issue 6).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page, type WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningStack, startUp } from './support/ghtrader-process.ts';
import { freePort, PrivateRedis } from './support/redis-server.ts';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = path.join(root, 'test-artifacts', 'screenshots');
const KEY = 'GHTRADER_MAIN_L5_TOTAL_WORKERS';
const JOB_URL = /\/v\/cu\/jobs\/([0-9A-HJKMNP-TV-Z]{26})$/;

interface Watched {
  /** Console errors, page errors, failed requests and HTTP errors seen so far (drained by `take`). */
  take(): string[];
  /** Requests to these paths may fail on purpose (a viewer's 403). */
  allow(pathname: string): void;
}

/** Collect everything that would mean a page is broken, across every page of a browser context. */
function watch(ctx: BrowserContext): Watched {
  let problems: string[] = [];
  const allowed = new Set<string>();
  const ok = (url: string) => {
    try {
      return allowed.has(new URL(url).pathname);
    } catch {
      return false;
    }
  };
  ctx.on('console', (m) => {
    if (m.type() === 'error' && !ok(m.location().url)) problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  ctx.on('weberror', (e) => problems.push(`page error: ${e.error().message}`));
  ctx.on('requestfailed', (r) => {
    // A navigation cancels the previous page's in-flight reads (status poll, refetch): that is not a failure.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    if (!ok(r.url())) problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  ctx.on('response', (r) => {
    if (r.status() >= 400 && !ok(r.url())) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return {
    take: () => {
      const out = problems;
      problems = [];
      return out;
    },
    allow: (p) => allowed.add(p),
  };
}

/** Call the API from inside the page, as its own script does (session cookie, CSRF header, same origin). */
async function apiCall(
  page: Page,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  return page.evaluate(
    async ([m, u, b]) => {
      const data = JSON.parse(document.getElementById('page-data')?.textContent ?? '{}') as { csrf_token?: string };
      const res = await fetch(u, {
        method: m,
        headers: { 'content-type': 'application/json', 'x-csrf-token': data.csrf_token ?? '' },
        ...(b === undefined ? {} : { body: JSON.stringify(b) }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    },
    [method, url, body] as const,
  );
}

const jobIdOf = (json: unknown) => (json as { job: { job_id: string } }).job.job_id;

const isLive = (page: Page, timeout = 15_000) =>
  page.waitForFunction(() => document.body.dataset.live === 'live', undefined, { timeout });

/** Open a page, check its status and heading, wait until it is live over `/ws`, and save a screenshot if named. */
async function visit(page: Page, url: string, heading: RegExp, shot: string | null = null): Promise<void> {
  const res = await page.goto(url);
  expect(res?.status(), url).toBe(200);
  expect((await page.locator('h1').first().textContent())?.replace(/\s+/g, ' ').trim()).toMatch(heading);
  await isLive(page);
  if (shot) await page.screenshot({ path: path.join(SHOTS, `${shot}.png`), fullPage: true });
}

/** Form controls with no accessible name (no `<label for>`, wrapping label, `aria-label` or `aria-labelledby`). */
const unlabelled = (page: Page) =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('input, select, textarea'))
      .filter((el) => (el as HTMLInputElement).type !== 'hidden' && !el.hidden)
      .filter(
        (el) =>
          !(el as HTMLInputElement).labels?.length &&
          !el.getAttribute('aria-label') &&
          !el.getAttribute('aria-labelledby'),
      )
      .map((el) => el.id || el.outerHTML.slice(0, 80)),
  );

/** axe-core, the accessibility engine, run inside the page (page.evaluate is not subject to the page's CSP). */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** WCAG 2.1 A and AA rules (labels, names, contrast, structure, ARIA); `best-practice` rules are not gates. */
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Accessibility violations of the page as `rule (impact): selectors`, empty when it passes. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<AxeResult> } }).axe;
    type AxeResult = { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] };
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map(
      (v) =>
        `${v.id} (${v.impact}): ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 5)
          .join(', ')}`,
    );
  }, AXE_TAGS);
}

/** Remember that this document was not reloaded: `reloaded(page)` is true once it has been. */
const markDocument = (page: Page) =>
  page.evaluate(() => {
    (window as unknown as { __e2eMark: boolean }).__e2eMark = true;
  });
const reloaded = (page: Page) => page.evaluate(() => (window as unknown as { __e2eMark?: boolean }).__e2eMark !== true);

describe('the console in Chromium', () => {
  let home: string;
  let redis: PrivateRedis;
  let stack: RunningStack;
  let browser: Browser;
  let admin: BrowserContext;
  let adminWatch: Watched;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is missing at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does so in CI)`,
      );
    }
    await mkdir(SHOTS, { recursive: true });
    home = await mkdtemp(path.join(tmpdir(), 'ghtrader-e2e-browser-'));
    // A private Redis, so the warm-path outage scenario never touches the shared one.
    redis = new PrivateRedis(await freePort());
    await redis.start();
    [stack, browser] = await Promise.all([
      startUp(home, ['--no-demo', '--no-sim'], 30_000, { REDIS_URL: redis.url }),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS }),
    ]);
    admin = await browser.newContext({ baseURL: stack.banner.url, viewport: { width: 1280, height: 900 } });
    adminWatch = watch(admin);
    page = await admin.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (stack?.child.exitCode === null) await stack.stop();
    await redis?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('logs in through the one-time link from the banner', async () => {
    // Prepare
    const link = stack.banner.login_url;
    if (!link) throw new Error(`no login url in the banner: ${stack.output()}`);

    // Act
    await page.goto(link);
    await page.waitForURL('**/v/cu/dashboard');

    // Assess
    expect(await page.locator('h1').textContent()).toContain('Dashboard · CU');
    expect(await page.locator('.user-menu').textContent()).toContain('(admin)');
    expect(adminWatch.take()).toEqual([]);
  });

  it('renders every cu page with its heading, live, without console errors or failed requests', async () => {
    // Prepare: a finished job for the detail page
    const submitted = await apiCall(page, 'POST', '/api/jobs', { kind: 'system.sleep', params: { seconds: 1 } });
    expect(submitted.status).toBe(201);
    const jobId = jobIdOf(submitted.json);
    const pages: [string, string, RegExp][] = [
      ['dashboard', '/v/cu/dashboard', /^Dashboard · CU$/],
      ['market', '/v/cu/market', /^Market · CU$/],
      ['jobs', '/v/cu/jobs', /^Jobs$/],
      ['data', '/v/cu/data', /^Data · CU$/],
      ['models', '/v/cu/models', /^Models$/],
      ['trading', '/v/cu/trading', /^Trading$/],
      ['config', '/v/cu/config', /^Config · CU$/],
      ['explorer', '/v/cu/explorer', /^Explorer$/],
      ['system', '/v/cu/system', /^System$/],
      ['audit', '/v/cu/audit', /^Audit log$/],
      ['job-detail', `/v/cu/jobs/${jobId}`, new RegExp(`^Job ${jobId}$`)],
    ];

    // Act + Assess (per page)
    for (const [shot, url, heading] of pages) {
      await visit(page, url, heading, shot);
      expect(await unlabelled(page), url).toEqual([]);
      expect(await axeViolations(page), url).toEqual([]);
      expect(adminWatch.take(), url).toEqual([]);
    }
  });

  it('renders every page of au and ag and passes the accessibility check there too (§13 item 28)', async () => {
    for (const v of ['au', 'ag']) {
      for (const section of [
        'dashboard',
        'market',
        'jobs',
        'data',
        'models',
        'trading',
        'config',
        'explorer',
        'system',
        'audit',
      ]) {
        const url = `/v/${v}/${section}`;
        const res = await page.goto(url);
        expect(res?.status(), url).toBe(200);
        expect(new URL(page.url()).pathname, 'still logged in, not redirected').toBe(url);
        expect(await axeViolations(page), url).toEqual([]);
      }
    }
    expect(adminWatch.take()).toEqual([]);
  });

  it('follows a system.sleep submitted from the Jobs page to succeeded without reloading', async () => {
    // Prepare
    await visit(page, '/v/cu/jobs', /^Jobs$/);
    await page.fill('#sleep-seconds', '3');

    // Act
    await page.click('#sleep-form button[type="submit"]');
    await page.waitForURL(JOB_URL);
    await markDocument(page);
    await isLive(page);
    // Every percentage the page shows while the job runs (acceptance 9: pct never decreases).
    await page.evaluate(() => {
      const w = window as unknown as { __pcts: number[] };
      w.__pcts = [];
      const el = document.getElementById('job-progress-pct');
      if (!el) return;
      new MutationObserver(() => w.__pcts.push(Number.parseInt(el.textContent ?? '', 10))).observe(el, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await page.waitForSelector('#job-status[data-status="succeeded"]', { timeout: 30_000 });
    await page.waitForSelector('#result-h', { timeout: 10_000 });

    // Assess
    const pcts = await page.evaluate(() => (window as unknown as { __pcts: number[] }).__pcts);
    expect(await reloaded(page)).toBe(false);
    expect(pcts.length).toBeGreaterThan(0);
    expect(pcts).toEqual([...pcts].sort((a, b) => a - b));
    expect(await page.locator('#job-progress-pct').textContent()).toBe('100%');
    expect(await page.locator('main').textContent()).toContain('slept_s');
    expect(adminWatch.take()).toEqual([]);
  });

  it('updates a row of the jobs list live, including a job submitted after the page loaded', async () => {
    // Prepare
    await visit(page, '/v/cu/jobs', /^Jobs$/);
    await markDocument(page);

    // Act
    const submitted = await apiCall(page, 'POST', '/api/jobs', { kind: 'system.sleep', params: { seconds: 2 } });
    const id = jobIdOf(submitted.json);
    await page.waitForSelector(`tr[data-job-id="${id}"]`, { timeout: 15_000 });
    await page.waitForSelector(`tr[data-job-id="${id}"] [data-status="succeeded"]`, { timeout: 30_000 });

    // Assess
    expect(submitted.status).toBe(201);
    expect(await reloaded(page)).toBe(false);
    expect(await page.locator(`tr[data-job-id="${id}"] [data-col="progress"]`).textContent()).toContain('100%');
    expect(adminWatch.take()).toEqual([]);
  });

  it('polls every 2 s while the socket is down, still follows jobs, and announces recovery', async () => {
    // Prepare: a page whose `/ws` can be cut and restored
    const p = await admin.newPage();
    let blocked = false;
    let current: WebSocketRoute | null = null;
    await p.routeWebSocket(/\/ws$/, (ws) => {
      if (blocked) {
        void ws.close({ code: 4000, reason: 'cut by the test' });
        return;
      }
      current = ws;
      ws.connectToServer();
    });
    const statusPolls: number[] = [];
    p.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/status') statusPolls.push(Date.now());
    });
    await visit(p, '/v/cu/jobs', /^Jobs$/);
    await markDocument(p);

    // Act: cut the socket, run a job while polling, then let the socket back
    blocked = true;
    const cutAt = Date.now();
    await (current as WebSocketRoute | null)?.close({ code: 4000, reason: 'cut by the test' });
    await p.waitForFunction(() => document.body.dataset.live === 'polling', undefined, { timeout: 5_000 });
    const submitted = await apiCall(p, 'POST', '/api/jobs', { kind: 'system.sleep', params: { seconds: 1 } });
    const id = jobIdOf(submitted.json);
    await p.waitForSelector('#toasts :text("Live updates interrupted")', { timeout: 5_000 });
    await p.waitForSelector(`tr[data-job-id="${id}"] [data-status="succeeded"]`, { timeout: 20_000 });
    await expect.poll(() => statusPolls.filter((t) => t > cutAt).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const polls = statusPolls.filter((t) => t > cutAt);
    blocked = false;
    await isLive(p, 30_000);
    await p.waitForSelector('#toasts :text("Live updates are back")', { timeout: 5_000 });

    // Assess
    const gaps = polls.slice(1).map((t, i) => t - (polls[i] as number));
    expect(polls.length).toBeGreaterThanOrEqual(3);
    for (const g of gaps) expect(g).toBeGreaterThan(1_500);
    for (const g of gaps) expect(g).toBeLessThan(4_000);
    expect(await reloaded(p)).toBe(false);
    await p.close();
    expect(adminWatch.take()).toEqual([]);
  });

  it('shows warm path degraded and polls every 2 s while Redis is down, then clears and goes live again', async () => {
    // Prepare
    await visit(page, '/v/cu/jobs', /^Jobs$/);
    await markDocument(page);
    const statusPolls: number[] = [];
    const onRequest = (r: { url(): string }) => {
      if (new URL(r.url()).pathname === '/api/status') statusPolls.push(Date.now());
    };
    page.on('request', onRequest);
    expect(await page.locator('#warm-path-badge').isHidden()).toBe(true);

    // Act: Redis goes away
    await redis.stop();
    const stoppedAt = Date.now();
    await page.waitForSelector('#warm-path-badge:not([hidden])', { timeout: 10_000 });
    const shownMs = Date.now() - stoppedAt;
    await page.waitForFunction(() => document.body.dataset.live === 'polling', undefined, { timeout: 5_000 });
    const submitted = await apiCall(page, 'POST', '/api/jobs', { kind: 'system.sleep', params: { seconds: 1 } });
    const id = jobIdOf(submitted.json);
    await page.waitForSelector(`tr[data-job-id="${id}"] [data-status="succeeded"]`, { timeout: 20_000 });
    await expect.poll(() => statusPolls.filter((t) => t > stoppedAt).length, { timeout: 10_000 }).toBeGreaterThan(2);
    await page.screenshot({ path: path.join(SHOTS, 'jobs-warm-path-degraded.png') });
    const polls = statusPolls.filter((t) => t > stoppedAt);
    // … and comes back on the same address
    await redis.start();
    const restartedAt = Date.now();
    await page.waitForSelector('#warm-path-badge', { state: 'hidden', timeout: 15_000 });
    const clearedMs = Date.now() - restartedAt;
    await isLive(page);
    await page.waitForSelector('#toasts :text("Live updates are back")', { timeout: 5_000 });
    page.off('request', onRequest);

    // Assess
    const gaps = polls.slice(1).map((t, i) => t - (polls[i] as number));
    expect(shownMs).toBeLessThan(5_000);
    expect(clearedMs).toBeLessThan(5_000);
    for (const g of gaps) expect(g).toBeGreaterThan(1_500);
    for (const g of gaps) expect(g).toBeLessThan(4_000);
    expect(await reloaded(page)).toBe(false);
    expect(adminWatch.take()).toEqual([]);
  });

  it('changes a config value and rolls it back; history shows both and another tab hears of the newer revision', async () => {
    // Prepare
    await visit(page, '/v/cu/config', /^Config · CU$/);
    const head = Number(await page.locator('#config-head').textContent());
    const other = await admin.newPage();
    await visit(other, '/v/cu/config', /^Config · CU$/);
    // The rollback asks for its (required) reason in a prompt.
    page.on('dialog', (d) => void d.accept(d.type() === 'prompt' ? 'browser e2e rollback' : undefined));

    // Act: set
    await page.fill('#config-set-key', KEY);
    await page.fill('#config-set-value', '5');
    await page.fill('#config-set-reason', 'browser e2e');
    await page.click('#config-set-submit');
    await page.waitForURL(new RegExp(`saved=${head + 1}`));
    // … then roll back to the revision before
    await page.click(`button.config-rollback[data-revision="${head}"]`);
    await page.waitForURL(new RegExp(`saved=${head + 2}`));

    // Assess
    expect(await page.locator('#config-saved').textContent()).toContain(`Saved revision ${head + 2}`);
    const set = page.locator(`#config-history tr[data-revision="${head + 1}"]`);
    const rollback = page.locator(`#config-history tr[data-revision="${head + 2}"]`);
    expect(await set.textContent()).toContain(KEY);
    expect(await set.textContent()).toContain('browser e2e');
    expect(await rollback.locator('td').nth(2).textContent()).toBe('rollback');
    expect(await rollback.textContent()).toContain('browser e2e rollback');
    expect(await rollback.locator('td').nth(5).textContent()).toBe(String(head));
    await other.waitForSelector('#config-newer:not([hidden])', { timeout: 5_000 });
    expect(await other.locator('#config-newer-text').textContent()).toMatch(
      new RegExp(`^A newer revision (${head + 1}|${head + 2}) exists$`),
    );
    await other.close();
    expect(adminWatch.take()).toEqual([]);
  });

  it('gives a viewer no config edit or rollback controls and a 403 on an explorer run', async () => {
    // Prepare: an admin creates the viewer; the viewer logs in with the password form
    await page.goto('/v/cu/system');
    const created = await apiCall(page, 'POST', '/api/users', {
      username: 'e2e-viewer',
      password: 'viewer-password-123',
      role: 'viewer',
    });
    expect(created.status).toBe(201);
    const ctx = await browser.newContext({ baseURL: stack.banner.url, viewport: { width: 1280, height: 900 } });
    const viewerWatch = watch(ctx);
    viewerWatch.allow('/api/explorer/query');
    const v = await ctx.newPage();
    await v.goto('/login');
    await v.fill('#login-username', 'e2e-viewer');
    await v.fill('#login-password', 'viewer-password-123');
    await v.click('#login-form button[type="submit"]');
    await v.waitForURL('**/v/cu/dashboard');

    // Act
    await visit(v, '/v/cu/config', /^Config · CU$/);
    const configControls = await v.locator('#config-set-form, button.config-rollback, button.config-edit').count();
    await visit(v, '/v/cu/explorer', /^Explorer$/);
    const queryForms = await v.locator('#explorer-form').count();
    const run = await apiCall(v, 'POST', '/api/explorer/query', { sql: 'SELECT 1', limit: 1 });
    await visit(v, '/v/cu/jobs', /^Jobs$/);
    const submitForms = await v.locator('#sleep-form, #submit-selftest, #cancel-batch-form').count();

    // Assess
    expect(configControls).toBe(0);
    expect(queryForms).toBe(0);
    expect(run.status).toBe(403);
    expect(run.json).toMatchObject({ error: { code: 'forbidden' } });
    expect(submitForms).toBe(0);
    expect(await v.locator('#nav-audit').count()).toBe(0);
    expect(viewerWatch.take()).toEqual([]);
    await ctx.close();
  });

  it('cancels matching jobs in a batch from the Jobs page, and sorts the jobs and audit tables by column', async () => {
    // Prepare: two long sleeps (different params, so no dedupe), on a page that accepts the confirmation
    const p = await admin.newPage();
    p.on('dialog', (d) => void d.accept());
    await visit(p, '/v/cu/jobs', /^Jobs$/);
    const ids: string[] = [];
    for (const seconds of [600, 601]) {
      const r = await apiCall(p, 'POST', '/api/jobs', { kind: 'system.sleep', params: { seconds } });
      expect(r.status).toBe(201);
      ids.push(jobIdOf(r.json));
    }

    // Act: batch cancel every active system.sleep job of every variety
    await p.selectOption('#cb-kind', 'system.sleep');
    await p.selectOption('#cb-scope', 'all');
    await p.fill('#cb-reason', 'browser e2e batch');
    await p.click('#cancel-batch-form button[type="submit"]');
    await p.waitForFunction(() =>
      /matching jobs/.test(document.getElementById('cancel-batch-result')?.textContent ?? ''),
    );
    const said = (await p.locator('#cancel-batch-result').textContent()) ?? '';
    for (const id of ids) {
      await p.waitForSelector(`tr[data-job-id="${id}"] [data-status="cancelled"]`, { timeout: 30_000 });
    }
    // … then sort the jobs list by job id (ascending: the reverse of the server's newest first), and the audit log by
    // action, descending (two clicks)
    const rowIds = () =>
      p.locator('#jobs-list tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.sortJob ?? ''));
    const serverOrder = await rowIds();
    await p.click('#jobs-list th[data-sort-key="job"] > button');
    const sortedIds = await rowIds();
    const jobSort = await p.locator('#jobs-list th[aria-sort]').getAttribute('data-sort-key');
    await visit(p, '/v/cu/audit', /^Audit log$/);
    await p.click('#audit-list th[data-sort-key="action"] > button');
    await p.click('#audit-list th[data-sort-key="action"] > button');
    const actions = await p
      .locator('#audit-list tbody tr')
      .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.sortAction ?? ''));
    const actionSort = await p.locator('#audit-list th[data-sort-key="action"]').getAttribute('aria-sort');

    // Assess
    const matched = /^(\d+) of (\d+) matching jobs cancelled or asked to stop\.$/.exec(said);
    expect(matched, said).not.toBeNull();
    expect(Number(matched?.[1])).toBeGreaterThanOrEqual(2);
    expect(jobSort).toBe('job');
    expect(serverOrder.length).toBeGreaterThan(2);
    expect(sortedIds).toEqual([...serverOrder].sort());
    expect(sortedIds).not.toEqual(serverOrder);
    expect(actionSort).toBe('descending');
    expect(await p.locator('#audit-list th[aria-sort]').count()).toBe(1);
    expect(actions).toContain('job.cancel_batch');
    expect(actions).toEqual([...actions].sort().reverse());
    await p.close();
    expect(adminWatch.take()).toEqual([]);
  });

  it('adds, verifies and deletes a broker account from the System page without the password ever coming back', async () => {
    // Prepare: a page that accepts the delete confirmation
    const p = await admin.newPage();
    p.on('dialog', (d) => void d.accept());
    const password = 'e2e-broker-password-7';
    await visit(p, '/v/cu/system', /^System$/);

    // Act: add (the page reloads with the new row) …
    await p.fill('#account-profile', 'E2E Desk');
    await p.fill('#account-broker', 'ghsim');
    await p.fill('#account-id', 'e2eacct01');
    await p.fill('#account-password', password);
    await p.click('#account-form button[type="submit"]');
    const row = p.locator('#accounts-table tr[data-profile="e2e_desk"]');
    await row.waitFor({ timeout: 15_000 });
    const rowText = (await row.textContent()) ?? '';
    const html = await p.content();
    // … verify (a job is submitted and linked) …
    await p.click('button.verify-account[data-profile="e2e_desk"]');
    await p.waitForSelector('#account-action-result a', { timeout: 10_000 });
    const result = (await p.locator('#account-action-result').textContent()) ?? '';
    const jobHref = await p.locator('#account-action-result a').getAttribute('href');
    // … and delete (after the confirmation the page reloads without the row)
    await p.click('button.delete-account[data-profile="e2e_desk"]');
    await p.waitForSelector('#accounts-table tr[data-profile="e2e_desk"]', { state: 'detached', timeout: 15_000 });

    // Assess
    expect(rowText).toContain('ghsim');
    expect(rowText).toContain('e2***01');
    expect(html).not.toContain(password);
    expect(html).not.toContain('e2eacct01');
    expect(result).toMatch(/^Verification of e2e_desk (submitted as|is already running as) job [0-9A-Z]{26}$/);
    expect(jobHref).toMatch(/^\/v\/cu\/jobs\/[0-9A-Z]{26}$/);
    expect(await p.locator('#account-password').inputValue()).toBe('');
    await p.close();
    expect(adminWatch.take()).toEqual([]);
  });

  it('sends a kill and a reset from the Trading page as operator; a viewer gets neither control and a 403', async () => {
    // Prepare: an operator-or-better page (the admin) and a viewer of its own
    const p = await admin.newPage();
    await visit(p, '/v/cu/trading?profile=e2e_rk', /^Trading$/);
    const created = await apiCall(p, 'POST', '/api/users', {
      username: 'e2e-viewer-rk',
      password: 'viewer-password-456',
      role: 'viewer',
    });
    expect(created.status).toBe(201);

    // Act: Kill with a reason, confirmed in the dialog …
    await p.fill('#trading-kill-reason', 'e2e drill');
    await p.click('#trading-kill-form button[type="submit"]');
    await p.click('#trading-kill-dialog button[value="confirm"]');
    await p.waitForSelector('#trading-risk-kill-result:has-text("kill")', { timeout: 10_000 });
    const killResult = (await p.locator('#trading-risk-kill-result').textContent()) ?? '';
    // … then Reset
    await p.fill('#trading-reset-reason', 'e2e checked');
    await p.click('#trading-reset-form button[type="submit"]');
    await p.click('#trading-reset-dialog button[value="confirm"]');
    await p.waitForSelector('#trading-risk-kill-result:has-text("reset_risk_kill")', { timeout: 10_000 });
    await p.waitForSelector('#trading-commands-table tr[data-type="reset_risk_kill"]', { timeout: 10_000 });
    const history = await p
      .locator('#trading-commands-table tbody tr')
      .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.type));
    // The viewer: no kill, reset or command form, and the API refuses a reset
    const ctx = await browser.newContext({ baseURL: stack.banner.url, viewport: { width: 1280, height: 900 } });
    const viewerWatch = watch(ctx);
    viewerWatch.allow('/api/trading/risk-kill');
    const v = await ctx.newPage();
    await v.goto('/login');
    await v.fill('#login-username', 'e2e-viewer-rk');
    await v.fill('#login-password', 'viewer-password-456');
    await v.click('#login-form button[type="submit"]');
    await v.waitForURL('**/v/cu/dashboard');
    await visit(v, '/v/cu/trading?profile=e2e_rk', /^Trading$/);
    const viewerControls = await v.locator('#trading-kill-form, #trading-reset-form, #trading-command-form').count();
    const viewerHistory = await v.locator('#trading-commands-table tbody tr').count();
    const refused = await apiCall(v, 'POST', '/api/trading/risk-kill', {
      account_profile: 'e2e_rk',
      action: 'reset',
      reason: 'not mine to reset',
    });

    // Assess: both commands are on their sinks and in the history, newest first. Executing them (the gateway's
    // risk_kill_active) is the trading chain's part; nothing here pretends it happened.
    expect(killResult).toMatch(/[0-9A-HJKMNP-TV-Z]{26}/);
    expect(history.slice(0, 2)).toEqual(['reset_risk_kill', 'kill']);
    expect(viewerControls).toBe(0);
    expect(viewerHistory).toBe(2);
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ error: { code: 'forbidden' } });
    expect(viewerWatch.take()).toEqual([]);
    await ctx.close();
    await p.close();
    expect(adminWatch.take()).toEqual([]);
  });

  it('reaches a visibly focused control with Tab on the dashboard', async () => {
    // Prepare
    await visit(page, '/v/cu/dashboard', /^Dashboard · CU$/);

    // Act
    const focused: { text: string; visible: boolean; outline: number; style: string }[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      focused.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement;
          const s = getComputedStyle(el);
          return {
            text: el.textContent?.trim() ?? '',
            visible: el.matches(':focus-visible'),
            outline: Number.parseFloat(s.outlineWidth),
            style: s.outlineStyle,
          };
        }),
      );
    }

    // Assess
    expect(focused[0]?.text).toBe('Skip to content');
    for (const f of focused) {
      expect(f.visible, f.text).toBe(true);
      expect(f.style, f.text).not.toBe('none');
      expect(f.outline, f.text).toBeGreaterThanOrEqual(2);
    }
    expect(adminWatch.take()).toEqual([]);
  });
});
