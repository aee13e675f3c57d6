/**
 * The Jobs page's submit form (control-chain §8 `/v/{var}/jobs`), generated from a kind's params JSON Schema as
 * `GET /api/jobs/kinds` serves it (`z.toJSONSchema(params, { io: 'input', unrepresentable: 'any' })`).
 *
 * Three pure steps, shared by the server rendering and the browser script (no zod here, so the bundle stays small):
 * `jobFormFields` maps the schema to field descriptors, `buildJobParams` turns the controls' raw values back into typed
 * params, and `issuesByField` puts a 400 `validation_failed` answer's issues next to the fields they name.
 *
 * Mapped: an object's properties of type string, number, integer, boolean, `enum`, `const`, unions of constants, arrays
 * of strings or numbers, nullable variants (`type: [T, "null"]` or `anyOf` with `{type: "null"}`), `default`, bounds,
 * `description`, `required`, and local `$ref`s. Anything else becomes a JSON textarea for that property, and its
 * description says so: a parameter is never silently dropped.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonScalar = string | number | boolean | null;

export type JobFormFieldKind = 'text' | 'number' | 'integer' | 'checkbox' | 'select' | 'list' | 'json';

export interface JobFormField {
  /** The param's name (`params.<name>`); `params` for a root field. */
  name: string;
  label: string;
  kind: JobFormFieldKind;
  /** The schema requires the param (no default on input). */
  required: boolean;
  /** The param accepts `null`: an empty required control posts `null`. */
  nullable: boolean;
  /** The control's initial value, typed as the param (schema default, else a preset such as the page's variety). */
  default?: JsonValue;
  /** Inclusive numeric bounds (`integer` exclusive bounds are folded in). */
  min?: number;
  max?: number;
  exclusiveMin?: number;
  exclusiveMax?: number;
  step?: number | 'any';
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  /** `select`: the allowed values; `list`: the allowed item values, when restricted. */
  options?: JsonScalar[];
  /** `list`: how each line is typed. */
  itemKind?: 'text' | 'number' | 'integer';
  minItems?: number;
  maxItems?: number;
  /** The schema's description; for a JSON fallback, why there is no form control. */
  description?: string;
  /** The constraints in words (type, bounds, format, optional). */
  hint: string;
  /** The whole params object is this one JSON field (a params schema that is not an object with properties). */
  root?: true;
}

