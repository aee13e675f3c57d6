/**
 * SHFE close split (market-protocol §1.10). On SHFE `CLOSETODAY` closes today's position and `CLOSE` closes
 * yesterday's (his); a close of N lots is therefore split into a CLOSETODAY leg first, then a CLOSE leg.
 */
import { GhtraderError } from '../../errors/base.ts';

export type PositionSide = 'long' | 'short';

/** The position fields the split needs (a `Position` satisfies it). */
export interface ClosablePosition {
  volume_long_today: number;
  volume_long_his: number;
  volume_long_frozen_today: number;
  volume_long_frozen_his: number;
  volume_short_today: number;
  volume_short_his: number;
  volume_short_frozen_today: number;
  volume_short_frozen_his: number;
}

export interface CloseLeg {
  offset: 'CLOSETODAY' | 'CLOSE';
  volume: number;
}

/**
 * Not enough closable volume (today + his, minus frozen) for the requested close. Area `trading`; it moves under the
 * trading area's base error once `shared/errors/trading.ts` exists.
 */
export class InsufficientPositionError extends GhtraderError {
  readonly area = 'trading';
  constructor(side: PositionSide, volume: number, today: number, his: number) {
    super(
      'insufficient_position',
      `cannot close ${volume} ${side} lots: ${today} today + ${his} his available (frozen volume excluded)`,
      { details: { side, volume, available_today: today, available_his: his } },
    );
  }
}

function avail(total: number, frozen: number): number {
  const v = (Number.isFinite(total) ? total : 0) - (Number.isFinite(frozen) ? frozen : 0);
  return v > 0 ? v : 0;
}

/**
 * Split closing `volume` lots of the `side` position into `[CLOSETODAY min(today − frozen_today, volume), CLOSE rest]`,
 * zero-volume legs omitted. Throws `InsufficientPositionError` when today + his available < volume, and a
 * `RangeError` when `volume` is not a positive integer.
 *
 * @example splitShfeClose(pos /* 1 today, 2 his *\/, 'long', 3) // [{offset:'CLOSETODAY',volume:1},{offset:'CLOSE',volume:2}]
 */
export function splitShfeClose(position: ClosablePosition, side: PositionSide, volume: number): CloseLeg[] {
  if (!Number.isInteger(volume) || volume <= 0) {
    throw new RangeError(`close volume must be a positive integer, found ${volume}`);
  }
  const today =
    side === 'long'
      ? avail(position.volume_long_today, position.volume_long_frozen_today)
      : avail(position.volume_short_today, position.volume_short_frozen_today);
  const his =
    side === 'long'
      ? avail(position.volume_long_his, position.volume_long_frozen_his)
      : avail(position.volume_short_his, position.volume_short_frozen_his);
  if (today + his < volume) throw new InsufficientPositionError(side, volume, today, his);
  const first = Math.min(today, volume);
  const legs: CloseLeg[] = [];
  if (first > 0) legs.push({ offset: 'CLOSETODAY', volume: first });
  if (volume - first > 0) legs.push({ offset: 'CLOSE', volume: volume - first });
  return legs;
}
