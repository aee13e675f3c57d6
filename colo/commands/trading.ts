/**
 * `ghtrader gateway|strategy desired|start|stop|status --account P` (control-chain §6.1, §11): the DesiredService the
 * API uses (`POST /api/{gateway,strategy}/{desired,start,stop}`, `GET …/status`), called directly with the running
 * stack's store credentials as `cli:<os-user>@<host>` (audit actor type `cli`, role admin), so validation, messages,
 * revisions, audit and the warm-path hint are identical. Exit 0 ok, 2 bad input (the service's message), 1 failure
 * (409 `already_running` and `desired_revision_conflict` included).
 *
 * The document flags are generated from the document schema (the same field list as the console's desired form):
 * `--mode`, `--symbols a,b` (or repeated `--symbol S`), and one `--<field>` per other field, nested ones by their own
 * name (`--max-order-size`). `desired` changes the stored document: the flags given replace those fields, the others
 * keep their stored values (a new document starts from the defaults and needs `--mode`); `confirm_live` is never
 * carried over, so every `live_trade` write takes `--confirm-live I_UNDERSTAND` again. Unless `--expected-revision`
 * is given, the write expects the revision it was based on, so a concurrent change is a conflict (exit 1), never lost.
 *
 * With `--api URL` the same four commands ask those routes of the HTTP API as the owner of `GHTRADER_API_TOKEN`
 * (`DesiredSource`): the same answers and exit codes, the default reasons become `api_desired`, `api_start` and
 * `api_stop`, and a document that names no host gets the API's host.
 *
 * The `gateway` and `strategy` command groups are created once by `componentCommand` and shared: the trading chain
 * adds `gateway run` / `gateway command` / `strategy run` next to these through the same function.
 */
import { type Command, Option } from 'commander';
import {
  COMPONENT_KINDS,
  type ComponentKind,
  type DesiredDoc,
  GATEWAY_MODES,
  STRATEGY_MODES,
} from '#shared/domain/control/desired.ts';
import type { Caller } from '#shared/services/auth-service.ts';
import type {
  ComponentStatusView,
  DesiredService,
  DesiredStopResult,
  DesiredWriteResult,
} from '#shared/services/desired-service.ts';
import { desiredFormFields, type FormField } from '#web/routes/trading-model.ts';
import { type ApiClient, allowApi, apiClient } from '../api-client.ts';
import { CliUsageError, reportError, withCliRuntime } from '../cli-support.ts';

export interface Global {
  home?: string;
  json?: boolean;
  api?: string;
}

const MODES: Record<ComponentKind, readonly string[]> = { gateway: GATEWAY_MODES, strategy: STRATEGY_MODES };

/** The `gateway` / `strategy` command group, created on first use so every registrant extends the same one. */
export function componentCommand(program: Command, kind: ComponentKind): Command {
  const existing = program.commands.find((c) => c.name() === kind);
  if (existing) return existing;
  return program
    .command(kind)
    .description(
      kind === 'gateway'
        ? 'the trading gateway of an account profile: desired state, start, stop, status, commands'
        : 'the strategy runner of an account profile: desired state, start, stop, status',
    );
}

type Body = Record<string, unknown>;

/**
 * Where `gateway|strategy desired|start|stop|status` get their answers: the DesiredService with the store credentials
 * (as the CLI caller), or the HTTP API (`--api`) as the token's owner.
 */
export interface DesiredSource {
  /** Prefix of the default reasons: `cli_start` directly, `api_start` through the API (as the API itself defaults). */
  readonly origin: 'cli' | 'api';
  status(kind: ComponentKind, profile: string): Promise<ComponentStatusView>;
  write(kind: ComponentKind, body: Body): Promise<DesiredWriteResult>;
  start(kind: ComponentKind, body: Body): Promise<DesiredWriteResult>;
  stop(kind: ComponentKind, body: Body): Promise<DesiredStopResult>;
}

