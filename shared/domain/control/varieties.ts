import * as z from 'zod';

/** The SHFE varieties ghtrader trades: copper, gold, silver. */
export const VARIETIES = ['cu', 'au', 'ag'] as const;
export const VarietySchema = z.enum(VARIETIES);
export type Variety = z.infer<typeof VarietySchema>;

/** A job's variety, or `none` for jobs that are not about one variety. */
export const JobVarSchema = z.enum([...VARIETIES, 'none']);
export type JobVar = z.infer<typeof JobVarSchema>;
