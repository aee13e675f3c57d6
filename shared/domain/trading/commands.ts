/**
 * Operator commands to a gateway (trading-chain §8, control-chain §6.1): the types and their params, the one envelope
 * `GatewayCommandSchema` every sink carries (the DynamoDB commands table, the Redis stream `commands:<p>`, ZeroMQ),
 * the API's request bodies, and the durable store's port. Pure: no I/O.
 *
 * On the wire (JSON, DynamoDB, Redis) `issued_at_ns` is a decimal string of epoch nanoseconds; `parseGatewayCommand`
 * turns it into a `bigint`. Params are strict per type: an unknown field, a missing reason or a bad symbol is a
 * `validation_failed` naming the field, never a command the gateway would have to reject later.
 */
import * as z from 'zod';
import { ProfileSchema } from '../control/desired.ts';
import { clampedLimit } from '../control/job-requests.ts';
import { parseOrThrow } from '../control/validation.ts';

export const GATEWAY_COMMAND_TYPES = [
  'cancel_all',
  'flatten',
  'set_target',
  'clear_target',
  'disarm_live',
  'kill',
  'reset_risk_kill',
  'ack_reconciliation',
] as const;
export type GatewayCommandType = (typeof GATEWAY_COMMAND_TYPES)[number];

/** Who put the command on its sinks: the console/API, or `ghtrader gateway command` / `risk-kill` (CLI). */
export const COMMAND_SOURCES = ['api', 'cli'] as const;
export type CommandSource = (typeof COMMAND_SOURCES)[number];

/** An execution (contract) symbol, `SHFE.cu2502`: overrides and flatten act on what the account holds. */
export const ExecSymbolSchema = z
  .string()
  .regex(
    /^SHFE\.(cu|au|ag)\d{2}(0[1-9]|1[0-2])$/,
    'expected an execution symbol SHFE.<cu|au|ag><YYMM>, e.g. SHFE.cu2502',
  );

const TextSchema = z.string().trim().min(1, 'must not be empty').max(500);

/** |target| bound: far beyond any per-symbol limit (the gateway clamps to its own limits); catches typos like 1e9. */
export const MAX_ABS_TARGET = 10_000;

/** Params per type (trading-chain §8 table). */
export const COMMAND_PARAMS = {
  cancel_all: z.strictObject({}),
  flatten: z.strictObject({
    symbols: z
      .array(ExecSymbolSchema)
      .min(1)
      .max(64)
      .refine((s) => new Set(s).size === s.length, 'symbols must not repeat')
      .optional(),
  }),
  set_target: z.strictObject({
    symbol: ExecSymbolSchema,
    target: z.number().int().min(-MAX_ABS_TARGET).max(MAX_ABS_TARGET),
  }),
  clear_target: z.strictObject({ symbol: ExecSymbolSchema.optional() }),
  disarm_live: z.strictObject({}),
  kill: z.strictObject({ reason: TextSchema }),
  reset_risk_kill: z.strictObject({ note: TextSchema }),
  ack_reconciliation: z.strictObject({
    diff_hash: z.string().regex(/^[0-9a-f]{8,128}$/, 'expected the diff_hash the gateway reported (hex)'),
    note: TextSchema,
  }),
} as const satisfies Record<GatewayCommandType, z.ZodType>;

export type CommandParams<T extends GatewayCommandType = GatewayCommandType> = z.infer<(typeof COMMAND_PARAMS)[T]>;

/** Commands that place or cancel orders (refused by the gateway in `paper`/`live_monitor`: `MODE_NO_ORDERS`). */
export const ORDER_COMMAND_TYPES: readonly GatewayCommandType[] = ['cancel_all', 'flatten', 'set_target'];

const ProfileWireSchema = z.string().regex(/^[a-z0-9_]{1,32}$/, 'a canonical profile has 1..32 of [a-z0-9_]');
const UlidSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a ULID');
const NsStringSchema = z.string().regex(/^\d{1,19}$/, 'expected epoch nanoseconds as a decimal string');

/** The envelope as it travels (JSON): `issued_at_ns` a decimal string. */
export const GatewayCommandWireSchema = z
  .strictObject({
    command_id: UlidSchema,
    type: z.enum(GATEWAY_COMMAND_TYPES),
    account_profile: ProfileWireSchema,
    params: z.record(z.string(), z.unknown()),
    issued_at_ns: NsStringSchema,
    issued_by: z.string().min(1).max(200),
    source: z.enum(COMMAND_SOURCES),
  })
  // The params of the type, parsed (so trimming and defaults apply on every sink, not only where a command is built).
  .transform((c, ctx) => {
    const r = COMMAND_PARAMS[c.type].safeParse(c.params);
    if (r.success) return { ...c, params: r.data as Record<string, unknown> };
    for (const i of r.error.issues) {
      ctx.addIssue({ code: 'custom', path: ['params', ...i.path.map(String)], message: i.message });
    }
    return z.NEVER;
  });