function storeDesired(service: DesiredService, caller: Caller): DesiredSource {
  return {
    origin: 'cli',
    status: (kind, profile) => service.status(kind, { account_profile: profile }),
    write: (kind, body) => service.write(caller, kind, body),
    start: (kind, body) => service.start(caller, kind, body),
    stop: (kind, body) => service.stop(caller, kind, body),
  };
}

function apiDesired(api: ApiClient): DesiredSource {
  return {
    origin: 'api',
    status: (kind, profile) => api.get<ComponentStatusView>(`/api/${kind}/status`, { account_profile: profile }),
    write: (kind, body) => api.post<DesiredWriteResult>(`/api/${kind}/desired`, body),
    start: (kind, body) => api.post<DesiredWriteResult>(`/api/${kind}/start`, body),
    stop: (kind, body) => api.post<DesiredStopResult>(`/api/${kind}/stop`, body),
  };
}

/**
 * Run `fn` with the desired state of the stack under `--home` (its runtime wired as the API wires it; logs on
 * stderr), or of the API at `--api`.
 */
function withDesired<T>(g: Global, writes: boolean, fn: (src: DesiredSource) => Promise<T>): Promise<T> {
  if (g.api !== undefined) return fn(apiDesired(apiClient(g.api)));
  return withCliRuntime(g.home, writes, (rt, caller) => fn(storeDesired(rt.desired, caller)));
}

/** One document flag: its option, the field it sets and how its text becomes a value. */
interface FieldFlag {
  option: Option;
  field: FormField;
}

function kebab(s: string): string {
  return s.replace(/_/g, '-');
}

/** The document flags of a component, from its schema (`--symbols` for the list; nested fields by their own name). */
export function documentFlags(kind: ComponentKind): FieldFlag[] {
  return desiredFormFields(kind, null).flatMap((g) =>
    g.fields.map((field) => {
      const leaf = field.path[field.path.length - 1] as string;
      const flag = `--${kebab(leaf)}`;
      const what =
        field.kind === 'enum'
          ? `<${leaf}>`
          : field.kind === 'list'
            ? '<a,b>'
            : field.kind === 'boolean'
              ? '<true|false>'
              : field.kind === 'nullable_number'
                ? '<n|none>'
                : field.kind === 'integer' || field.kind === 'number'
                  ? '<n>'
                  : '<text>';
      const help =
        field.kind === 'enum'
          ? `${field.name}: one of ${(field.options ?? []).join(', ')}`
          : field.kind === 'confirm'
            ? `${field.name}: I_UNDERSTAND, required for mode live_trade`
            : field.kind === 'list'
              ? `${field.name}, comma-separated (empty clears)`
              : field.name === 'host_id'
                ? 'host_id: the supervisor host that runs it (default: the stored one, else this host; with --api, the API host)'
                : `${field.name}${field.default === undefined ? '' : ` (default ${JSON.stringify(field.default)})`}`;
      return { option: new Option(`${flag} ${what}`, help), field };
    }),
  );
}

/** A flag's text as the field's JSON value; numbers and booleans must parse, the service checks the rest. */
export function flagValue(flag: string, field: FormField, raw: string): unknown {
  const number = (): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n))
      throw new CliUsageError(`${flag} expects a number, got ${JSON.stringify(raw)}`);
    return n;
  };
  switch (field.kind) {
    case 'integer':
    case 'number':
      return number();
    case 'nullable_number':
      return raw === 'none' ? null : number();
    case 'boolean':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw new CliUsageError(`${flag} expects true or false, got ${JSON.stringify(raw)}`);
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    default:
      return raw;
  }
}

type Opts = Record<string, unknown>;

