/**
 * The simulator's clock (market-protocol §2.7). It only says what "now" is; the market driver moves the market up to
 * that instant and fires timers (settlement, maintenance, quote refresh) as time crosses them.
 *
 * - `realtime`: now = wall clock; speed must be 1.
 * - `accelerated`: now = start + (wall − launch) × speed (+ the jumps `--skip-idle` makes).
 * - `replay`: now moves only when the driver advances it (one market step per md peek).
 *
 * With an end, now never passes it and `finished` turns true there.
 */

export type ClockMode = 'realtime' | 'accelerated' | 'replay';

/** Epoch-ns wall time source; injected so tests pin it. */
export type WallNs = () => bigint;

export const systemWallNs: WallNs = () => BigInt(Date.now()) * 1_000_000n;

export interface SimClockOptions {
  mode: ClockMode;
  speed: number;
  /** Required for `replay`; `accelerated` defaults to the wall clock at launch. Ignored by `realtime`. */
  startNs?: bigint | undefined;
  endNs?: bigint | undefined;
  wall?: WallNs;
}

export interface ClockInfo {
  mode: ClockMode;
  now_ns: string;
  speed: number;
  trading_day: string;
  finished: boolean;
}

export class SimClock {
  readonly mode: ClockMode;
  readonly speed: number;
  readonly startNs: bigint;
  readonly endNs: bigint | undefined;
  private readonly wall: WallNs;
  private readonly launchWallNs: bigint;
  /** Accelerated: sim time added by skip-idle jumps. */
  private skippedNs = 0n;
  /** Replay: the current instant. */
  private replayNs: bigint;

  constructor(opts: SimClockOptions) {
    this.mode = opts.mode;
    this.speed = opts.speed;
    this.wall = opts.wall ?? systemWallNs;
    this.launchWallNs = this.wall();
    if (opts.mode === 'realtime' && opts.speed !== 1) {
      throw new RangeError(`the realtime clock runs at speed 1, got --speed ${opts.speed}`);
    }
    if (!(opts.speed > 0) || !Number.isFinite(opts.speed)) {
      throw new RangeError(`--speed must be a positive number, got ${opts.speed}`);
    }
    if (opts.mode === 'replay' && opts.startNs === undefined) {
      throw new RangeError('the replay clock needs --start');
    }
    this.startNs = opts.mode === 'realtime' ? this.launchWallNs : (opts.startNs ?? this.launchWallNs);
    this.endNs = opts.endNs;
    if (this.endNs !== undefined && this.endNs < this.startNs) {
      throw new RangeError('--end lies before --start');
    }
    this.replayNs = this.startNs;
  }

  /** The instant the simulator should have reached by now (never past the end). */
  now(): bigint {
    let t: bigint;
    switch (this.mode) {
      case 'realtime':
        t = this.wall();
        break;
      case 'accelerated': {
        const elapsed = this.wall() - this.launchWallNs;
        const scaled = this.speed === 1 ? elapsed : BigInt(Math.round(Number(elapsed) * this.speed));
        t = this.startNs + scaled + this.skippedNs;
        break;
      }
      case 'replay':
        t = this.replayNs;
        break;
    }
    return this.endNs !== undefined && t > this.endNs ? this.endNs : t;
  }

  get finished(): boolean {
    return this.endNs !== undefined && this.now() >= this.endNs;
  }

  /** Replay: move now forward to `ns` (clamped to the end). Earlier instants are ignored. */
  advanceReplay(ns: bigint): void {
    if (this.mode !== 'replay') throw new Error('advanceReplay is for the replay clock only');
    const target = this.endNs !== undefined && ns > this.endNs ? this.endNs : ns;
    if (target > this.replayNs) this.replayNs = target;
  }

  /** Accelerated (`--skip-idle`): jump forward so that now equals `ns`. Earlier instants are ignored. */
  skipTo(ns: bigint): void {
    if (this.mode !== 'accelerated') throw new Error('skipTo is for the accelerated clock only');
    const now = this.now();
    if (ns > now) this.skippedNs += ns - now;
  }

  info(tradingDay: string): ClockInfo {
    return {
      mode: this.mode,
      now_ns: this.now().toString(),
      speed: this.speed,
      trading_day: tradingDay,
      finished: this.finished,
    };
  }
}
