/**
 * The Trading page's model (control-chain §8 `/v/{var}/trading`, §6.1, §6.3): for one account profile (`?profile=`,
 * canonicalised; default `default`) the gateway and strategy status views of the DesiredService (the same reads as
 * `GET /api/{gateway,strategy}/status`: desired document, revision, author, reason, supervisor record), the profiles
 * the console knows (`default` plus every profile with a desired document, from the supervisors' index), and the
 * desired forms' fields generated from the zod document schemas (via JSON Schema, never hand-written), with the
 * effective risk caps as the limits' ceilings. No positions, orders or PnL exist here: the trading chain's processes
 * that would report them are not built, and the page says so.
 *
 * Commands (control-chain §6.1, trading-chain §7.3, §8): the durable risk-kill record and the newest commands of the
 * profile, read from the CommandService (the same reads as `GET /api/trading/risk-kill` and `GET /api/gateway/commands`)
 * in parallel with the reads above; each read that fails is shown as its error in its section, so the Kill form stays
 * on the page whatever else is down. The Commands form's parameter fields come from the commands' zod params schemas
 * (via JSON Schema). Without a CommandService the sections say it is not wired here, with or without supervision.
 */
import * as z from 'zod';
import { resolveConfig } from '#shared/domain/control/config.ts';
import {
  COMPONENT_KINDS,
  type ComponentKind,
  desiredInputSchema,
  ProfileSchema,
} from '#shared/domain/control/desired.ts';
import { restartsTotal } from '#shared/domain/control/supervisor-telemetry.ts';
import { parseOrThrow } from '#shared/domain/control/validation.ts';
import { COMMAND_PARAMS, type GatewayCommandType } from '#shared/domain/trading/commands.ts';
import { describeError } from '#shared/errors/base.ts';
import type { CommandHistory, RiskKillStatus } from '#shared/services/command-service.ts';
import type { ComponentStatusView } from '#shared/services/desired-service.ts';
import type { SupervisionDeps } from '../env.ts';
import type { HotDeps } from '../hot-reads.ts';

/** How a form control reads and writes its value (the client builds the JSON document from these). */
export type FieldKind = 'enum' | 'integer' | 'number' | 'nullable_number' | 'boolean' | 'list' | 'string' | 'confirm';

export interface FormField {
  /** Dotted path in the document (`limits.max_daily_loss`). */
  name: string;
  path: string[];
  kind: FieldKind;
  /** Enum options, in schema order. */
  options?: string[];
  min?: number;
  /** True when `min` is exclusive (`> min`). */
  minExclusive?: boolean;
  max?: number;
  /** The config key whose value is `max` (a risk cap). */
  maxKey?: string;
  maxLength?: number;
  pattern?: string;
  required: boolean;
  /** The schema's default, shown as help. */
  default: unknown;
  /** The current document's value, else the default. */
  value: unknown;
}

export interface FieldGroup {
  /** Null for the document's top-level fields, else the nested object's name (`limits`, `execution`). */
  name: string | null;
  fields: FormField[];
}

export interface TradingComponentModel {
  kind: ComponentKind;
  status: ComponentStatusView;
  /** Sum of `restart_reasons_total` (0 without a supervisor record). */
  restarts: number;
  form: FieldGroup[];
}

/** A read that either answered or failed (its message shown in place of the data). */
export type Loaded<T> = { ok: true; value: T } | { ok: false; error: string };

/** The page's commands part: the risk-kill record and the command history, or why there is none. */
export type TradingCommandsModel =
  | { wired: false; message: string }
  | { wired: true; riskKill: Loaded<RiskKillStatus>; history: Loaded<CommandHistory> };

export type TradingPageModel =
  | {
      available: true;
      profile: string;
      profiles: string[];
      gateway: TradingComponentModel;
      strategy: TradingComponentModel;
      commands: TradingCommandsModel;
      generatedAtMs: number;
    }
  | { available: false; profile: string; profiles: string[]; message: string; commands: TradingCommandsModel };