/** The flags given, as `[path, value]` pairs (`--symbol` repeated adds to `--symbols`). */
function givenFields(kind: ComponentKind, o: Opts): [string[], unknown][] {
  const out: [string[], unknown][] = [];
  for (const { option, field } of documentFlags(kind)) {
    const raw = o[option.attributeName()];
    if (raw === undefined) continue;
    out.push([field.path, flagValue(option.long as string, field, String(raw))]);
  }
  const repeated = o.symbol as string[] | undefined;
  if (repeated && repeated.length > 0) {
    const i = out.findIndex(([p]) => p[0] === 'symbols');
    const listed = i >= 0 ? (out[i]?.[1] as string[]) : [];
    const all = [...listed, ...repeated];
    if (i >= 0) out.splice(i, 1);
    out.push([['symbols'], all]);
  }
  return out;
}

/**
 * The document to send: the stored one (without its `confirm_live`) with the given fields replaced, or, without a
 * stored one, the given fields alone (which must include `--mode`).
 */
export function mergedDocument(
  kind: ComponentKind,
  profile: string,
  stored: DesiredDoc | null,
  given: [string[], unknown][],
): Record<string, unknown> {
  if (!stored && !given.some(([p]) => p[0] === 'mode')) {
    throw new CliUsageError(
      `--mode is required: ${profile} has no desired ${kind} document yet (modes: ${MODES[kind].join(', ')})`,
    );
  }
  const doc = structuredClone((stored ?? {}) as Record<string, unknown>);
  delete doc.confirm_live;
  for (const [path, value] of given) {
    let cur = doc;
    for (const p of path.slice(0, -1)) {
      if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
      cur = cur[p] as Record<string, unknown>;
    }
    cur[path[path.length - 1] as string] = value;
  }
  return doc;
}

function reasonOf(o: Opts): { reason?: string } {
  if (o.reason === undefined) return {};
  const r = String(o.reason);
  if (r.trim() === '') throw new CliUsageError('--reason must not be empty');
  return { reason: r };
}

