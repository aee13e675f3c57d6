/** The SHFE varieties ghtrader trades, as the market domain sees them (one list, owned by the control domain). */
import { UnknownVarietyError } from '../../errors/market.ts';
import { VARIETIES, type Variety, VarietySchema } from '../control/varieties.ts';

export { VARIETIES, type Variety, VarietySchema };

/** Whether `value` is one of `cu`, `au`, `ag` (exact, lower-case). */
export function isVariety(value: unknown): value is Variety {
  return typeof value === 'string' && (VARIETIES as readonly string[]).includes(value);
}

/** `value` as a `Variety`, or `UnknownVarietyError`. */
export function parseVariety(value: unknown): Variety {
  if (!isVariety(value)) throw new UnknownVarietyError(value);
  return value;
}
