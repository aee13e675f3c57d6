/**
 * Generator parameters per variety (market-protocol §2.3). These are simulator inputs, not exchange facts; the
 * simulator's config file may override them (validated with `GeneratorParamsSchema`). Units: prices in CNY per
 * exchange unit, volumes and open interest in lots, time in trading days unless a name says otherwise.
 */
import * as z from 'zod';

const range = z
  .tuple([z.number(), z.number()])
  .refine(([lo, hi]) => Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi, { message: 'expected [lo, hi]' });

/** How open interest and volume are spread over the listed contracts of a variety. */
export const DominanceSchema = z.discriminatedUnion('kind', [
  /**
   * Every month alike: a bump in trading days to expiry peaking at `peak` with width `width`; consecutive
   * months cross about `peak − 10` days before the older one expires, so the main rolls monthly (cu).
   */
  z.object({ kind: z.literal('monthly'), peak: z.number().positive(), width: z.number().positive() }),
  /**
   * `major_months` carry the weight (others `minor_weight`); a logistic rise centred `rise_at` days before
   * expiry (scale `rise_scale`) times a logistic fall centred `fall_at` days before expiry (scale `fall_scale`).
   * Two majors six months apart cross about `fall_at` days before the older one expires (au, ag).
   */
  z.object({
    kind: z.literal('semiannual'),
    major_months: z.array(z.number().int().min(1).max(12)).min(1),
    minor_weight: z.number().positive().max(1),
    rise_at: z.number().positive(),
    rise_scale: z.number().positive(),
    fall_at: z.number().positive(),
    fall_scale: z.number().positive(),
  }),
]);

export const VarietyParamsSchema = z.object({
  /** Every generated price stays inside this band (CNY). */
  band: range,
  /** Daily σ of the anchor's log price. */
  daily_sigma: z.number().positive().max(0.05),
  /** Fraction of the log distance to the band centre recovered per trading day. */
  mean_reversion: z.number().min(0).max(0.5),
  /** Overnight gap σ as a fraction of `daily_sigma`. */
  gap_sigma: z.number().min(0).max(1),
  /** Intraday diffusion of the Brownian bridge as a fraction of `daily_sigma`. */
  intraday_sigma: z.number().min(0).max(2),
  /** Term-structure spread per month to delivery (CNY), slowly varying inside this range. */
  spread_per_month: range,
  /** Largest absolute constant per-contract offset (ticks). */
  contract_offset_ticks: z.number().int().min(0),
  /** Stationary σ of each contract's own micro noise around the variety path (ticks). */
  micro_noise_ticks: z.number().min(0),
  /** Probability that ask1 − bid1 is 2 ticks (3 ticks with a quarter of that). */
  wide_spread_prob: z.number().min(0).max(0.5),
  /** Probability of a one-tick hole between consecutive levels 2..5. */
  hole_prob: z.number().min(0).max(0.5),
  /** Depth per level of the contract with the largest OI (lots); others scale by their OI share. */
  main_depth: range,
  /** Day-end OI of the dominant contract around the middle of its reign (lots). */
  main_open_interest: range,
  /** Day volume of the dominant contract around the middle of its reign (lots). */
  main_volume: range,
  /** Share of a dominant contract's OI (volume: its square) that a far or expiring contract keeps. */
  oi_floor: z.number().min(0).max(0.5),
  volume_floor: z.number().min(0).max(0.5),
  dominance: DominanceSchema,
  /** Probability that a tick carries no trade before volumes are allotted (the main's idle ticks). */
  idle_tick_prob: z.number().min(0).max(0.95),
});

export const GeneratorParamsSchema = z.object({
  /** Fraction of slots missing in isolation in the main contract (far months more, see `gap_far_factor`). */
  isolated_gap_rate: z.number().min(0).max(0.01),
  /** Probability of one 10–120 s outage in a session of the main contract. */
  outage_prob: z.number().min(0).max(0.1),
  /** Gap rates scale by 1 + factor × (1 − OI share): far months miss more. */
  gap_far_factor: z.number().min(0).max(5),
  /** Price-limit fraction around pre_settlement (sim input, §2.2). */
  limit_fraction: z.number().positive().max(0.2),
  varieties: z.object({ cu: VarietyParamsSchema, au: VarietyParamsSchema, ag: VarietyParamsSchema }),
});
export type VarietyParams = z.infer<typeof VarietyParamsSchema>;
export type GeneratorParams = z.infer<typeof GeneratorParamsSchema>;

const semiannual = (): GeneratorParams['varieties']['au']['dominance'] => ({
  kind: 'semiannual',
  major_months: [6, 12],
  minor_weight: 0.18,
  rise_at: 150,
  rise_scale: 25,
  fall_at: 30,
  fall_scale: 6,
});

/** The defaults of market-protocol §2.2–2.3. */
export const DEFAULT_GENERATOR_PARAMS: GeneratorParams = {
  isolated_gap_rate: 0.003,
  outage_prob: 0.02,
  gap_far_factor: 2,
  limit_fraction: 0.08,
  varieties: {
    cu: {
      band: [70_000, 80_000],
      daily_sigma: 0.01,
      mean_reversion: 0.02,
      gap_sigma: 0.25,
      intraday_sigma: 0.7,
      spread_per_month: [-100, 100],
      contract_offset_ticks: 2,
      micro_noise_ticks: 0.4,
      wide_spread_prob: 0.04,
      hole_prob: 0.05,
      main_depth: [5, 60],
      main_open_interest: [150_000, 250_000],
      main_volume: [60_000, 150_000],
      oi_floor: 0.02,
      volume_floor: 0.004,
      dominance: { kind: 'monthly', peak: 35, width: 20 },
      idle_tick_prob: 0.3,
    },
    au: {
      band: [550, 650],
      daily_sigma: 0.01,
      mean_reversion: 0.02,
      gap_sigma: 0.25,
      intraday_sigma: 0.7,
      spread_per_month: [1.0, 2.5],
      contract_offset_ticks: 5,
      micro_noise_ticks: 1.5,
      wide_spread_prob: 0.12,
      hole_prob: 0.08,
      main_depth: [2, 40],
      main_open_interest: [120_000, 220_000],
      main_volume: [80_000, 250_000],
      oi_floor: 0.03,
      volume_floor: 0.003,
      dominance: semiannual(),
      idle_tick_prob: 0.25,
    },
    ag: {
      band: [7_000, 8_500],
      daily_sigma: 0.015,
      mean_reversion: 0.02,
      gap_sigma: 0.25,
      intraday_sigma: 0.7,
      spread_per_month: [10, 30],
      contract_offset_ticks: 3,
      micro_noise_ticks: 0.8,
      wide_spread_prob: 0.05,
      hole_prob: 0.06,
      main_depth: [20, 400],
      main_open_interest: [300_000, 600_000],
      main_volume: [300_000, 900_000],
      oi_floor: 0.03,
      volume_floor: 0.003,
      dominance: semiannual(),
      idle_tick_prob: 0.15,
    },
  },
};