function expectedOf(o: Opts): number | undefined {
  if (o.expectedRevision === undefined) return undefined;
  const raw = String(o.expectedRevision);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new CliUsageError(`--expected-revision must be a revision number ≥ 0, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

function docLine(doc: DesiredDoc | null | Record<string, unknown>): string {
  if (!doc) return 'none';
  const d = doc as Record<string, unknown>;
  const rest = Object.entries(d)
    .filter(([k]) => k !== 'mode' && k !== 'symbols')
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  const symbols = Array.isArray(d.symbols) && d.symbols.length > 0 ? d.symbols.join(',') : 'none';
  return `mode ${String(d.mode)}, symbols ${symbols}; ${rest.join(' ')}`;
}

function statusText(v: ComponentStatusView): string {
  const sup = v.supervisor;
  const restarts = sup ? Object.values(sup.restart_reasons_total).reduce((a, b) => a + b, 0) : 0;
  return [
    `${v.component} ${v.account_profile}: ${v.component_status}${v.stale ? ' (stale)' : ''} — ${v.text}`,
    v.desired_revision === null
      ? 'desired: none'
      : `desired revision ${v.desired_revision} by ${v.desired_updated_by} at ${v.desired_updated_at} (reason ${v.desired_reason}): ${docLine(v.desired)}`,
    sup
      ? `supervisor ${sup.host_id}: ${sup.state}, restarts ${restarts}, last ${sup.last_action || '-'}${sup.last_reason ? ` (${sup.last_reason})` : ''}${sup.backoff_until ? `, backoff until ${sup.backoff_until}` : ''}, updated ${sup.updated_at}`
      : 'supervisor: none has reported',
    `state: none (${v.state_note})`,
  ].join('\n');
}

function addDocumentOptions(cmd: Command, kind: ComponentKind, only?: readonly string[]): void {
  for (const { option, field } of documentFlags(kind)) {
    if (only && !only.includes(field.name)) continue;
    cmd.addOption(option);
  }
}

function registerComponent(program: Command, kind: ComponentKind): void {
  const group = componentCommand(program, kind);
  const g = (): Global => program.opts<Global>();
  const fail = (e: unknown) => reportError(e, Boolean(g().json));
  const account = (o: Opts) => String(o.account);

  const desired = group
    .command('desired')
    .description(
      `write the desired ${kind} document as a new revision: the given fields replace the stored ones (operator, audited)`,
    )
    .requiredOption('--account <profile>', 'account profile')
    .option(
      '--symbol <symbol>',
      'a symbol (repeatable; added to --symbols)',
      (s: string, acc: string[]) => [...acc, s],
      [],
    )
    .option(
      '--reason <text>',
      'recorded with the revision and audit entry (default cli_desired; api_desired with --api)',
    )
    .option('--expected-revision <n>', 'fail with desired_revision_conflict (exit 1) unless the head is revision N');
  addDocumentOptions(desired, kind);
  desired.action((o: Opts) =>
    withDesired(g(), true, async (src) => {
      const given = givenFields(kind, o);
      const expected = expectedOf(o);
      const reason = reasonOf(o);
      const head = await src.status(kind, account(o));
      const doc = mergedDocument(kind, head.account_profile, head.desired, given);
      const r = await src.write(kind, {
        account_profile: account(o),
        desired: doc,
        expected_desired_revision: expected ?? head.desired_revision ?? 0,
        reason: reason.reason ?? `${src.origin}_desired`,
      });
      print(
        g().json,
        r,
        () => `${kind} ${r.account_profile}: desired revision ${r.desired_revision}: ${docLine(r.desired)}`,
      );
    }).catch(fail),
  );

  const start = group
    .command('start')
    .description(
      kind === 'gateway'
        ? 'make desired active: --mode, else the stored mode, else sim (409 already_running -> exit 1)'
        : 'make desired run with the stored symbols and model (409 already_running -> exit 1)',
    )
    .requiredOption('--account <profile>', 'account profile')
    .option('--reason <text>', 'recorded with the revision and audit entry (default cli_start; api_start with --api)');
  if (kind === 'gateway') addDocumentOptions(start, kind, ['mode', 'confirm_live']);
  start.action((o: Opts) =>
    withDesired(g(), true, async (src) => {
      const given = givenFields(kind, o);
      const reason = reasonOf(o).reason ?? `${src.origin}_start`;
      let desiredDoc: Record<string, unknown> | undefined;
      if (given.length > 0) {
        const head = await src.status(kind, account(o));
        desiredDoc = mergedDocument(kind, head.account_profile, head.desired, given);
      }
      const r = await src.start(kind, {
        account_profile: account(o),
        ...(desiredDoc ? { desired: desiredDoc } : {}),
        reason,
      });
      print(
        g().json,
        r,
        () =>
          `${kind} ${r.account_profile}: desired ${r.desired.mode} at revision ${r.desired_revision}; the supervisor on host ${r.desired.host_id} starts it`,
      );
    }).catch(fail),
  );

  const stop = group
    .command('stop')
    .description('make desired idle (idempotent); says whether a supervisor reported it running')
    .requiredOption('--account <profile>', 'account profile')
    .option('--reason <text>', 'recorded with the revision and audit entry (default cli_stop; api_stop with --api)')
    .action((o: Opts) =>
      withDesired(g(), true, async (src) => {
        const r = await src.stop(kind, {
          account_profile: account(o),
          reason: reasonOf(o).reason ?? `${src.origin}_stop`,
        });
        print(
          g().json,
          r,
          () =>
            `${kind} ${r.account_profile}: desired idle at revision ${r.desired_revision}; was_running: ${r.was_running}`,
        );
      }).catch(fail),
    );

  const status = group
    .command('status')
    .description(`desired ${kind} document, its revision and the supervisor's record (no process state yet)`)
    .requiredOption('--account <profile>', 'account profile')
    .action((o: Opts) =>
      withDesired(g(), false, async (src) => {
        const v = await src.status(kind, account(o));
        print(g().json, v, () => statusText(v));
      }).catch(fail),
    );

  allowApi(desired, start, stop, status);
}

export function registerTrading(program: Command): void {
  for (const kind of COMPONENT_KINDS) registerComponent(program, kind);
}