/** The console without a desired-state service (a process that wires none): the page says so, and nothing else. */
export const SUPERVISION_OFF_MESSAGE =
  'the desired-state service is not wired in this process (the console was started without supervision); start it with ghtrader up';

/** The console without a command service: the Risk kill and Commands sections say so. */
export const COMMANDS_OFF_MESSAGE =
  'the command service is not wired in this process, so no command or risk kill can be sent or read here; start the console with ghtrader up';

/** Commands the page's history shows (the API gives up to 500). */
export const PAGE_HISTORY_LIMIT = 20;

/** The Commands form's types; `kill` and `reset_risk_kill` have their own forms in the Risk kill section. */
export const FORM_COMMAND_TYPES = [
  'cancel_all',
  'flatten',
  'clear_target',
  'set_target',
  'disarm_live',
  'ack_reconciliation',
] as const satisfies readonly GatewayCommandType[];
export type FormCommandType = (typeof FORM_COMMAND_TYPES)[number];

/** One parameter control of the Commands form, shared by every type whose params have it. */
export interface CommandParamField {
  name: string;
  kind: 'list' | 'integer' | 'string';
  /** The form's types using this param, in form order, and whether each requires it. */
  usedBy: { type: FormCommandType; required: boolean }[];
  /** The pattern of the value (of each item, for a list). */
  pattern?: string;
  min?: number;
  max?: number;
  maxLength?: number;
}

/** Risk caps a desired gateway's limits must stay under (`checkGatewayDesired`), as form ceilings. */
const CAP_KEYS: Record<string, string> = {
  'limits.max_abs_position': 'GHTRADER_RISK_MAX_ABS_POSITION_CAP',
  'limits.max_order_size': 'GHTRADER_RISK_MAX_ORDER_SIZE_CAP',
  'limits.max_ops_per_sec': 'GHTRADER_RISK_MAX_OPS_PER_SEC_CAP',
};

interface JsonSchemaNode {
  type?: string;
  additionalProperties?: boolean;
  enum?: unknown[];
  anyOf?: JsonSchemaNode[];
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  items?: JsonSchemaNode;
  default?: unknown;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
}

const jsonSchemas = new Map<ComponentKind, JsonSchemaNode>(
  COMPONENT_KINDS.map((k) => [
    k,
    z.toJSONSchema(desiredInputSchema(k), { io: 'input', unrepresentable: 'throw' }) as JsonSchemaNode,
  ]),
);

/**
 * The Commands form's parameter fields from the commands' params schemas (JSON Schema of the zod schemas), one per
 * parameter name in first-use order; a schema shape the form cannot offer throws here (a bug to fix, never a field
 * silently left out).
 */
function commandParamFields(): CommandParamField[] {
  const byName = new Map<string, CommandParamField>();
  for (const type of FORM_COMMAND_TYPES) {
    const node = z.toJSONSchema(COMMAND_PARAMS[type], { io: 'input', unrepresentable: 'throw' }) as JsonSchemaNode;
    const required = new Set(node.required ?? []);
    for (const [name, p] of Object.entries(node.properties ?? {})) {
      const use = { type, required: required.has(name) };
      const known = byName.get(name);
      if (known) {
        known.usedBy.push(use);
        continue;
      }
      const base = { name, usedBy: [use] };
      if (p.type === 'array' && p.items?.type === 'string') {
        byName.set(name, { ...base, kind: 'list', ...(p.items.pattern ? { pattern: p.items.pattern } : {}) });
      } else if (p.type === 'integer') {
        const max = bound(p.maximum);
        byName.set(name, {
          ...base,
          kind: 'integer',
          ...(p.minimum === undefined ? {} : { min: p.minimum }),
          ...(max === undefined ? {} : { max }),
        });
      } else if (p.type === 'string') {
        byName.set(name, {
          ...base,
          kind: 'string',
          ...(p.pattern ? { pattern: p.pattern } : {}),
          ...(p.maxLength ? { maxLength: p.maxLength } : {}),
        });
      } else {
        throw new Error(`command form: no control for ${type}.${name} (${JSON.stringify(p)})`);
      }
    }
  }
  return [...byName.values()];
}

