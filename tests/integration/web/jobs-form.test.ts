/**
 * The Jobs page's submit form generated from the kinds' JSON Schemas (control-chain §8 `/v/{var}/jobs`): operators get
 * a kind selector over every submittable kind (never an internal one) with one fieldset per kind whose controls carry
 * the schema's constraints, labels and descriptions; viewers get no form; and what the form posts — built by the same
 * `buildJobParams` the browser script uses, from the descriptors and initial values the page rendered — creates the
 * job, while the server's validation issues land on the fields they name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildJobParams,
  issuesByField,
  type JobFormField,
  type JobFormKind,
  jobFieldId,
} from '#shared/domain/control/job-form.ts';
import { JOB_KINDS } from '#shared/domain/control/job-kinds/index.ts';
import { type BrowserSession, errorOf, WebTestStack } from './support.ts';

let web: WebTestStack;
let operator: BrowserSession;
let viewer: BrowserSession;

const SUBMITTABLE = [...JOB_KINDS.values()].filter((k) => k.submittable).map((k) => k.kind);
const INTERNAL = [...JOB_KINDS.values()].filter((k) => !k.submittable).map((k) => k.kind);

beforeAll(async () => {
  web = await WebTestStack.create();
  operator = await web.login(await web.createUser('operator'));
  viewer = await web.login(await web.createUser('viewer'));
});

afterAll(async () => {
  await web?.close();
});

async function page(path: string, session: BrowserSession): Promise<string> {
  const res = await web.request(path, { headers: { cookie: session.cookie } });
  expect(res.status, path).toBe(200);
  return res.text();
}

function pageData(html: string): Record<string, unknown> {
  const m = /<script type="application\/json" id="page-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m?.[1]) throw new Error('no page-data block');
  return JSON.parse(m[1]) as Record<string, unknown>;
}

function between(html: string, open: RegExp, close: string): string {
  const m = open.exec(html);
  if (!m) throw new Error(`no match for ${open}`);
  const end = html.indexOf(close, m.index);
  return html.slice(m.index, end + close.length);
}

/** The opening tag of the element with this id, and its attributes (boolean ones as ""). */
function tagById(html: string, id: string): { tag: string; attrs: Record<string, string> } {
  const m = new RegExp(
    `<(\\w+)((?:\\s+[\\w-]+(?:="[^"]*")?)*?\\s+id="${id}"(?:\\s+[\\w-]+(?:="[^"]*")?)*)\\s*/?>`,
  ).exec(html);
  if (!m?.[1] || m[2] === undefined) throw new Error(`no element with id ${id}`);
  const attrs: Record<string, string> = {};
  for (const a of m[2].matchAll(/([\w-]+)(?:="([^"]*)")?/g)) attrs[a[1] as string] = a[2] ?? '';
  return { tag: m[1], attrs };
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** What a browser would read from a control as the page rendered it. */
function renderedValue(html: string, kind: string, f: JobFormField): string | boolean {
  const id = jobFieldId(kind, f.name);
  const { tag, attrs } = tagById(html, id);
  if (tag === 'input' && attrs.type === 'checkbox') return 'checked' in attrs;
  if (tag === 'input') return unescapeHtml(attrs.value ?? '');
  if (tag === 'textarea')
    return unescapeHtml(
      between(html, new RegExp(`<textarea[^>]*id="${id}"`), '</textarea>').replace(
        /^<textarea[^>]*>|<\/textarea>$/g,
        '',
      ),
    );
  const select = between(html, new RegExp(`<select[^>]*id="${id}"`), '</select>');
  const selected = /<option value="([^"]*)" selected=""/.exec(select) ?? /<option value="([^"]*)"/.exec(select);
  return unescapeHtml(selected?.[1] ?? '');
}

function formKinds(html: string): JobFormKind[] {
  return (pageData(html).job_forms ?? []) as JobFormKind[];
}

describe('Jobs page submit form', () => {
  it('offers an operator every submittable kind and no internal kind, the first kind shown', async () => {
    // Act
    const html = await page('/v/cu/jobs', operator);

    // Assess
    const form = between(html, /<form id="job-submit-form"/, '</form>');
    const select = between(form, /<select id="job-submit-kind"/, '</select>');
    const options = [...select.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]);
    expect(options).toEqual(SUBMITTABLE);
    for (const internal of INTERNAL) {
      expect(form).not.toContain(`data-kind="${internal}"`);
      expect(options).not.toContain(internal);
    }
    expect(formKinds(html).map((k) => k.kind)).toEqual(SUBMITTABLE);
    const fieldsets = [...form.matchAll(/<fieldset[^>]*>/g)].map((m) => m[0]);
    expect(fieldsets).toHaveLength(SUBMITTABLE.length);
    const [first, ...rest] = fieldsets;
    expect(first).toContain(`data-kind="${SUBMITTABLE[0]}"`);
    expect(first).not.toMatch(/\shidden/);
    expect(first).not.toMatch(/\sdisabled/);
    for (const fs of rest) {
      expect(fs).toMatch(/\shidden=""/);
      expect(fs).toMatch(/\sdisabled=""/);
    }
    expect(form).toContain('<label for="job-submit-note">');
    expect(tagById(form, 'job-submit-note').attrs.maxlength).toBe('500');
    expect(tagById(form, 'job-submit-result').attrs['aria-live']).toBe('polite');
    // The quick actions the browser suite drives stay.
    expect(html).toContain('id="sleep-form"');
    expect(html).toContain('id="submit-selftest"');
  });

  it('renders no form and no descriptors for a viewer', async () => {
    // Act
    const html = await page('/v/cu/jobs', viewer);

    // Assess
    expect(html).not.toContain('job-submit-form');
    expect(html).not.toContain('id="jf-');
    expect(pageData(html).job_forms).toBeUndefined();
  });

  it('carries a data kind’s schema constraints, with the page variety preselected', async () => {
    // Act
    const html = await page('/v/au/jobs', operator);

    // Assess
    const fs = between(html, /<fieldset[^>]*data-kind="data.main_l5"/, '</fieldset>');
    const variety = tagById(fs, 'jf-data-main_l5-var');
    expect(variety.tag).toBe('select');
    expect(variety.attrs).toHaveProperty('required');
    const varSelect = between(fs, /<select[^>]*id="jf-data-main_l5-var"/, '</select>');
    expect([...varSelect.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1])).toEqual(['cu', 'au', 'ag']);
    expect(varSelect).toContain('<option value="au" selected="">');
    const days = tagById(fs, 'jf-data-main_l5-days_per_job').attrs;
    expect(days).toMatchObject({ type: 'number', min: '1', max: '50', step: '1' });
    expect(days).not.toHaveProperty('required');
    const concurrency = tagById(fs, 'jf-data-main_l5-max_concurrency').attrs;
    expect(concurrency).toMatchObject({ min: '1', max: '32' });
    const rebuild = tagById(fs, 'jf-data-main_l5-full_rebuild').attrs;
    expect(rebuild.type).toBe('checkbox');
    expect(rebuild).not.toHaveProperty('checked');
    const validate = between(html, /<fieldset[^>]*data-kind="data.validate"/, '</fieldset>');
    expect(tagById(validate, 'jf-data-validate-start').attrs.pattern).toBe('^\\d{4}-\\d{2}-\\d{2}$');
    expect(tagById(validate, 'jf-data-validate-provider_check').attrs).toHaveProperty('checked');
    const sleep = between(html, /<fieldset[^>]*data-kind="system.sleep"/, '</fieldset>');
    expect(tagById(sleep, 'jf-system-sleep-seconds').attrs).toMatchObject({ min: '1', max: '840', required: '' });
    expect(sleep).toContain('number 1 to 840');
  });

  it('labels every generated control and describes it by help and error elements that exist', async () => {
    // Act
    const html = await page('/v/ag/jobs', operator);

    // Assess
    for (const k of formKinds(html)) {
      for (const f of k.fields) {
        const id = jobFieldId(k.kind, f.name);
        expect(html, id).toContain(`<label for="${id}">`);
        const describedBy = tagById(html, id).attrs['aria-describedby']?.split(' ') ?? [];
        expect(describedBy).toEqual([`${id}-help`, `${id}-error`]);
        for (const ref of describedBy) expect(html, ref).toContain(`id="${ref}"`);
      }
    }
    // The form's ids are unique on the page.
    const all = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] as string);
    const form = between(html, /<form id="job-submit-form"/, '</form>');
    const formIds = [...form.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] as string);
    expect(formIds.length).toBeGreaterThan(SUBMITTABLE.length);
    expect(formIds.filter((id) => all.indexOf(id) !== all.lastIndexOf(id))).toEqual([]);
  });

  it('creates the job from what the form posts for system.sleep, and dedupes a second identical post', async () => {
    // Prepare
    const html = await page('/v/cu/jobs', operator);
    const sleep = formKinds(html).find((k) => k.kind === 'system.sleep');
    if (!sleep) throw new Error('system.sleep is not offered');
    const typed: Record<string, string> = { seconds: '2' };
    const built = buildJobParams(sleep.fields, (f) => typed[f.name] ?? renderedValue(html, 'system.sleep', f));
    if (!built.ok) throw new Error(JSON.stringify(built.errors));
    const body = { kind: 'system.sleep', params: built.params, note: 'from the jobs form' };

    // Act
    const first = await web.send('POST', '/api/jobs', body, web.browserHeaders(operator));
    const again = await web.send('POST', '/api/jobs', body, web.browserHeaders(operator));

    // Assess
    expect(built.params).toEqual({ seconds: 2, fail_retryable: true });
    expect(first.status).toBe(201);
    const created = (await first.json()) as {
      job: { job_id: string; params: unknown; note?: string };
      deduped: boolean;
    };
    expect(created.deduped).toBe(false);
    expect(created.job.params).toEqual({ seconds: 2, fail_retryable: true });
    expect(created.job.note).toBe('from the jobs form');
    expect(again.status).toBe(200);
    const deduped = (await again.json()) as { job: { job_id: string }; deduped: boolean };
    expect(deduped).toMatchObject({ deduped: true, job: { job_id: created.job.job_id } });
  });

  it('maps the server’s validation issues for an out-of-range value onto that field', async () => {
    // Prepare
    const html = await page('/v/cu/jobs', operator);
    const main = formKinds(html).find((k) => k.kind === 'data.main_l5');
    if (!main) throw new Error('data.main_l5 is not offered');
    const typed: Record<string, string> = { days_per_job: '51' };
    const built = buildJobParams(main.fields, (f) => typed[f.name] ?? renderedValue(html, 'data.main_l5', f));
    if (!built.ok) throw new Error(JSON.stringify(built.errors));

    // Act
    const res = await web.send(
      'POST',
      '/api/jobs',
      { kind: 'data.main_l5', params: built.params },
      web.browserHeaders(operator),
    );

    // Assess
    expect(built.params).toEqual({ var: 'cu', full_rebuild: false, days_per_job: 51 });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('validation_failed');
    const issues = (error.details as { issues: { path: (string | number)[]; message: string }[] }).issues;
    const mapped = issuesByField(issues, main.fields);
    expect(Object.keys(mapped.fields)).toEqual(['days_per_job']);
    expect(mapped.general).toEqual([]);
  });
});