export interface JobFormOptions {
  /** Initial values for params without a schema default, used only when valid for the field (e.g. `{var: "cu"}`). */
  presets?: Record<string, JsonValue>;
}

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): v is JsonScalar {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

function num(v: unknown): number | undefined {
  // zod writes ±MAX_SAFE_INTEGER as an integer's implicit bounds: not a real constraint, so not shown.
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined;
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

function isNullNode(n: unknown): boolean {
  return isNode(n) && (n.type === 'null' || (n.const === null && n.type === undefined));
}

/** Resolve a local `#/$defs/x` (or `#/definitions/x`) reference; anything else stays as it is. */
function resolve(node: Node, root: Node, seen: Set<string> = new Set()): Node {
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
  if (!m || seen.has(ref)) return node;
  const defs = root[m[1] as string];
  const target = isNode(defs)
    ? defs[decodeURIComponent((m[2] as string).replace(/~1/g, '/').replace(/~0/g, '~'))]
    : null;
  if (!isNode(target)) return node;
  const { $ref: _ref, ...rest } = node;
  return { ...resolve(target, root, new Set([...seen, ref])), ...rest };
}

/** Split off `null` (`type: [T, "null"]` or `anyOf: [T, {type: "null"}]`): the non-null schema and whether null is allowed. */
function stripNull(node: Node, root: Node): { node: Node; nullable: boolean } {
  if (Array.isArray(node.type) && node.type.includes('null')) {
    const rest = node.type.filter((t) => t !== 'null');
    return { node: { ...node, type: rest.length === 1 ? rest[0] : rest }, nullable: true };
  }
  const union = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : null;
  if (union?.some(isNullNode)) {
    const others = union.filter((n) => !isNullNode(n));
    const { anyOf: _a, oneOf: _o, ...outer } = node;
    if (others.length === 1 && isNode(others[0])) {
      return { node: { ...resolve(others[0], root), ...outer }, nullable: true };
    }
    return { node: { ...outer, anyOf: others }, nullable: true };
  }
  return { node, nullable: false };
}

/** Every value of a union of constants (`anyOf: [{const: a}, {enum: [b, c]}]`), or null when it is not one. */
function unionConstants(node: Node, root: Node): JsonScalar[] | null {
  const union = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : null;
  if (!union || union.length === 0) return null;
  const out: JsonScalar[] = [];
  for (const raw of union) {
    if (!isNode(raw)) return null;
    const n = resolve(raw, root);
    if ('const' in n && isScalar(n.const)) out.push(n.const);
    else if (Array.isArray(n.enum) && n.enum.every(isScalar)) out.push(...(n.enum as JsonScalar[]));
    else return null;
  }
  return out;
}

function humanList(values: JsonScalar[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

function boundsHint(f: Pick<JobFormField, 'min' | 'max' | 'exclusiveMin' | 'exclusiveMax'>): string {
  const parts: string[] = [];
  if (f.min !== undefined && f.max !== undefined) parts.push(`${f.min} to ${f.max}`);
  else if (f.min !== undefined) parts.push(`≥ ${f.min}`);
  else if (f.max !== undefined) parts.push(`≤ ${f.max}`);
  if (f.exclusiveMin !== undefined) parts.push(`> ${f.exclusiveMin}`);
  if (f.exclusiveMax !== undefined) parts.push(`< ${f.exclusiveMax}`);
  return parts.join(', ');
}

function numericBounds(node: Node, integer: boolean): Partial<JobFormField> {
  const out: Partial<JobFormField> = {};
  let min = num(node.minimum);
  let max = num(node.maximum);
  const exMin = num(node.exclusiveMinimum);
  const exMax = num(node.exclusiveMaximum);
  if (exMin !== undefined) {
    if (integer) min = Math.max(min ?? -Infinity, Math.floor(exMin) + 1);
    else out.exclusiveMin = exMin;
  }
  if (exMax !== undefined) {
    if (integer) max = Math.min(max ?? Infinity, Math.ceil(exMax) - 1);
    else out.exclusiveMax = exMax;
  }
  if (min !== undefined) out.min = min;
  if (max !== undefined) out.max = max;
  const multiple = num(node.multipleOf);
  out.step = multiple !== undefined && multiple > 0 ? multiple : integer ? 1 : 'any';
  return out;
}

/** Whether `v` is a value this field can show (defaults and presets that do not fit are not used). */
function fits(field: JobFormField, v: JsonValue): boolean {
  if (v === null) return field.nullable;
  switch (field.kind) {
    case 'text':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'checkbox':
      return typeof v === 'boolean';
    case 'select':
      return (field.options ?? []).some((o) => o === v);
    case 'list':
      return (
        Array.isArray(v) &&
        v.every((i) => (field.itemKind === 'text' ? typeof i === 'string' : typeof i === 'number')) &&
        (field.options === undefined || v.every((i) => (field.options ?? []).includes(i as JsonScalar)))
      );
    case 'json':
      return true;
  }
}

interface Mapped {
  field: Omit<JobFormField, 'name' | 'label' | 'required' | 'hint' | 'default'>;
  typeHint: string;
}

function jsonFallback(nullable: boolean, reason: string, description: string | undefined): Mapped {
  const why = `No form control for this parameter (${reason}): enter its value as JSON.`;
  return {
    field: { kind: 'json', nullable, description: description ? `${description} ${why}` : why },
    typeHint: 'JSON',
  };
}

/** One property's schema -> its control (without name, label, required, default and hint). */
function mapNode(raw: Node, root: Node): Mapped {
  const resolved = resolve(raw, root);
  const { node, nullable } = stripNull(resolved, root);
  const description = typeof node.description === 'string' ? node.description : undefined;
  const withDescription = description ? { description } : {};

  if (typeof node.$ref === 'string') return jsonFallback(nullable, `unresolved reference ${node.$ref}`, description);
  if ('const' in node && isScalar(node.const)) {
    return {
      field: { kind: 'select', nullable, options: [node.const], ...withDescription },
      typeHint: `exactly ${humanList([node.const])}`,
    };
  }
  if (Array.isArray(node.enum)) {
    const options = node.enum.filter((v) => v !== null);
    if (options.length > 0 && options.every(isScalar)) {
      return {
        field: { kind: 'select', nullable: nullable || node.enum.includes(null), options, ...withDescription },
        typeHint: `one of ${humanList(options)}`,
      };
    }
    return jsonFallback(nullable, 'an enum of non-scalar values', description);
  }
  const constants = unionConstants(node, root);
  if (constants) {
    const options = constants.filter((v) => v !== null);
    return {
      field: { kind: 'select', nullable: nullable || constants.includes(null), options, ...withDescription },
      typeHint: `one of ${humanList(options)}`,
    };
  }
  if (node.anyOf !== undefined || node.oneOf !== undefined || node.allOf !== undefined) {
    return jsonFallback(nullable, 'a union or intersection of schemas', description);
  }
  const type = node.type;
  if (typeof type !== 'string') {
    return jsonFallback(
      nullable,
      Array.isArray(type) ? `a value of type ${type.join(' or ')}` : 'any JSON value',
      description,
    );
  }
  if (type === 'boolean') {
    return { field: { kind: 'checkbox', nullable, ...withDescription }, typeHint: 'yes or no' };
  }
  if (type === 'number' || type === 'integer') {
    const integer = type === 'integer';
    const bounds = numericBounds(node, integer);
    const b = boundsHint(bounds);
    const step = typeof bounds.step === 'number' && bounds.step !== 1 ? `, multiple of ${bounds.step}` : '';
    return {
      field: { kind: integer ? 'integer' : 'number', nullable, ...bounds, ...withDescription },
      typeHint: `${integer ? 'integer' : 'number'}${b ? ` ${b}` : ''}${step}`,
    };
  }
  if (type === 'string') {
    const field: Mapped['field'] = { kind: 'text', nullable, ...withDescription };
    const minLength = count(node.minLength);
    const maxLength = count(node.maxLength);
    if (minLength !== undefined) field.minLength = minLength;
    if (maxLength !== undefined) field.maxLength = maxLength;
    if (typeof node.pattern === 'string') field.pattern = node.pattern;
    if (typeof node.format === 'string') field.format = node.format;
    const parts = ['text'];
    if (field.format) parts.push(`format ${field.format}`);
    else if (field.pattern) parts.push(`matching ${field.pattern}`);
    if (minLength !== undefined && maxLength !== undefined) parts.push(`${minLength} to ${maxLength} characters`);
    else if (minLength !== undefined) parts.push(`at least ${minLength} characters`);
    else if (maxLength !== undefined) parts.push(`at most ${maxLength} characters`);
    return { field, typeHint: parts.join(', ') };
  }
  if (type === 'array') {
    const items = isNode(node.items) ? resolve(node.items, root) : null;
    if (node.prefixItems !== undefined || !items)
      return jsonFallback(nullable, 'a tuple or untyped array', description);
    const itemType = items.type;
    if (typeof itemType !== 'string' || !['string', 'number', 'integer'].includes(itemType)) {
      return jsonFallback(nullable, 'an array whose items are not strings or numbers', description);
    }
    if (items.anyOf !== undefined || items.oneOf !== undefined || items.allOf !== undefined) {
      return jsonFallback(nullable, 'an array of union items', description);
    }
    const itemKind = itemType === 'string' ? 'text' : (itemType as 'number' | 'integer');
    const field: Mapped['field'] = { kind: 'list', nullable, itemKind, ...withDescription };
    let itemHint = itemType === 'string' ? 'text' : itemType === 'integer' ? 'an integer' : 'a number';
    if (Array.isArray(items.enum) && items.enum.every(isScalar)) {
      field.options = items.enum as JsonScalar[];
      itemHint = `one of ${humanList(field.options)}`;
    } else if (itemKind !== 'text') {
      const b = boundsHint(numericBounds(items, itemKind === 'integer'));
      if (b) itemHint += ` ${b}`;
    }
    const minItems = count(node.minItems);
    const maxItems = count(node.maxItems);
    if (minItems !== undefined) field.minItems = minItems;
    if (maxItems !== undefined) field.maxItems = maxItems;
    const sizes =
      minItems !== undefined && maxItems !== undefined
        ? `, ${minItems} to ${maxItems} items`
        : minItems !== undefined
          ? `, at least ${minItems} items`
          : maxItems !== undefined
            ? `, at most ${maxItems} items`
            : '';
    return { field, typeHint: `one item per line, each ${itemHint}${sizes}` };
  }
  if (type === 'object') return jsonFallback(nullable, 'a nested object', description);
  return jsonFallback(nullable, `type ${type}`, description);
}

/**
 * A kind's params JSON Schema -> its form fields, in the schema's property order. Never throws on a schema it does not
 * understand: such a property (or the whole params, when the root is not an object schema) is a JSON field.
 */
export function jobFormFields(schema: unknown, opts: JobFormOptions = {}): JobFormField[] {
  const root = isNode(schema) ? schema : {};
  const top = resolve(root, root);
  const properties = isNode(top.properties) ? top.properties : null;
  if (top.type !== 'object' || !properties || top.anyOf !== undefined || top.oneOf !== undefined) {
    const mapped = jsonFallback(false, 'the params schema is not a plain object', undefined);
    return [{ name: 'params', label: 'params', required: true, root: true, hint: 'a JSON object', ...mapped.field }];
  }
  const required = new Set(Array.isArray(top.required) ? top.required.filter((r) => typeof r === 'string') : []);
  const fields: JobFormField[] = [];
  for (const [name, raw] of Object.entries(properties)) {
    const node = isNode(raw) ? raw : {};
    const resolved = resolve(node, root);
    const isRequired = required.has(name);
    const mapped = mapNode(node, root);
    let field: JobFormField = {
      name,
      label: typeof resolved.title === 'string' && resolved.title ? resolved.title : name,
      required: isRequired,
      hint: '',
      ...mapped.field,
    };
    // A boolean the caller may leave unset (no default) or set to null has three states: a select, not a checkbox.
    if (field.kind === 'checkbox' && (field.nullable || (!isRequired && !('default' in resolved)))) {
      field = { ...field, kind: 'select', options: [true, false] };
    }
    if ('default' in resolved && resolved.default !== undefined && fits(field, resolved.default as JsonValue)) {
      field.default = resolved.default as JsonValue;
    } else {
      const preset = opts.presets?.[name];
      if (preset !== undefined && fits(field, preset)) field.default = preset;
    }
    const hints = [mapped.typeHint];
    if (field.nullable) hints.push('or empty for null');
    if ('default' in resolved && resolved.default !== undefined) {
      hints.push(`default ${JSON.stringify(resolved.default)}`);
    } else if (!isRequired) hints.push('optional');
    field.hint = hints.join('; ');
    fields.push(field);
  }
  return fields;
}

// ---------------------------------------------------------------------------------------------------------------
// Controls <-> values
// ---------------------------------------------------------------------------------------------------------------

/** A DOM id fragment for a kind or param name (`data.main_l5` -> `data-main_l5`). */
export function idPart(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '-');
}

/** The id of a field's control on the Jobs page. */
export function jobFieldId(kind: string, name: string): string {
  return `jf-${idPart(kind)}-${idPart(name)}`;
}

/** A select's options as rendered: `<option value>` strings (raw strings when every option is one, else JSON). */
export function selectOptions(field: JobFormField): { value: string; label: string; raw: JsonScalar }[] {
  const options = field.options ?? [];
  const allStrings = options.every((o) => typeof o === 'string');
  return options.map((o) => ({
    value: allStrings ? (o as string) : JSON.stringify(o),
    label: typeof o === 'string' ? o : o === true ? 'yes (true)' : o === false ? 'no (false)' : String(o),
    raw: o,
  }));
}

/** The control's initial value as a string (text, number, select, list one item per line, JSON pretty-printed). */
export function initialControlValue(field: JobFormField): string {
  const v = field.default;
  if (v === undefined || v === null) return '';
  switch (field.kind) {
    case 'select':
      return selectOptions(field).find((o) => o.raw === v)?.value ?? '';
    case 'list':
      return Array.isArray(v) ? v.map((i) => String(i)).join('\n') : '';
    case 'json':
      return JSON.stringify(v, null, 2);
    default:
      return String(v);
  }
}

export type FieldResult = { ok: true; value: JsonValue } | { ok: true; omit: true } | { ok: false; message: string };

function parseNumber(text: string, integer: boolean): number | string {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) return `“${text}” is not a number`;
  if (integer && !Number.isInteger(n)) return `“${text}” is not an integer`;
  return n;
}

/**
 * One control's raw value (a checkbox's checked state, else its string) -> the param's value. Empty optional controls
 * are left out so the server applies the kind's default; an empty nullable one posts `null` when the param is required.
 */
export function fieldValue(field: JobFormField, raw: string | boolean): FieldResult {
  if (field.kind === 'checkbox') return { ok: true, value: raw === true || raw === 'true' || raw === 'on' };
  const text = typeof raw === 'string' ? raw : String(raw);
  const empty = field.kind === 'json' || field.kind === 'list' ? text.trim() === '' : text === '';
  if (empty) {
    if (!field.required) return { ok: true, omit: true };
    if (field.nullable) return { ok: true, value: null };
    if (field.kind === 'list') return { ok: true, value: [] };
    return { ok: false, message: `${field.label} is required` };
  }
  switch (field.kind) {
    case 'text':
      return { ok: true, value: text };
    case 'number':
    case 'integer': {
      const n = parseNumber(text, field.kind === 'integer');
      return typeof n === 'number' ? { ok: true, value: n } : { ok: false, message: n };
    }
    case 'select': {
      const option = selectOptions(field).find((o) => o.value === text);
      return option ? { ok: true, value: option.raw } : { ok: false, message: `“${text}” is not one of the choices` };
    }
    case 'list': {
      const lines = text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '');
      if (field.itemKind === 'text') return { ok: true, value: lines };
      const out: number[] = [];
      for (const line of lines) {
        const n = parseNumber(line, field.itemKind === 'integer');
        if (typeof n !== 'number') return { ok: false, message: n };
        out.push(n);
      }
      return { ok: true, value: out };
    }
    case 'json': {
      try {
        const value = JSON.parse(text) as JsonValue;
        if (field.root && !isNode(value)) return { ok: false, message: 'params must be a JSON object' };
        return { ok: true, value };
      } catch (err) {
        return { ok: false, message: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
  }
}

/** Every field's value -> `params`, or the per-field errors (nothing is posted while any control is wrong). */
export function buildJobParams(
  fields: readonly JobFormField[],
  read: (field: JobFormField) => string | boolean,
): { ok: true; params: Record<string, JsonValue> } | { ok: false; errors: Record<string, string> } {
  const params: Record<string, JsonValue> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const r = fieldValue(field, read(field));
    if (!r.ok) errors[field.name] = r.message;
    else if ('value' in r) {
      if (field.root) {
        if (isNode(r.value)) Object.assign(params, r.value);
      } else params[field.name] = r.value;
    }
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, params };
}

export interface SubmitIssue {
  path: readonly (string | number)[];
  message: string;
  code?: string;
}

/**
 * A 400 `validation_failed` answer's issues (paths like `["params", "seconds"]`) -> messages per param field, plus
 * the note's, the kind's, and those no field owns (e.g. an unknown key at `["params"]`).
 */
export function issuesByField(
  issues: readonly SubmitIssue[],
  fields: readonly JobFormField[],
): { fields: Record<string, string[]>; note: string[]; kind: string[]; general: string[] } {
  const out = {
    fields: {} as Record<string, string[]>,
    note: [] as string[],
    kind: [] as string[],
    general: [] as string[],
  };
  const rootField = fields.find((f) => f.root);
  const names = new Set(fields.map((f) => f.name));
  const add = (name: string, rest: readonly (string | number)[], message: string) => {
    const list = out.fields[name] ?? [];
    list.push(rest.length > 0 ? `${rest.join('.')}: ${message}` : message);
    out.fields[name] = list;
  };
  for (const issue of issues) {
    const [head, name] = issue.path;
    if (head === 'note') out.note.push(issue.message);
    else if (head === 'kind') out.kind.push(issue.message);
    else if (head === 'params' && rootField) add(rootField.name, issue.path.slice(1), issue.message);
    else if (head === 'params' && typeof name === 'string' && names.has(name)) {
      add(name, issue.path.slice(2), issue.message);
    } else {
      const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      out.general.push(`${where}${issue.message}`);
    }
  }
  return out;
}

/** A kind as the Jobs page offers it. */
export interface JobFormKind {
  kind: string;
  description: string;
  fields: JobFormField[];
}

/** The submittable kinds of `GET /api/jobs/kinds`, mapped (internal kinds are never offered). */
export function jobFormKinds(
  kinds: readonly { kind: string; description: string; params_schema: unknown; submittable: boolean }[],
  opts: JobFormOptions = {},
): JobFormKind[] {
  return kinds
    .filter((k) => k.submittable)
    .map((k) => ({ kind: k.kind, description: k.description, fields: jobFormFields(k.params_schema, opts) }));
}
