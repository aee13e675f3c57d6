/**
 * Desired-state documents (control-chain §6.1, trading-chain §1, §7.1, §9): what an operator wants the gateway and the
 * strategy runner of one account profile to do. Parsing is strict: an unknown mode or field is a 400, never a silent
 * `idle`; an explicit `0` is a value (defaults fill only absent fields). The rules that need the effective config (risk
 * caps, the live confirmation) live in `checkGatewayDesired` / `checkStrategyDesired`, applied by the desired service
 * before anything is written.
 */
import * as z from 'zod';
import type { ValidationIssue } from '../../errors/control.ts';
import { ConfirmLiveRequiredError, NoSymbolsError, ValidationFailedError } from '../../errors/control.ts';
import { canonicalProfile } from '../market/symbols.ts';

export const COMPONENT_KINDS = ['gateway', 'strategy'] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

export const GATEWAY_MODES = ['idle', 'paper', 'sim', 'live_monitor', 'live_trade'] as const;
export type GatewayMode = (typeof GATEWAY_MODES)[number];
export const STRATEGY_MODES = ['idle', 'run'] as const;
export type StrategyMode = (typeof STRATEGY_MODES)[number];

/** The only accepted live confirmation. */
export const CONFIRM_LIVE = 'I_UNDERSTAND';

/** A requested symbol: `KQ.m@SHFE.cu` (continuous) or `SHFE.cu2502` (execution). */
const SymbolSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.@]{1,64}$/, 'expected a symbol such as SHFE.cu2502 or KQ.m@SHFE.cu');

const SymbolsSchema = z
  .array(SymbolSchema)
  .max(20)
  .refine((s) => new Set(s).size === s.length, 'symbols must not repeat');

/** Which supervisor manages the profile (`GHTRADER_HOST_ID` of that host, default its hostname). */
export const HostIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,128}$/, 'expected a host id of letters, digits, ".", "_" or "-" (1..128)');

const int = (min: number) => z.number().int().min(min);
const money = z.number().positive().nullable();

/** Risk limits (trading-chain §7.1), defaults in the spec's brackets. */
export const GatewayLimitsSchema = z.strictObject({
  max_abs_position: int(0).default(1),
  max_order_size: int(1).default(1),
  max_ops_per_sec: int(1).default(10),
  max_daily_loss: money.default(null),
  max_drawdown_from_peak: money.default(null),
  max_cancels_per_day_per_product: int(0).default(400),
  enforce_trading_time: z.boolean().default(true),
  max_tick_age_ms: int(1).default(3000),
  repeated_rejects: int(1).default(5),
});
export type GatewayLimits = z.infer<typeof GatewayLimitsSchema>;

/** Execution tunables (trading-chain §9). */
export const GatewayExecutionSchema = z.strictObject({
  order_stale_ms: int(1).default(2000),
  reprice_ticks: int(0).default(1),
  aggress_ticks: int(0).default(0),
});
export type GatewayExecution = z.infer<typeof GatewayExecutionSchema>;

export const GatewayDesiredSchema = z.strictObject({
  mode: z.enum(GATEWAY_MODES),
  symbols: SymbolsSchema.default([]),
  sim_account: z.enum(['local', 'tqkq']).default('local'),
  confirm_live: z.string().max(64).default(''),
  limits: GatewayLimitsSchema.default(() => GatewayLimitsSchema.parse({})),
  execution: GatewayExecutionSchema.default(() => GatewayExecutionSchema.parse({})),
  host_id: HostIdSchema,
});
export type GatewayDesired = z.infer<typeof GatewayDesiredSchema>;

export const StrategyDesiredSchema = z.strictObject({
  mode: z.enum(STRATEGY_MODES),
  symbols: SymbolsSchema.default([]),
  model_name: z.string().max(200).default(''),
  horizon: int(1).default(50),
  threshold_up: z.number().gt(0).max(1).default(0.6),
  threshold_down: z.number().gt(0).max(1).default(0.6),
  position_size: int(0).default(1),
  host_id: HostIdSchema,
});
export type StrategyDesired = z.infer<typeof StrategyDesiredSchema>;

export type DesiredDoc = GatewayDesired | StrategyDesired;