export const COMMAND_PARAM_FIELDS: readonly CommandParamField[] = commandParamFields();

/** The profile in `?profile=` (canonicalised like every other door; absent or empty -> `default`). */
export function profileParam(raw: string | undefined): string {
  return parseOrThrow(ProfileSchema, raw ?? 'default', 'trading page profile');
}

function valueAt(doc: Record<string, unknown> | null, path: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** A JSON Schema bound from zod, without the "any safe integer" ceiling zod adds to every `int()`. */
function bound(v: number | undefined): number | undefined {
  return v === undefined || Math.abs(v) >= Number.MAX_SAFE_INTEGER ? undefined : v;
}

function fieldOf(
  name: string,
  path: string[],
  node: JsonSchemaNode,
  required: boolean,
  doc: Record<string, unknown> | null,
): Omit<FormField, 'max' | 'maxKey'> & { max?: number } {
  const current = valueAt(doc, path);
  const base = { name, path, required, default: node.default, value: current === undefined ? node.default : current };
  const numeric = (n: JsonSchemaNode) => {
    const min = n.exclusiveMinimum ?? n.minimum;
    const max = bound(n.maximum);
    return {
      ...(min === undefined ? {} : { min }),
      ...(n.exclusiveMinimum === undefined ? {} : { minExclusive: true }),
      ...(max === undefined ? {} : { max }),
    };
  };
  if (name === 'confirm_live') {
    // Never prefilled: every write of a live_trade document takes the confirmation typed again.
    return { ...base, kind: 'confirm', value: '', ...(node.maxLength ? { maxLength: node.maxLength } : {}) };
  }
  if (Array.isArray(node.enum)) return { ...base, kind: 'enum', options: node.enum.map(String) };
  if (node.anyOf) {
    const inner = node.anyOf.find((n) => n.type === 'number' || n.type === 'integer');
    if (node.anyOf.length === 2 && inner && node.anyOf.some((n) => n.type === 'null')) {
      return { ...base, kind: 'nullable_number', ...numeric(inner) };
    }
  }
  if (node.type === 'integer') return { ...base, kind: 'integer', ...numeric(node) };
  if (node.type === 'number') return { ...base, kind: 'number', ...numeric(node) };
  if (node.type === 'boolean') return { ...base, kind: 'boolean' };
  if (node.type === 'array' && node.items?.type === 'string') {
    return { ...base, kind: 'list', ...(node.items.pattern ? { pattern: node.items.pattern } : {}) };
  }
  if (node.type === 'string') {
    return {
      ...base,
      kind: 'string',
      ...(node.maxLength ? { maxLength: node.maxLength } : {}),
      ...(node.pattern ? { pattern: node.pattern } : {}),
    };
  }
  // A schema shape the form cannot offer is a bug to fix here, never a field silently left out.
  throw new Error(`desired form: no control for ${name} (${JSON.stringify(node)})`);
}

/**
 * The desired form of a component: its document schema's fields in schema order, top-level first, then one group per
 * nested object, each prefilled from `doc` (else the schema default); the gateway limits under a risk cap get it as
 * their ceiling.
 */
export function desiredFormFields(
  kind: ComponentKind,
  doc: Record<string, unknown> | null,
  caps: Readonly<Record<string, number>> = {},
): FieldGroup[] {
  const root = jsonSchemas.get(kind);
  if (!root?.properties) throw new Error(`desired ${kind}: the schema has no properties`);
  const top: FormField[] = [];
  const groups: FieldGroup[] = [];
  const required = new Set(root.required ?? []);
  for (const [name, node] of Object.entries(root.properties)) {
    if (node.type === 'object' && node.properties) {
      const inner = new Set(node.required ?? []);
      const fields = Object.entries(node.properties).map(([sub, n]) => {
        const dotted = `${name}.${sub}`;
        const f = fieldOf(dotted, [name, sub], n, inner.has(sub) && n.default === undefined, doc);
        const capKey = CAP_KEYS[dotted];
        const cap = capKey === undefined ? undefined : caps[capKey];
        return cap === undefined || capKey === undefined
          ? f
          : { ...f, max: f.max === undefined ? cap : Math.min(f.max, cap), maxKey: capKey };
      });
      groups.push({ name, fields });
      continue;
    }
    top.push(fieldOf(name, [name], node, required.has(name), doc));
  }
  return [{ name: null, fields: top }, ...groups];
}

/** `default` first, then every profile with a desired document, then the one asked for if it is new. */
export async function knownProfiles(s: SupervisionDeps, current: string): Promise<string[]> {
  const indexed = await s.telemetry.indexedProfiles();
  const rest = [...new Set(indexed.map((i) => i.profile))].filter((p) => p !== 'default').sort();
  const all = ['default', ...rest];
  return all.includes(current) ? all : [...all, current];
}

async function riskCaps(deps: HotDeps): Promise<Record<string, number>> {
  const head = await deps.configService.current();
  const layers = { revision: head.revision, snapshot: head.snapshot, env: deps.config.env };
  return Object.fromEntries(
    Object.values(CAP_KEYS).map((key) => [key, Number(resolveConfig(key, layers).value)] as const),
  );
}

/** A read as `Loaded`: its failure is logged and shown in its section instead of failing the page. */
async function loaded<T>(deps: HotDeps, what: string, read: Promise<T>): Promise<Loaded<T>> {
  try {
    return { ok: true, value: await read };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    deps.log.warn({ err: describeError(err), read: what }, 'trading_page.read_failed');
    return { ok: false, error };
  }
}

/** The risk-kill record and the newest commands of `profile`, read in parallel (two single-partition reads). */
async function loadCommands(deps: HotDeps, profile: string): Promise<TradingCommandsModel> {
  const svc = deps.commands;
  if (!svc) return { wired: false, message: COMMANDS_OFF_MESSAGE };
  const [riskKill, history] = await Promise.all([
    loaded(deps, 'risk_kill', svc.riskKillStatus(profile)),
    loaded(deps, 'command_history', svc.history({ account_profile: profile, limit: String(PAGE_HISTORY_LIMIT) })),
  ]);
  return { wired: true, riskKill, history };
}

export async function loadTradingPage(
  deps: HotDeps,
  query: Record<string, string | undefined>,
): Promise<TradingPageModel> {
  const profile = profileParam(query.profile);
  const commandsRead = loadCommands(deps, profile);
  const s = deps.supervision;
  if (!s) {
    return {
      available: false,
      profile,
      profiles: [profile],
      message: SUPERVISION_OFF_MESSAGE,
      commands: await commandsRead,
    };
  }
  const [gateway, strategy, profiles, caps, commands] = await Promise.all([
    s.desired.status('gateway', { account_profile: profile }),
    s.desired.status('strategy', { account_profile: profile }),
    knownProfiles(s, profile),
    riskCaps(deps),
    commandsRead,
  ]);
  const component = (view: ComponentStatusView): TradingComponentModel => ({
    kind: view.component,
    status: view,
    restarts: restartsTotal(view.supervisor),
    form: desiredFormFields(
      view.component,
      view.desired as unknown as Record<string, unknown> | null,
      view.component === 'gateway' ? caps : {},
    ),
  });
  return {
    available: true,
    profile,
    profiles,
    gateway: component(gateway),
    strategy: component(strategy),
    commands,
    generatedAtMs: deps.clock.nowMs(),
  };
}
