/**
 * Simulator options and configuration (market-protocol §2.1), zod-validated. `SimOptionsSchema` is what
 * `startSimulator` and `ghtrader sim serve` accept; `SimConfigSchema` is the `--config sim.json` file: accounts, the
 * broker id, and the per-product sim inputs (margin, commission, order-size limits). Generator parameters belong to
 * the market generator (`colo/sim/market/`).
 */
import * as z from 'zod';
import { isIsoDay } from '#shared/domain/market/calendar/days.ts';
import { parseCst } from '#shared/domain/market/cst.ts';
import { SimConfigError } from './errors.ts';

export const SimAccountSchema = z.object({
  user_name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits and _ . @ - only, at most 64'),
  password: z.string().min(1),
  initial_balance: z.number().positive().default(10_000_000),
});
export type SimAccount = z.infer<typeof SimAccountSchema>;

export const ProductTermsSchema = z.object({
  /** Per-lot margin, CNY. */
  margin: z.number().nonnegative(),
  /** Per-lot commission, CNY, charged on every fill (open and close). */
  commission: z.number().nonnegative(),
  max_limit_order_volume: z.number().int().positive().default(500),
  min_limit_order_volume: z.number().int().positive().default(1),
});
export type ProductTerms = z.infer<typeof ProductTermsSchema>;

export const SimConfigSchema = z.object({
  broker_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .default('ghsim'),
  accounts: z.array(SimAccountSchema).default([{ user_name: 'ghsim', password: 'ghsim', initial_balance: 10_000_000 }]),
  products: z
    .object({
      cu: ProductTermsSchema.default({
        margin: 40_000,
        commission: 20,
        max_limit_order_volume: 500,
        min_limit_order_volume: 1,
      }),
      au: ProductTermsSchema.default({
        margin: 64_000,
        commission: 10,
        max_limit_order_volume: 500,
        min_limit_order_volume: 1,
      }),
      ag: ProductTermsSchema.default({
        margin: 12_000,
        commission: 8,
        max_limit_order_volume: 500,
        min_limit_order_volume: 1,
      }),
    })
    .default({
      cu: { margin: 40_000, commission: 20, max_limit_order_volume: 500, min_limit_order_volume: 1 },
      au: { margin: 64_000, commission: 10, max_limit_order_volume: 500, min_limit_order_volume: 1 },
      ag: { margin: 12_000, commission: 8, max_limit_order_volume: 500, min_limit_order_volume: 1 },
    }),
});
export type SimConfig = z.infer<typeof SimConfigSchema>;

/** An instant: epoch ns as a bigint, or exchange time text (`YYYY-MM-DD[ HH:MM[:SS]]`, CST). */
const InstantSchema = z.union([z.bigint(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'bigint') return v;
  try {
    return parseCst(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export const SimOptionsSchema = z
  .object({
    /** 0 picks a free port. The server always binds 127.0.0.1. */
    port: z.number().int().min(0).max(65535).default(7777),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(42),
    speed: z.number().positive().max(1_000_000).default(1),
    clock: z.enum(['realtime', 'accelerated', 'replay']).default('realtime'),
    start: InstantSchema.optional(),
    end: InstantSchema.optional(),
    historyFrom: z.string().refine(isIsoDay, 'expected an ISO date YYYY-MM-DD').default('2024-01-02'),
    fillPrice: z.enum(['opposite', 'limit']).default('opposite'),
    partialFills: z.boolean().default(false),
    maintenance: z.enum(['daily', 'off']).default('daily'),
    skipIdle: z.boolean().default(false),
    /** The dev token; default derived from the fixed claims (`defaultDevToken()`). */
    token: z.string().regex(/^\S+$/, 'no whitespace').optional(),
    /** Any `user_name` logs in with `password == user_name`. */
    openAccounts: z.boolean().default(false),
    /** Send `{"aid":"rsp_login",...}` before the md greeting (tolerance tests). */
    legacyGreeting: z.boolean().default(false),
    /** Hold every `rtn_data` this long from the start (the `delay` fault, without an end). */
    delayMs: z.number().int().min(0).max(600_000).optional(),
    /** `$GHTRADER_HOME`; ledgers persist under `<home>/sim/accounts/`. Absent: ledgers live in memory only. */
    home: z.string().min(1).optional(),
    /** Wall-clock interval of the market loop in realtime and accelerated modes. */
    tickIntervalMs: z.number().int().min(5).max(1000).default(50),
    config: SimConfigSchema.default(SimConfigSchema.parse({})),
  })
  .superRefine((o, ctx) => {
    if (o.clock === 'realtime' && o.speed !== 1) {
      ctx.addIssue({ code: 'custom', path: ['speed'], message: 'the realtime clock runs at speed 1' });
    }
    if (o.clock === 'replay' && (o.start === undefined || o.end === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['start'], message: 'the replay clock needs --start and --end' });
    }
    if (o.clock === 'realtime' && o.start !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['start'], message: '--start needs --clock accelerated or replay' });
    }
    if (o.start !== undefined && o.end !== undefined && o.end <= o.start) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: '--end must lie after --start' });
    }
    if (o.skipIdle && o.clock !== 'accelerated') {
      ctx.addIssue({ code: 'custom', path: ['skipIdle'], message: '--skip-idle needs --clock accelerated' });
    }
  });
export type SimOptionsInput = z.input<typeof SimOptionsSchema>;
export type SimOptions = z.output<typeof SimOptionsSchema>;

/** Parse options; throws `SimConfigError` naming every bad option. */
export function parseSimOptions(input: unknown): SimOptions {
  const r = SimOptionsSchema.safeParse(input);
  if (r.success) return r.data;
  const text = r.error.issues.map((i) => `${i.path.map(String).join('.') || 'options'}: ${i.message}`).join('; ');
  throw new SimConfigError(`invalid simulator options: ${text}`, { details: { issues: r.error.issues } });
}