/** Input form of a document: `host_id` may be left out (the service fills it). */
export const GatewayDesiredInputSchema = GatewayDesiredSchema.extend({ host_id: HostIdSchema.optional() });
export const StrategyDesiredInputSchema = StrategyDesiredSchema.extend({ host_id: HostIdSchema.optional() });

export function desiredInputSchema(kind: ComponentKind) {
  return kind === 'gateway' ? GatewayDesiredInputSchema : StrategyDesiredInputSchema;
}

export function desiredSchema(kind: ComponentKind) {
  return kind === 'gateway' ? GatewayDesiredSchema : StrategyDesiredSchema;
}

/** The writers of desired documents: the desired endpoint, start and stop (start/stop also name the operator intent). */
export const DESIRED_ACTIONS = ['desired', 'start', 'stop'] as const;
export type DesiredAction = (typeof DESIRED_ACTIONS)[number];

/** An account profile as sent by a client, canonicalised (control-chain §1) before any key is derived. */
export const ProfileSchema = z
  .string()
  .max(200)
  .transform((s) => canonicalProfile(s))
  .pipe(z.string().regex(/^[a-z0-9_]{1,32}$/, 'a canonical profile has 1..32 of [a-z0-9_]'));

const ReasonSchema = z.string().min(1).max(500);

/** `POST /api/{gateway,strategy}/desired`. */
export const DesiredWriteRequestSchema = z.strictObject({
  account_profile: ProfileSchema,
  desired: z.record(z.string(), z.unknown()),
  expected_desired_revision: z.number().int().min(0).optional(),
  reason: ReasonSchema.optional(),
});

/** `POST /api/{gateway,strategy}/start`: the stored document (gateway default mode `sim`), or the one sent. */
export const DesiredStartRequestSchema = z.strictObject({
  account_profile: ProfileSchema,
  desired: z.record(z.string(), z.unknown()).optional(),
  expected_desired_revision: z.number().int().min(0).optional(),
  reason: ReasonSchema.optional(),
});

/** `POST /api/{gateway,strategy}/stop`. */
export const DesiredStopRequestSchema = z.strictObject({
  account_profile: ProfileSchema,
  expected_desired_revision: z.number().int().min(0).optional(),
  reason: ReasonSchema.optional(),
});

/** `GET /api/{gateway,strategy}/status?account_profile=p` (absent -> `default`). */
export const DesiredStatusQuerySchema = z.object({
  account_profile: ProfileSchema.default('default'),
});

/** One stored revision of one document (Config table, partition `desired/<kind>/<p>`, numeric sort `revision`). */
export const DesiredRecordSchema = z.object({
  component: z.enum(COMPONENT_KINDS),
  account_profile: z.string(),
  revision: z.number().int().min(1),
  created_at: z.string(),
  updated_by: z.object({ type: z.enum(['user', 'token', 'cli', 'system']), id: z.string(), name: z.string() }),
  role: z.string(),
  reason: z.string(),
  action: z.enum(DESIRED_ACTIONS),
  desired: z.record(z.string(), z.unknown()),
});
export type DesiredRecord = z.infer<typeof DesiredRecordSchema>;

/** The Config-table partition of a document. */
export function desiredPartition(kind: ComponentKind, profile: string): string {
  return `desired/${kind}/${profile}`;
}

/** Ceilings from the effective config (`GHTRADER_RISK_*`). */
export interface RiskCaps {
  max_abs_position: number;
  max_order_size: number;
  max_ops_per_sec: number;
  require_daily_loss_for_live: boolean;
}

/** Parse a stored or requested document with the component's schema (throws 400 `validation_failed`). */
export function parseDesired(kind: ComponentKind, input: unknown): DesiredDoc {
  const r = desiredSchema(kind).safeParse(input);
  if (!r.success) throw validationError(`invalid desired ${kind} document`, r.error);
  return r.data;
}

