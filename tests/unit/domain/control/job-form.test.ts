import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  buildJobParams,
  fieldValue,
  initialControlValue,
  issuesByField,
  type JobFormField,
  jobFieldId,
  jobFormFields,
  jobFormKinds,
  selectOptions,
} from '#shared/domain/control/job-form.ts';
import { JOB_KINDS } from '#shared/domain/control/job-kinds/index.ts';

/** The JSON Schema `GET /api/jobs/kinds` serves for a kind (`JobService.kinds()`, same options). */
function schemaOf(kind: string): Record<string, unknown> {
  const def = JOB_KINDS.get(kind);
  if (!def) throw new Error(`no kind ${kind}`);
  return z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

const KINDS = [...JOB_KINDS.values()].map((k) => ({
  kind: k.kind,
  description: k.description,
  params_schema: schemaOf(k.kind),
  submittable: k.submittable,
}));

function field(fields: JobFormField[], name: string): JobFormField {
  const f = fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name} in ${fields.map((x) => x.name).join(', ')}`);
  return f;
}

/** Map one property schema (hand-written edge cases). */
function one(prop: Record<string, unknown>, required = true): JobFormField {
  const fields = jobFormFields({ type: 'object', properties: { p: prop }, required: required ? ['p'] : [] });
  expect(fields).toHaveLength(1);
  return fields[0] as JobFormField;
}

describe('jobFormFields over the real job kinds', () => {
  it.each(KINDS.map((k) => [k.kind, k] as const))('maps every parameter of %s to one field, none dropped', (_, k) => {
    // Act
    const fields = jobFormFields(k.params_schema, { presets: { var: 'cu' } });

    // Assess
    const properties = Object.keys((k.params_schema.properties ?? {}) as Record<string, unknown>);
    expect(fields.map((f) => f.name)).toEqual(properties);
    // Today's kinds only use types the mapper gives a typed control: none falls back to a JSON textarea.
    expect(fields.filter((f) => f.kind === 'json').map((f) => f.name)).toEqual([]);
  });

  it('offers only submittable kinds', () => {
    // Act
    const kinds = jobFormKinds(KINDS).map((k) => k.kind);

    // Assess
    expect(kinds).toContain('system.sleep');
    expect(kinds).toContain('data.main_l5');
    expect(kinds).not.toContain('data.main_l5.day_batch');
    expect(kinds).not.toContain('data.main_l5.finalize');
    expect(kinds).toEqual(KINDS.filter((k) => k.submittable).map((k) => k.kind));
  });

  it('maps system.sleep: seconds a required number 1 to 840, fail_at_pct optional 0 to 1, fail_retryable a checkbox', () => {
    // Act
    const fields = jobFormFields(schemaOf('system.sleep'));

    // Assess
    expect(field(fields, 'seconds')).toMatchObject({ kind: 'number', required: true, min: 1, max: 840, step: 'any' });
    expect(field(fields, 'seconds').default).toBeUndefined();
    expect(field(fields, 'seconds').hint).toBe('number 1 to 840');
    expect(field(fields, 'fail_at_pct')).toMatchObject({ kind: 'number', required: false, min: 0, max: 1 });
    expect(field(fields, 'fail_at_pct').hint).toBe('number 0 to 1; optional');
    expect(field(fields, 'fail_retryable')).toMatchObject({ kind: 'checkbox', required: false, default: true });
  });

  it('maps a data kind: var a select of cu, au, ag with the page variety preselected, booleans and bounded integers', () => {
    // Act
    const fields = jobFormFields(schemaOf('data.main_l5'), { presets: { var: 'au' } });

    // Assess
    expect(field(fields, 'var')).toMatchObject({
      kind: 'select',
      required: true,
      options: ['cu', 'au', 'ag'],
      default: 'au',
    });
    expect(initialControlValue(field(fields, 'var'))).toBe('au');
    expect(field(fields, 'full_rebuild')).toMatchObject({ kind: 'checkbox', default: false });
    expect(field(fields, 'days_per_job')).toMatchObject({ kind: 'integer', required: false, min: 1, max: 50, step: 1 });
    expect(field(fields, 'max_concurrency')).toMatchObject({ kind: 'integer', min: 1, max: 32 });
  });

  it('maps data.validate: date strings with their pattern, and no fake maximum for an unbounded integer', () => {
    // Act
    const fields = jobFormFields(schemaOf('data.validate'), { presets: { var: 'ag' } });

    // Assess
    expect(field(fields, 'start')).toMatchObject({ kind: 'text', required: false, pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
    const segments = field(fields, 'max_segments_per_day');
    expect(segments).toMatchObject({ kind: 'integer', min: 10 });
    expect(segments.max).toBeUndefined();
    expect(field(fields, 'provider_check')).toMatchObject({ kind: 'checkbox', default: true });
    expect(field(fields, 'gap_threshold_s')).toMatchObject({ kind: 'number', min: 0.5 });
    expect(field(fields, 'var').default).toBe('ag');
  });

  it('gives system.selftest no fields', () => {
    expect(jobFormFields(schemaOf('system.selftest'))).toEqual([]);
  });

  it.each(KINDS.filter((k) => k.submittable).map((k) => [k.kind] as const))(
    'posts params that %s accepts when only the required fields without a default are filled',
    (kind) => {
      // Prepare
      const fields = jobFormFields(schemaOf(kind), { presets: { var: 'cu' } });
      const read = (f: JobFormField): string | boolean => {
        if (f.kind === 'checkbox') return f.default === true;
        if (f.default === undefined && f.required) return String(f.min ?? 1);
        return initialControlValue(f);
      };

      // Act
      const built = buildJobParams(fields, read);

      // Assess
      expect(built.ok).toBe(true);
      if (!built.ok) return;
      const parsed = JOB_KINDS.get(kind)?.params.safeParse(built.params);
      expect(parsed?.success, JSON.stringify(parsed?.error?.issues)).toBe(true);
    },
  );
});

describe('jobFormFields edge cases', () => {
  it('maps a nullable number (type [number, null]) and a nullable enum (anyOf with null)', () => {
    // Act
    const n = one({ type: ['number', 'null'], minimum: 1 });
    const e = one({ anyOf: [{ type: 'string', enum: ['x', 'y'] }, { type: 'null' }] }, false);

    // Assess
    expect(n).toMatchObject({ kind: 'number', nullable: true, min: 1, required: true });
    expect(n.hint).toBe('number ≥ 1; or empty for null');
    expect(e).toMatchObject({ kind: 'select', nullable: true, options: ['x', 'y'], required: false });
  });

  it('maps const and unions of constants to selects, keeping non-string values typed', () => {
    // Act
    const c = one({ type: 'string', const: 'only' });
    const u = one({ anyOf: [{ const: 1 }, { const: 2 }, { enum: [3] }] });

    // Assess
    expect(c).toMatchObject({ kind: 'select', options: ['only'] });
    expect(u).toMatchObject({ kind: 'select', options: [1, 2, 3] });
    expect(selectOptions(u).map((o) => o.value)).toEqual(['1', '2', '3']);
    expect(fieldValue(u, '2')).toEqual({ ok: true, value: 2 });
  });

  it('maps arrays of strings, bounded integers and enum items to lists', () => {
    // Act
    const s = one({ type: 'array', items: { type: 'string' }, default: ['a', 'b'] }, false);
    const i = one({ type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, maxItems: 3 });
    const e = one({ type: 'array', items: { type: 'string', enum: ['a', 'b'] } });

    // Assess
    expect(s).toMatchObject({ kind: 'list', itemKind: 'text', default: ['a', 'b'] });
    expect(initialControlValue(s)).toBe('a\nb');
    expect(i).toMatchObject({ kind: 'list', itemKind: 'integer', minItems: 1, maxItems: 3 });
    expect(i.hint).toBe('one item per line, each an integer ≥ 1, 1 to 3 items');
    expect(e).toMatchObject({ kind: 'list', itemKind: 'text', options: ['a', 'b'] });
  });

  it.each([
    ['a nested object', { type: 'object', properties: { x: { type: 'number' } } }],
    ['a record', { type: 'object', additionalProperties: { type: 'number' } }],
    ['a tuple', { type: 'array', prefixItems: [{ type: 'string' }], items: false }],
    ['an array of objects', { type: 'array', items: { type: 'object' } }],
    ['any value (unrepresentable)', {}],
    ['a multi-type value', { type: ['string', 'number'] }],
    ['a union of schemas', { anyOf: [{ type: 'string' }, { type: 'number' }] }],
    ['an unresolved reference', { $ref: '#/$defs/missing' }],
  ])('falls back to a JSON field for %s, saying so', (_, prop) => {
    // Act
    const f = one(prop as Record<string, unknown>);

    // Assess
    expect(f.kind).toBe('json');
    expect(f.required).toBe(true);
    expect(f.description).toMatch(/^No form control for this parameter \(.+\): enter its value as JSON\.$/);
  });

  it('keeps the schema description ahead of the fallback explanation', () => {
    expect(one({ type: 'object', description: 'Per-day overrides.' }).description).toBe(
      'Per-day overrides. No form control for this parameter (a nested object): enter its value as JSON.',
    );
  });

  it('makes an optional boolean without a default a three-state select, not a checkbox', () => {
    // Act
    const f = one({ type: 'boolean' }, false);

    // Assess
    expect(f).toMatchObject({ kind: 'select', options: [true, false], required: false });
    expect(selectOptions(f).map((o) => o.value)).toEqual(['true', 'false']);
    expect(fieldValue(f, 'false')).toEqual({ ok: true, value: false });
    expect(fieldValue(f, '')).toEqual({ ok: true, omit: true });
  });

  it('folds integer exclusive bounds into inclusive ones and keeps a number exclusive bound as a hint', () => {
    // Act
    const i = one({ type: 'integer', exclusiveMinimum: 0, maximum: Number.MAX_SAFE_INTEGER });
    const n = one({ type: 'number', exclusiveMinimum: 0, multipleOf: 0.5 });

    // Assess
    expect(i).toMatchObject({ kind: 'integer', min: 1 });
    expect(i.max).toBeUndefined();
    expect(n).toMatchObject({ kind: 'number', exclusiveMin: 0, step: 0.5 });
    expect(n.min).toBeUndefined();
    expect(n.hint).toBe('number > 0, multiple of 0.5');
  });

  it('resolves local $defs references and uses a title as the label', () => {
    // Act
    const fields = jobFormFields({
      type: 'object',
      properties: { side: { $ref: '#/$defs/Side' } },
      required: ['side'],
      $defs: { Side: { type: 'string', enum: ['long', 'short'], title: 'Side' } },
    });

    // Assess
    expect(fields[0]).toMatchObject({ name: 'side', label: 'Side', kind: 'select', options: ['long', 'short'] });
  });

  it('turns a params schema that is not an object into one root JSON field', () => {
    // Act
    const fields = jobFormFields({ anyOf: [{ type: 'object' }, { type: 'null' }] });

    // Assess
    expect(fields).toHaveLength(1);
    expect(fields[0]).toMatchObject({ name: 'params', kind: 'json', root: true, required: true });
    expect(buildJobParams(fields, () => '{"a": 1}')).toEqual({ ok: true, params: { a: 1 } });
    expect(buildJobParams(fields, () => '[1]')).toEqual({
      ok: false,
      errors: { params: 'params must be a JSON object' },
    });
  });

  it('uses a preset only when it fits the field, and a schema default over a preset', () => {
    // Act
    const bad = jobFormFields(schemaOf('data.schedule'), { presets: { var: 'ni' } });
    const withDefault = one({ type: 'string', enum: ['cu', 'au'], default: 'cu' });
    const preset = jobFormFields(
      { type: 'object', properties: { var: { type: 'string', enum: ['cu', 'au'], default: 'cu' } } },
      { presets: { var: 'au' } },
    );
    const wrongDefault = one({ type: 'number', default: 'ten' }, false);

    // Assess
    expect(field(bad, 'var').default).toBeUndefined();
    expect(initialControlValue(field(bad, 'var'))).toBe('');
    expect(withDefault.default).toBe('cu');
    expect(field(preset, 'var').default).toBe('cu');
    expect(wrongDefault.default).toBeUndefined();
  });
});

describe('fieldValue and buildJobParams', () => {
  const num = one({ type: 'number', minimum: 1 });
  const int = one({ type: 'integer' }, false);
  const nullableInt = one({ type: ['integer', 'null'] });
  const text = one({ type: 'string' });
  const list = one({ type: 'array', items: { type: 'number' } }, false);
  const json = one({ type: 'object' });

  it.each([
    ['a number', num, '2.5', { ok: true, value: 2.5 }],
    ['an integer', int, '7', { ok: true, value: 7 }],
    ['an empty optional integer (left to the default)', int, '', { ok: true, omit: true }],
    ['an empty required nullable integer', nullableInt, '', { ok: true, value: null }],
    ['text as typed', text, ' a b ', { ok: true, value: ' a b ' }],
    ['a list, one number per line, blank lines ignored', list, '1\n\n 2.5 \r\n3', { ok: true, value: [1, 2.5, 3] }],
    ['JSON', json, '{"x": [1, true]}', { ok: true, value: { x: [1, true] } }],
  ])('reads %s', (_, f, raw, expected) => {
    expect(fieldValue(f, raw)).toEqual(expected);
  });

  it.each([
    ['a number that is not one', num, 'abc', /not a number/],
    ['an integer with a fraction', int, '1.5', /not an integer/],
    ['an empty required number', num, '', /p is required/],
    ['an empty required text', text, '', /p is required/],
    ['a list item that is not a number', list, '1\nx', /not a number/],
    ['malformed JSON', json, '{"x": ', /^invalid JSON: /],
  ])('refuses %s', (_, f, raw, message) => {
    // Act
    const r = fieldValue(f, raw);

    // Assess
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  it('reads a checkbox as a boolean', () => {
    const check = one({ type: 'boolean', default: false }, false);
    expect(fieldValue(check, true)).toEqual({ ok: true, value: true });
    expect(fieldValue(check, false)).toEqual({ ok: true, value: false });
  });

  it('builds system.sleep params as the form posts them', () => {
    // Prepare
    const fields = jobFormFields(schemaOf('system.sleep'));
    const raw: Record<string, string | boolean> = { seconds: '3', fail_at_pct: '', fail_retryable: true };

    // Act
    const built = buildJobParams(fields, (f) => raw[f.name] ?? '');

    // Assess
    expect(built).toEqual({ ok: true, params: { seconds: 3, fail_retryable: true } });
  });

  it('collects every field error and posts nothing', () => {
    // Prepare
    const fields = jobFormFields({
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'object' }, c: { type: 'string' } },
      required: ['a', 'b'],
    });

    // Act
    const built = buildJobParams(fields, (f) => (f.name === 'a' ? 'x' : f.name === 'b' ? '{' : 'ok'));

    // Assess
    expect(built.ok).toBe(false);
    if (!built.ok) expect(Object.keys(built.errors)).toEqual(['a', 'b']);
  });
});

describe('issuesByField', () => {
  it('puts params issues on their field, and note, kind and unowned issues apart', () => {
    // Prepare
    const fields = jobFormFields(schemaOf('system.sleep'));

    // Act
    const mapped = issuesByField(
      [
        { path: ['params', 'seconds'], message: 'Too big: expected number to be <=840' },
        { path: ['params', 'fail_at_pct'], message: 'Too small' },
        { path: ['params'], message: 'Unrecognized key: "argv"' },
        { path: ['note'], message: 'Too big' },
        { path: ['kind'], message: 'expected one of …' },
        { path: ['params', 'ghost'], message: 'no such field' },
      ],
      fields,
    );

    // Assess
    expect(mapped.fields).toEqual({
      seconds: ['Too big: expected number to be <=840'],
      fail_at_pct: ['Too small'],
    });
    expect(mapped.note).toEqual(['Too big']);
    expect(mapped.kind).toEqual(['expected one of …']);
    expect(mapped.general).toEqual(['params: Unrecognized key: "argv"', 'params.ghost: no such field']);
  });

  it('keeps the rest of a nested path in the message', () => {
    const fields = jobFormFields({ type: 'object', properties: { h: { type: 'array', items: { type: 'integer' } } } });
    expect(issuesByField([{ path: ['params', 'h', 1], message: 'Too small' }], fields).fields).toEqual({
      h: ['1: Too small'],
    });
  });
});

describe('jobFieldId', () => {
  it('derives a valid, readable id from the kind and param', () => {
    expect(jobFieldId('data.main_l5', 'days_per_job')).toBe('jf-data-main_l5-days_per_job');
    expect(jobFieldId('system.sleep', 'seconds')).toMatch(/^[A-Za-z][\w-]*$/);
  });
});