export type GatewayCommandWire = z.infer<typeof GatewayCommandWireSchema>;

/** The envelope in memory: `issued_at_ns` as `bigint`. */
export type GatewayCommand = Omit<GatewayCommandWire, 'issued_at_ns'> & { issued_at_ns: bigint };

/** Parse a command from any sink (a missing `command_id` fails here: `missing_command_id` is the gateway's event). */
export function parseGatewayCommand(input: unknown, what = 'gateway command'): GatewayCommand {
  const w = parseOrThrow(GatewayCommandWireSchema, input, what);
  return { ...w, issued_at_ns: BigInt(w.issued_at_ns) };
}

export function commandToWire(c: GatewayCommand): GatewayCommandWire {
  return { ...c, issued_at_ns: c.issued_at_ns.toString() };
}

/** Build an envelope; params are validated for the type (throws `ValidationFailedError` naming the field). */
export function buildGatewayCommand(o: {
  command_id: string;
  type: GatewayCommandType;
  account_profile: string;
  params: unknown;
  issued_at_ns: bigint;
  issued_by: string;
  source: CommandSource;
}): GatewayCommand {
  // Wrapped so an issue's path is the request's (`params.target`), as the API's 400 names it.
  const { params } = parseOrThrow(
    z.object({ params: COMMAND_PARAMS[o.type] }),
    { params: o.params ?? {} },
    `${o.type} command`,
  ) as {
    params: Record<string, unknown>;
  };
  return parseGatewayCommand({ ...o, params, issued_at_ns: o.issued_at_ns.toString() });
}

/** `POST /api/gateway/command`. Params are checked per type by `buildGatewayCommand`. */
export const CommandRequestSchema = z.strictObject({
  account_profile: ProfileSchema,
  type: z.enum(GATEWAY_COMMAND_TYPES),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type CommandRequest = z.infer<typeof CommandRequestSchema>;

/**
 * The audit action of a command (control-chain §9): a kill and a reset are `risk_kill.activate` / `risk_kill.reset`
 * whichever door they came through (`/api/gateway/command`, `/api/trading/risk-kill`, the CLI), so one filter finds
 * every risk-kill change; every other command is `gateway.command`.
 */
export function commandAuditAction(
  type: GatewayCommandType,
): 'risk_kill.activate' | 'risk_kill.reset' | 'gateway.command' {
  if (type === 'kill') return 'risk_kill.activate';
  if (type === 'reset_risk_kill') return 'risk_kill.reset';
  return 'gateway.command';
}

/** `POST /api/trading/risk-kill`: `kill` -> command `kill{reason}`, `reset` -> `reset_risk_kill{note: reason}`. */
export const RiskKillRequestSchema = z.strictObject({
  account_profile: ProfileSchema,
  action: z.enum(['kill', 'reset']),
  reason: TextSchema,
});
export type RiskKillRequest = z.infer<typeof RiskKillRequestSchema>;

/** `GET /api/gateway/commands?limit` (control-chain §3.1: default 50, clamped to 1..200, never refused). */
export const COMMAND_HISTORY_LIMIT = { default: 50, min: 1, max: 200 } as const;

/** `GET /api/gateway/commands?account_profile&limit`. */
export const CommandHistoryQuerySchema = z.object({
  account_profile: ProfileSchema.default('default'),
  limit: clampedLimit(COMMAND_HISTORY_LIMIT),
  /** `next_cursor` of the previous page (signed; bound to the profile). */
  cursor: z.string().min(1).max(4000).optional(),
});

/** How a command reached the gateway's sinks: both, or DynamoDB only (Redis down; the gateway polls it every 1 s). */
export type CommandDelivery = 'durable_and_stream' | 'durable_only';

/** The Redis stream of a profile's commands (key after the warm-path prefix: `ghtrader:commands:<p>`). */
export function commandStreamKey(profile: string): string {
  return `commands:${profile}`;
}

/** Approximate cap of each command stream (`XADD … MAXLEN ~ 10000`). */
export const COMMAND_STREAM_MAXLEN = 10_000;

/**
 * The durable sink (DynamoDB Commands table: partition `account_profile`, sort `command_id`). `put` is conditional on
 * the id being new (false when it already exists: the same command twice is one command). `after` is the gateway's
 * poll: ids greater than the cursor, oldest first. `recent` is the console's history: newest first, older than
 * `before` (a command id) when given.
 */
export interface CommandStore {
  put(c: GatewayCommand): Promise<boolean>;
  get(profile: string, commandId: string): Promise<GatewayCommand | null>;
  after(profile: string, cursor: string | null, limit: number): Promise<GatewayCommand[]>;
  recent(profile: string, limit: number, before?: string | null): Promise<GatewayCommand[]>;
}