function validationError(what: string, error: z.ZodError): ValidationFailedError {
  const issues: ValidationIssue[] = error.issues.map((i) => ({
    path: ['desired', ...i.path.filter((p): p is string | number => typeof p !== 'symbol')],
    code: i.code,
    message: i.message,
  }));
  return new ValidationFailedError(
    `${what}: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    issues,
  );
}

/** Parse a request's document, filling an absent `host_id` (400 on anything unknown or out of range). */
export function parseDesiredInput(kind: ComponentKind, input: unknown, defaultHostId: string): DesiredDoc {
  const r = desiredInputSchema(kind).safeParse(input);
  if (!r.success) throw validationError(`invalid desired ${kind} document`, r.error);
  return { ...r.data, host_id: r.data.host_id ?? defaultHostId } as DesiredDoc;
}

/**
 * Rules beyond the schema: limits ≤ the risk caps; `live_trade` needs `confirm_live: "I_UNDERSTAND"` (else
 * `confirm_live_required`) and, unless `GHTRADER_RISK_REQUIRE_DAILY_LOSS_FOR_LIVE=false`, a `max_daily_loss`.
 */
export function checkGatewayDesired(doc: GatewayDesired, caps: RiskCaps, profile: string): void {
  const issues: ValidationIssue[] = [];
  const cap = (field: 'max_abs_position' | 'max_order_size' | 'max_ops_per_sec', key: string) => {
    if (doc.limits[field] > caps[field]) {
      issues.push({
        path: ['desired', 'limits', field],
        code: 'too_big',
        message: `${field} ${doc.limits[field]} exceeds ${key}=${caps[field]}`,
      });
    }
  };
  cap('max_abs_position', 'GHTRADER_RISK_MAX_ABS_POSITION_CAP');
  cap('max_order_size', 'GHTRADER_RISK_MAX_ORDER_SIZE_CAP');
  cap('max_ops_per_sec', 'GHTRADER_RISK_MAX_OPS_PER_SEC_CAP');
  if (issues.length > 0) {
    throw new ValidationFailedError(
      `desired gateway limits above the risk caps: ${issues.map((i) => i.message).join('; ')}`,
      issues,
    );
  }
  if (doc.mode !== 'live_trade') return;
  if (doc.confirm_live !== CONFIRM_LIVE) throw new ConfirmLiveRequiredError(profile);
  if (caps.require_daily_loss_for_live && doc.limits.max_daily_loss === null) {
    throw new ValidationFailedError(
      'desired mode live_trade needs limits.max_daily_loss (GHTRADER_RISK_REQUIRE_DAILY_LOSS_FOR_LIVE=true)',
      [{ path: ['desired', 'limits', 'max_daily_loss'], code: 'required', message: 'required for live_trade' }],
    );
  }
}

/** A running strategy needs ≥ 1 symbol (`no_symbols`) and a model name. */
export function checkStrategyDesired(doc: StrategyDesired, profile: string): void {
  if (doc.mode !== 'run') return;
  if (doc.symbols.length === 0) throw new NoSymbolsError(profile);
  if (doc.model_name === '') {
    throw new ValidationFailedError('desired strategy mode run needs model_name', [
      { path: ['desired', 'model_name'], code: 'required', message: 'required when mode is run' },
    ]);
  }
}

/** Whether the document asks for a running process (gateway: any mode but idle; strategy: `run`). */
export function isActive(kind: ComponentKind, doc: DesiredDoc): boolean {
  return kind === 'gateway' ? doc.mode !== 'idle' : doc.mode === 'run';
}

/**
 * The command-line arguments of the component's process, after `<kind> run`. The gateway re-reads its desired
 * document itself (trading-chain §1), so only the profile is on its command line; the strategy takes its parameters
 * as flags and needs a restart when they change.
 */
export function launchArgs(kind: ComponentKind, profile: string, doc: DesiredDoc): string[] {
  if (kind === 'gateway') return ['--account', profile];
  const s = doc as StrategyDesired;
  return [
    '--account',
    profile,
    ...s.symbols.flatMap((sym) => ['--symbol', sym]),
    '--model',
    s.model_name,
    '--horizon',
    String(s.horizon),
    '--threshold-up',
    String(s.threshold_up),
    '--threshold-down',
    String(s.threshold_down),
    '--position-size',
    String(s.position_size),
  ];
}

/** Port: the desired-document log (adapter `shared/infra/aws/desired-store.ts`, Config table). */
export interface DesiredStore {
  /** The newest revision of the document, or null when none was ever written. */
  head(kind: ComponentKind, profile: string): Promise<DesiredRecord | null>;
  /** Put `rec.revision` only if it does not exist yet; false when another writer got that number first. */
  put(rec: DesiredRecord): Promise<boolean>;
}
